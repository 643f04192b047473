"""The event listener `restart-limit`: logs every restart, limits them (the policy).

supervisord starts it (`python -m iom.tools.supervision listen --state STATE ...`,
programs.listener_command) and talks to it over stdin/stdout; its log is stderr
(STATE/logs/restarts.log), its counts STATE/restarts.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import xmlrpc.client
from collections import deque
from pathlib import Path
from typing import Any, TextIO

from iom.tools.supervision.control import connect, restart_records
from iom.tools.supervision.programs import (
    COOLDOWN,
    LISTENER,
    MAX_COOLDOWN,
    MAX_RESTARTS,
    PAUSE_RESET,
    WINDOW,
)


class RestartLimit:
    """At most max_restarts restarts per window seconds, then a pause (the policy)."""

    def __init__(
        self,
        max_restarts: int = MAX_RESTARTS,
        window: float = WINDOW,
        cooldown: float = COOLDOWN,
        max_cooldown: float = MAX_COOLDOWN,
    ) -> None:
        self.max_restarts, self.window = max_restarts, window
        self.cooldown, self.max_cooldown = cooldown, max_cooldown
        self.recent: dict[str, deque[float]] = {}
        self.paused: dict[str, float] = {}  # name -> when to start it again
        self.pauses: dict[str, tuple[int, float]] = {}  # name -> (in a row, last)

    def crashed(self, name: str, now: float) -> float:
        """Record one unplanned exit: 0 = restart as usual, else pause that long."""
        times = self.recent.setdefault(name, deque())
        times.append(now)
        while times and times[0] <= now - self.window:
            times.popleft()
        return self.pause(name, now) if len(times) > self.max_restarts else 0.0

    def in_window(self, name: str) -> int:
        """Restarts of name within the last window."""
        return len(self.recent.get(name, ()))

    def pause(self, name: str, now: float) -> float:
        """Pause name: cooldown, doubled per pause in a row, at most max_cooldown."""
        count, last = self.pauses.get(name, (0, 0.0))
        if now - last > PAUSE_RESET:
            count = 0
        seconds = min(self.cooldown * 2**count, self.max_cooldown)
        self.pauses[name] = (count + 1, now)
        self.paused[name] = now + seconds
        self.recent.pop(name, None)
        return seconds

    def due(self, now: float) -> list[str]:
        """The paused processes to start again now."""
        names = [name for name, at in self.paused.items() if at <= now]
        for name in names:
            del self.paused[name]
        return names


EXITED = re.compile(r"exited: (\S+) \((.*)\)\s*$")


def last_exit(state: Path, name: str) -> str:
    """How name last exited, from supervisord's log ('terminated by SIGKILL; ...')."""
    try:
        with open(state / "supervisord.log", "rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(log.tell() - 16384, 0))
            tail = log.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "unknown"
    for line in reversed(tail):
        match = EXITED.search(line)
        if match and match.group(1) == name:
            return match.group(2)
    return "unknown"


class Listener:
    """supervisord event listener: logs restarts, enforces RestartLimit."""

    def __init__(self, state: Path, limit: RestartLimit, rpc: Any, err: TextIO) -> None:
        self.state, self.limit, self.rpc, self.err = state, limit, rpc, err
        self.records = restart_records(state)
        now = time.time()
        for name, record in self.records.items():  # a restarted listener goes on
            if record.get("paused_until"):
                self.limit.paused[name] = max(record["paused_until"], now)

    def log(self, text: str) -> None:
        """One line in STATE/logs/restarts.log."""
        self.err.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}\n")
        self.err.flush()

    def save(self) -> None:
        """Write STATE/restarts.json atomically."""
        temporary = self.state / "restarts.json.tmp"
        temporary.write_text(json.dumps(self.records, indent=1), "utf-8")
        temporary.replace(self.state / "restarts.json")

    def handle(self, event: str, headers: dict[str, str], now: float) -> None:
        """React to one event."""
        name = headers.get("processname", "")
        if name == LISTENER:
            return
        if event in ("PROCESS_STATE_EXITED", "PROCESS_STATE_BACKOFF"):
            self.crashed(name, now, event == "PROCESS_STATE_BACKOFF")
        elif event == "PROCESS_STATE_FATAL":
            seconds = self.limit.pause(name, now)
            self.log(
                f"{name}: supervisord gave up (FATAL: it kept exiting while starting);"
                f" starting it again in {seconds:.0f} s"
            )
            self.records.setdefault(name, {})["paused_until"] = now + seconds
            self.save()
        elif event.startswith("TICK_"):
            for name in self.limit.due(now):
                self.records.setdefault(name, {})["paused_until"] = None
                self.save()
                try:
                    self.rpc.supervisor.startProcess(name, False)
                    self.log(f"{name}: pause over, starting it again")
                except xmlrpc.client.Fault as fault:  # started by hand meanwhile
                    self.log(f"{name}: pause over ({fault.faultString})")

    def crashed(self, name: str, now: float, starting: bool) -> None:
        """An exit supervisord did not ask for: count, log, maybe pause."""
        how = last_exit(self.state, name)
        record = self.records.setdefault(name, {})
        record["restarts"] = record.get("restarts", 0) + 1
        record["last_exit"] = how + ("; while starting" if starting else "")
        record["last_exit_at"] = now
        pause = self.limit.crashed(name, now)
        if not pause:
            self.log(
                f"{name}: exited ({how}), restart {record['restarts']}"
                f" ({self.limit.in_window(name)} in the last {self.limit.window:.0f} s)"
            )
        else:
            record["paused_until"] = now + pause
            self.log(
                f"{name}: exited ({how}), more than {self.limit.max_restarts} restarts"
                f" in {self.limit.window:.0f} s: paused for {pause:.0f} s"
            )
            try:
                self.rpc.supervisor.stopProcess(name, False)
            except xmlrpc.client.Fault as fault:  # already stopped
                self.log(f"{name}: {fault.faultString}")
        self.save()


def listen(args: argparse.Namespace) -> int:
    """The event listener loop (supervisord starts it; stdout is its protocol)."""
    from supervisor import childutils

    state = Path(args.state)
    limit = RestartLimit(
        args.max_restarts, args.window, args.cooldown, args.max_cooldown
    )
    listener = Listener(state, limit, connect(state), sys.stderr)  # password: conf
    listener.log(
        f"listening: at most {args.max_restarts} restarts in {args.window:.0f} s per"
        f" process, then a pause of {args.cooldown:.0f} s (doubling, at most"
        f" {args.max_cooldown:.0f} s)"
    )
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        event = headers.get("eventname", "")
        fields = childutils.get_headers(payload.split("\n", 1)[0]) if payload else {}
        try:
            listener.handle(event, fields, time.time())
        except Exception as error:  # noqa: BLE001 (never block supervisord's events)
            listener.log(f"error on {event}: {error!r}")
        childutils.listener.ok(sys.stdout)
