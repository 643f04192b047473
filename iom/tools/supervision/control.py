"""Talking to a running supervisord over its unix socket (XML-RPC).

The password of the socket is in STATE/supervisord.conf (mode 0600), written by
programs.write_config.
"""

from __future__ import annotations

import configparser
import json
import os
import sys
import time
import xmlrpc.client
from pathlib import Path
from typing import Any

from iom.tools.supervision.programs import USER


def connect(state: Path) -> Any:
    """An XML-RPC proxy to the supervisord of state (over its unix socket)."""
    from supervisor.xmlrpc import SupervisorTransport

    config = configparser.RawConfigParser()
    config.read(state / "supervisord.conf")
    password = config.get("supervisorctl", "password", fallback="")
    transport = SupervisorTransport(
        USER if password else "", password, f"unix://{state.resolve()}/supervisor.sock"
    )
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport)


def alive(state: Path) -> bool:
    """Whether a supervisord answers on state's socket."""
    if not (state / "supervisor.sock").exists():
        return False
    try:
        return connect(state).supervisor.getState()["statename"] == "RUNNING"
    except (OSError, xmlrpc.client.Error):
        return False


def restart_records(state: Path) -> dict[str, dict[str, Any]]:
    """What the listener recorded per process (restarts, last exit, pause)."""
    try:
        return json.loads((state / "restarts.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def with_fault(call: Any, *args: Any) -> None:
    """Call an RPC; ALREADY_STARTED / NOT_RUNNING are fine."""
    try:
        call(*args)
    except xmlrpc.client.Fault as fault:
        if "ALREADY_STARTED" not in fault.faultString and "NOT_RUNNING" not in (
            fault.faultString
        ):
            raise


def start_stop(state: Path, command: str, names: list[str]) -> int:
    """start, stop or restart processes (stop waits until stopped, start does not)."""
    proxy = connect(state)
    for name in names:
        if command in ("stop", "restart"):
            with_fault(proxy.supervisor.stopProcess, name, True)
        if command in ("start", "restart"):
            with_fault(proxy.supervisor.startProcess, name, False)
    return 0


def shutdown(state: Path, seconds: float = 180) -> int:
    """Stop every process and supervisord itself; wait until it has exited."""
    if not alive(state):
        return 0
    pid = connect(state).supervisor.getPID()
    connect(state).supervisor.shutdown()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return 0
        time.sleep(0.2)
    print(f"supervisord {pid} did not stop in {seconds:.0f} s", file=sys.stderr)
    return 1
