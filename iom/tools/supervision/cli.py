"""The command line: `python -m iom.tools.supervision COMMAND ...`.

The commands are listed in the package's docstring (iom/tools/supervision/__init__.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from iom.core import settings
from iom.tools.supervision.control import alive, shutdown, start_stop
from iom.tools.supervision.listener import listen
from iom.tools.supervision.programs import (
    COOLDOWN,
    MAX_COOLDOWN,
    MAX_RESTARTS,
    WINDOW,
    run_env,
    run_programs,
    topology_programs,
    write_config,
)
from iom.tools.supervision.status import status

DESCRIPTION = "Supervision of `make run` and `make topology` by supervisord."


def parser() -> argparse.ArgumentParser:
    """Every subcommand and its arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m iom.tools.supervision", description=DESCRIPTION
    )
    commands = parser.add_subparsers(dest="command", required=True)
    config = commands.add_parser("config", help="write STATE/supervisord.conf")
    kinds = config.add_subparsers(dest="kind", required=True)
    run = kinds.add_parser("run", help="make run (scripts/run.sh)")
    run.add_argument("state")
    topology = kinds.add_parser("topology", help="make topology (scripts/topology.sh)")
    topology.add_argument("state")
    topology.add_argument("--instances", type=int, required=True)
    topology.add_argument("--base-port", type=int, required=True)
    topology.add_argument("--pg-bin", required=True)
    topology.add_argument("--pg-port", type=int, required=True)
    topology.add_argument("--redis-port", type=int, required=True)
    topology.add_argument("--endpoints", required=True)
    topology.add_argument("--action-host", default="127.0.0.1")
    topology.add_argument("--action-port", type=int, required=True)
    topology.add_argument("--host", default="127.0.0.1")
    topology.add_argument("--port", type=int, required=True)
    topology.add_argument("--cors", required=True)
    state = commands.add_parser("status", help="state and restarts of every process")
    state.add_argument("state", nargs="*")
    for verb in ("start", "stop", "restart"):
        command = commands.add_parser(verb, help=f"{verb} processes")
        command.add_argument("state")
        command.add_argument("names", nargs="+")
    for verb, text in (
        ("ping", "exit status 0 when a supervisord answers"),
        ("shutdown", "stop every process, then supervisord"),
    ):
        commands.add_parser(verb, help=text).add_argument("state")
    listener = commands.add_parser("listen", help="the event listener (supervisord)")
    listener.add_argument("--state", required=True)
    listener.add_argument("--max-restarts", type=int, default=MAX_RESTARTS)
    listener.add_argument("--window", type=float, default=WINDOW)
    listener.add_argument("--cooldown", type=float, default=COOLDOWN)
    listener.add_argument("--max-cooldown", type=float, default=MAX_COOLDOWN)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status."""
    args = parser().parse_args(argv)
    if args.command == "listen":
        return listen(args)
    if args.command == "config":
        if args.kind == "run":
            config = settings.current()
            env = run_env(config, enable_api=config.rasa_enable_api)
            programs, identifier = run_programs(env), "iom-run"
        else:
            programs, identifier = topology_programs(args), "iom-topology"
        print(write_config(programs, Path(args.state), identifier))
        return 0
    if args.command == "status":
        return status([Path(s) for s in args.state])
    state = Path(args.state)
    if args.command == "ping":
        return 0 if alive(state) else 1
    if args.command == "shutdown":
        return shutdown(state)
    return start_stop(state, args.command, args.names)
