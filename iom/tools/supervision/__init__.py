"""Supervision of `make run` and `make topology` by supervisord (docs/deploy.md).

supervisord (the `supervisor` package) starts every process, restarts one that exits
without being asked to (a crash, a kill, even exit status 0), with its back-off for
processes that die while starting (1 s, 2 s, ... 5 s, then FATAL), and stops them all on
Ctrl-C. The event listener (`listen`, listener.py) adds a limit: more than
`--max-restarts` (5) restarts of one process within `--window` (60) seconds, or a
FATAL, pauses that process for `--cooldown` (30) seconds, doubling per repeated pause
up to `--max-cooldown` (300), then starts it again. It logs every restart with the
exit status to STATE/logs/restarts.log and keeps the counts in STATE/restarts.json.

    python -m iom.tools.supervision config run STATE           STATE/supervisord.conf
    python -m iom.tools.supervision config topology STATE ...  the same, topology.sh
    python -m iom.tools.supervision status [STATE ...]         state, restarts, health
    python -m iom.tools.supervision start|stop|restart STATE NAME ...
    python -m iom.tools.supervision ping|shutdown STATE
    python -m iom.tools.supervision listen --state STATE       (started by supervisord)

Without STATE, `status` looks at $VAR_DIR/run (make run) and $TOPOLOGY_DIR
(make topology, default $VAR_DIR/topology).

The modules: programs.py (what runs, supervisord.conf), control.py (a running
supervisord, over its socket), listener.py (the restart limit), status.py (the
table of `make status`), cli.py (the command line; __main__.py runs it).
"""

from iom.tools.supervision.cli import main
from iom.tools.supervision.control import (
    alive,
    connect,
    restart_records,
    shutdown,
    with_fault,
)
from iom.tools.supervision.listener import (
    EXITED,
    Listener,
    RestartLimit,
    last_exit,
    listen,
)
from iom.tools.supervision.programs import (
    BIN,
    CONSOLE_PYTHON,
    COOLDOWN,
    LISTENER,
    LOG_BACKUPS,
    LOG_BYTES,
    MAX_COOLDOWN,
    MAX_RESTARTS,
    PAUSE_RESET,
    POLICY,
    ROOT,
    START_RETRIES,
    USER,
    WINDOW,
    Program,
    listener_command,
    quote,
    render,
    run_env,
    run_programs,
    topology_programs,
    write_config,
)
from iom.tools.supervision.status import (
    clock,
    default_states,
    duration,
    print_status,
    status_rows,
)

__all__ = [
    "BIN",
    "CONSOLE_PYTHON",
    "COOLDOWN",
    "EXITED",
    "LISTENER",
    "LOG_BACKUPS",
    "LOG_BYTES",
    "MAX_COOLDOWN",
    "MAX_RESTARTS",
    "PAUSE_RESET",
    "POLICY",
    "ROOT",
    "START_RETRIES",
    "USER",
    "WINDOW",
    "Listener",
    "Program",
    "RestartLimit",
    "alive",
    "clock",
    "connect",
    "default_states",
    "duration",
    "last_exit",
    "listen",
    "listener_command",
    "main",
    "print_status",
    "quote",
    "render",
    "restart_records",
    "run_env",
    "run_programs",
    "shutdown",
    "status_rows",
    "topology_programs",
    "with_fault",
    "write_config",
]
