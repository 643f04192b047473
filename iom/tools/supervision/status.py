"""`make status`: one table per running supervisord (state, restarts, health)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from iom.core import settings
from iom.core.service_health import reachable
from iom.tools.supervision.control import alive, connect, restart_records
from iom.tools.supervision.programs import ROOT


def duration(seconds: float) -> str:
    """12:03:04 style."""
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def clock(timestamp: float | None) -> str:
    """A local wall-clock time, or empty."""
    return (
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))
        if timestamp
        else ""
    )


def status_rows(state: Path) -> list[dict[str, Any]]:
    """One row per supervised process: state, pid, uptime, restarts, exit, health."""
    try:
        health = json.loads((state / "programs.json").read_text("utf-8"))
    except (OSError, ValueError):
        health = {}
    records = restart_records(state)
    rows = []
    for info in connect(state).supervisor.getAllProcessInfo():
        name = info["name"]
        record = records.get(name, {})
        url = health.get(name, "")
        paused = record.get("paused_until") or 0
        rows.append(
            {
                "name": name,
                "state": info["statename"],
                "pid": info["pid"] or "",
                "uptime": duration(info["now"] - info["start"])
                if info["statename"] == "RUNNING"
                else "",
                "restarts": record.get("restarts", 0),
                "last_exit": (
                    f"{record['last_exit']} at {clock(record.get('last_exit_at'))}"
                    if record.get("last_exit")
                    else ""
                ),
                "paused_until": clock(paused) if paused > time.time() else "",
                "health": ("up" if reachable(url) else "down") if url else "",
            }
        )
    return rows


def print_status(state: Path, out: TextIO = sys.stdout) -> bool:
    """Print the table for one supervisord; True when every process is RUNNING."""
    proxy = connect(state)
    identifier = proxy.supervisor.getIdentification()
    pid = proxy.supervisor.getPID()
    rows = status_rows(state)
    print(f"{identifier}: supervisord pid {pid}, state {state}", file=out)
    header = ("process", "state", "pid", "uptime", "restarts", "health", "last exit")
    table = [header] + [
        (
            r["name"],
            r["state"]
            + (f" (paused until {r['paused_until']})" if r["paused_until"] else ""),
            str(r["pid"]),
            r["uptime"],
            str(r["restarts"]),
            r["health"],
            r["last_exit"],
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print(
            "  "
            + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(),
            file=out,
        )
    print(
        f"  logs: {state / 'logs'}/<process>.log;"
        f" restarts: {state / 'logs' / 'restarts.log'}",
        file=out,
    )
    return all(r["state"] == "RUNNING" for r in rows)


def default_states() -> list[Path]:
    """Where make run and make topology keep their supervisord."""
    config = settings.current()
    var, topology = config.var_dir, config.topology_dir
    if not topology.is_absolute():
        topology = ROOT / topology
    return [var / "run", topology]


def status(states: list[Path], out: TextIO | None = None) -> int:
    """Print every running supervisord's table (default: make run's, make topology's).

    0 when every process is RUNNING, 1 when one is not, 3 when none is supervised.
    """
    out = out or sys.stdout
    found = [s for s in states or default_states() if alive(s)]
    if not found:
        print(
            "No supervisord is running (make run or make topology starts one).",
            file=out,
        )
        return 3
    healthy = [print_status(state, out) for state in found]
    return 0 if all(healthy) else 1
