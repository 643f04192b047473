"""Supervision of `make run` and `make topology` by supervisord (docs/deploy.md).

supervisord (the `supervisor` package) starts every process, restarts one that exits
without being asked to (a crash, a kill, even exit status 0), with its back-off for
processes that die while starting (1 s, 2 s, ... 5 s, then FATAL), and stops them all on
Ctrl-C. The event listener below (`listen`) adds a limit: more than
`--max-restarts` (5) restarts of one process within `--window` (60) seconds, or a
FATAL, pauses that process for `--cooldown` (30) seconds, doubling per repeated pause
up to `--max-cooldown` (300), then starts it again. It logs every restart with the
exit status to STATE/logs/restarts.log and keeps the counts in STATE/restarts.json.

    supervision.py config run STATE           STATE/supervisord.conf for make run
    supervision.py config topology STATE ...  the same for scripts/topology.sh
    supervision.py status [STATE ...]         state, restarts, last exit, health
    supervision.py start|stop|restart STATE NAME ...
    supervision.py ping|shutdown STATE
    supervision.py listen --state STATE       (started by supervisord itself)

Without STATE, `status` looks at $VAR_DIR/run (make run) and $TOPOLOGY_DIR
(make topology, default $VAR_DIR/topology).
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import re
import secrets
import shlex
import sys
import time
import xmlrpc.client
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from iom.core import settings
from iom.core.service_health import local, reachable

ROOT = settings.ROOT

BIN = ROOT / ".venv" / "bin"
CONSOLE_PYTHON = ROOT / ".venv-console" / "bin" / "python"
LISTENER = "restart-limit"
USER = "iom"  # of the control socket; the password is new for each start
# the restart policy (also in deploy/systemd/*.service: StartLimitBurst/IntervalSec)
MAX_RESTARTS, WINDOW, COOLDOWN, MAX_COOLDOWN = 5, 60.0, 30.0, 300.0
START_RETRIES = 5  # supervisord's back-off while starting: 1 s, 2 s, ... 5 s, FATAL
PAUSE_RESET = 600.0  # a pause this long after the last one starts at COOLDOWN again
POLICY = (MAX_RESTARTS, WINDOW, COOLDOWN, MAX_COOLDOWN)
LOG_BYTES, LOG_BACKUPS = "10MB", 3


@dataclass(frozen=True)
class Program:
    """One supervised process."""

    name: str
    command: list[str]
    health: str = ""  # URL (http:// or tcp://) that answers once it serves
    startsecs: int = 10  # must stay up this long to count as started
    stopsignal: str = "TERM"
    stopwaitsecs: int = 20  # then SIGKILL
    priority: int = 50  # started in ascending, stopped in descending order
    autostart: bool = True
    user: str = ""
    directory: Path = ROOT
    stopasgroup: bool = True


def quote(arg: str) -> str:
    """One command-line word for supervisord (shlex-split, `%` expands)."""
    if arg.startswith("%(ENV_"):  # expanded by supervisord from its environment
        return arg
    return shlex.quote(arg).replace("%", "%%")


def run_programs(env: Mapping[str, str]) -> list[Program]:
    """The processes of `make run` (scripts/run.sh), from the settings in env."""
    rasa, python = str(BIN / "rasa"), str(BIN / "python")
    api: list[str] = []
    if env.get("RASA_ENABLE_API", "0") == "1":  # run.sh checked the token
        api = ["--enable-api", "--auth-token", "%(ENV_RASA_API_TOKEN)s"]
    action_port, rasa_port = env["ACTION_PORT"], env["RASA_PORT"]
    widget = f"http://{local(env.get('WIDGET_HOST', '127.0.0.1'))}:{env['WIDGET_PORT']}"
    console = f"{local(env.get('CONSOLE_HOST', '127.0.0.1'))}:{env['CONSOLE_PORT']}"
    return [
        Program(
            "actions",
            [rasa, "run", "actions", "--port", action_port, "--actions", "actions"],
            health=f"http://{local(env['ACTION_HOST'])}:{action_port}/health",
            priority=20,
        ),
        Program(
            "rasa",
            [
                *(rasa, "run", "--model", "models/iom.tar.gz"),
                *("--interface", env["RASA_HOST"], "--port", rasa_port),
                *("--credentials", "credentials.yml", "--endpoints", "endpoints.yml"),
                *("--cors", *env["CORS_ORIGIN"].split()),
                *api,
            ],
            health=f"http://{local(env['RASA_HOST'])}:{rasa_port}/",
            priority=30,
        ),
        Program(
            "widget",
            [python, "-m", "iom.tools.widget_server", "--port", env["WIDGET_PORT"]],
            health=f"{widget}/healthz",
            startsecs=2,
            stopwaitsecs=10,
        ),
        Program(
            "console",
            [str(CONSOLE_PYTHON), "-m", "iom.console.cli", "serve"]
            + ["--port", env["CONSOLE_PORT"]],
            health=f"http://{console}/healthz",
            startsecs=3,
            stopwaitsecs=10,
        ),
        Program(
            "retention",
            [python, "-m", "iom.core.retention", "purge", "--every", "86400"],
            startsecs=3,
            stopwaitsecs=10,
            priority=60,
        ),
    ]


def topology_programs(args: argparse.Namespace) -> list[Program]:
    """The processes of scripts/topology.sh.

    All but PostgreSQL and Redis start when topology.sh has created the database
    (autostart off).
    """
    state = Path(args.state).resolve()
    rasa = str(BIN / "rasa")
    root = os.geteuid() == 0
    programs = [
        # PostgreSQL: SIGINT is its fast shutdown; signal the postmaster only
        Program(
            "postgresql",
            [
                f"{args.pg_bin}/postgres",
                *("-D", str(state / "pg"), "-p", str(args.pg_port)),
                *("-c", "listen_addresses=127.0.0.1", "-k", str(state / "pg")),
                *("-c", "max_connections=200"),
            ],
            health=f"tcp://127.0.0.1:{args.pg_port}",
            startsecs=5,
            stopsignal="INT",
            stopwaitsecs=60,
            priority=10,
            user="postgres" if root else "",  # PostgreSQL refuses to run as root
            directory=state,
            stopasgroup=False,
        ),
        Program(
            "redis",
            [
                *("redis-server", "--port", str(args.redis_port)),
                *("--bind", "127.0.0.1", "--requirepass", "%(ENV_REDIS_PASSWORD)s"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                *("--dir", str(state)),
            ],
            health=f"tcp://127.0.0.1:{args.redis_port}",
            startsecs=2,
            priority=10,
        ),
        Program(
            "actions",
            [rasa, "run", "actions", "--port", str(args.action_port)]
            + ["--actions", "actions"],
            health=f"http://{local(args.action_host)}:{args.action_port}/health",
            priority=20,
            autostart=False,
        ),
    ]
    for i in range(args.instances):
        port = args.base_port + i
        programs.append(
            Program(
                f"rasa-{port}",
                [
                    *(rasa, "run", "--model", "models/iom.tar.gz"),
                    *("--interface", "127.0.0.1", "--port", str(port)),
                    *("--credentials", "credentials.yml"),
                    *("--endpoints", args.endpoints, "--cors", *args.cors.split()),
                ],
                health=f"http://127.0.0.1:{port}/",
                priority=30,
                autostart=False,
            )
        )
    programs.append(
        Program(
            "nginx",
            ["nginx", "-c", str(state / "nginx.conf"), "-p", str(state)],
            health=f"http://{local(args.host)}:{args.port}/",
            startsecs=2,
            stopsignal="QUIT",  # graceful: finishes the requests in flight
            priority=40,
            autostart=False,
        )
    )
    return programs


def listener_command(state: Path, policy: Sequence[float] | None = None) -> list[str]:
    """The listener's command line (policy: max, window, cooldown, max cooldown)."""
    limit, window, cooldown, longest = policy or POLICY
    return [
        *(str(BIN / "python"), str(Path(__file__).resolve()), "listen"),
        *("--state", str(state), "--max-restarts", str(int(limit))),
        *("--window", str(window), "--cooldown", str(cooldown)),
        *("--max-cooldown", str(longest)),
    ]


def render(
    programs: Iterable[Program],
    state: Path,
    identifier: str,
    policy: Sequence[float] | None = None,
    password: str = "",
) -> str:
    """supervisord.conf for these programs, with its files in state.

    The control socket is its owner's only (0700) and, with a password, asks for it
    too (supervisorctl and this module read it from the file, mode 0600).
    """
    state = state.resolve()
    logs = state / "logs"
    login = [f"username={USER}", f"password={password}"] if password else []
    lines = [
        f"; {identifier}: written by iom/tools/supervision.py (docs/deploy.md)",
        "[unix_http_server]",
        f"file={state / 'supervisor.sock'}",
        "chmod=0700",
        *login,
        "",
        "[supervisord]",
        f"identifier={identifier}",
        f"logfile={state / 'supervisord.log'}",
        f"logfile_maxbytes={LOG_BYTES}",
        f"logfile_backups={LOG_BACKUPS}",
        "loglevel=info",
        f"pidfile={state / 'supervisord.pid'}",
        f"childlogdir={logs}",
        f"directory={ROOT}",
    ]
    if os.geteuid() == 0:
        lines.append("user=root")  # says so explicitly (else a warning at start)
    lines += [
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory ="
        " supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{state / 'supervisor.sock'}",
        *login,
        "",
        f"[eventlistener:{LISTENER}]",
        "command=" + " ".join(quote(a) for a in listener_command(state, policy)),
        "events=PROCESS_STATE,TICK_5",
        "buffer_size=100",
        "autorestart=true",
        "priority=1",
        f"stderr_logfile={logs / 'restarts.log'}",
        f"stderr_logfile_maxbytes={LOG_BYTES}",
        f"stderr_logfile_backups={LOG_BACKUPS}",
    ]
    for program in programs:
        lines += [
            "",
            f"[program:{program.name}]",
            "command=" + " ".join(quote(a) for a in program.command),
            f"directory={program.directory}",
            f"autostart={str(program.autostart).lower()}",
            "autorestart=true",  # any exit supervisord did not ask for
            f"startsecs={program.startsecs}",
            f"startretries={START_RETRIES}",
            f"stopsignal={program.stopsignal}",
            f"stopwaitsecs={program.stopwaitsecs}",
            f"stopasgroup={str(program.stopasgroup).lower()}",
            "killasgroup=true",
            f"priority={program.priority}",
            "redirect_stderr=true",
            f"stdout_logfile={logs / (program.name + '.log')}",
            f"stdout_logfile_maxbytes={LOG_BYTES}",
            f"stdout_logfile_backups={LOG_BACKUPS}",
        ]
        if program.user:
            lines.append(f"user={program.user}")
    return "\n".join(lines) + "\n"


def write_config(
    programs: list[Program],
    state: Path,
    identifier: str,
    policy: Sequence[float] | None = None,
) -> Path:
    """Write STATE/supervisord.conf and STATE/programs.json (health URLs for status)."""
    state = state.resolve()
    (state / "logs").mkdir(parents=True, exist_ok=True)
    conf = state / "supervisord.conf"
    text = render(programs, state, identifier, policy, secrets.token_urlsafe(24))
    conf.unlink(missing_ok=True)
    with os.fdopen(
        os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w"
    ) as f:
        f.write(text)
    health = {p.name: p.health for p in programs}
    (state / "programs.json").write_text(json.dumps(health, indent=1), "utf-8")
    return conf


# ---- talking to a running supervisord ------------------------------------------
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


# ---- the event listener -----------------------------------------------------------
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


# ---- command line -------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    config = commands.add_parser("config", help="write STATE/supervisord.conf")
    kinds = config.add_subparsers(dest="kind", required=True)
    kinds.add_parser("run").add_argument("state")
    topology = kinds.add_parser("topology")
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
    status = commands.add_parser("status", help="state and restarts of every process")
    status.add_argument("state", nargs="*")
    for verb in ("start", "stop", "restart"):
        command = commands.add_parser(verb, help=f"{verb} processes")
        command.add_argument("state")
        command.add_argument("names", nargs="+")
    for verb in ("ping", "shutdown"):
        commands.add_parser(verb).add_argument("state")
    listener = commands.add_parser("listen", help="the event listener (supervisord)")
    listener.add_argument("--state", required=True)
    listener.add_argument("--max-restarts", type=int, default=MAX_RESTARTS)
    listener.add_argument("--window", type=float, default=WINDOW)
    listener.add_argument("--cooldown", type=float, default=COOLDOWN)
    listener.add_argument("--max-cooldown", type=float, default=MAX_COOLDOWN)
    args = parser.parse_args(argv)

    if args.command == "listen":
        return listen(args)
    if args.command == "config":
        state = Path(args.state)
        if args.kind == "run":
            programs, identifier = run_programs(os.environ), "iom-run"
        else:
            programs, identifier = topology_programs(args), "iom-topology"
        print(write_config(programs, state, identifier))
        return 0
    if args.command == "status":
        states = [Path(s) for s in args.state] or default_states()
        found = [s for s in states if alive(s)]
        if not found:
            print("No supervisord is running (make run or make topology starts one).")
            return 3
        healthy = [print_status(state) for state in found]
        return 0 if all(healthy) else 1
    state = Path(args.state)
    if args.command == "ping":
        return 0 if alive(state) else 1
    proxy = connect(state)
    if args.command == "shutdown":
        return shutdown(state)
    for name in args.names:  # stop waits until stopped, start does not wait
        if args.command in ("stop", "restart"):
            with_fault(proxy.supervisor.stopProcess, name, True)
        if args.command in ("start", "restart"):
            with_fault(proxy.supervisor.startProcess, name, False)
    return 0


def with_fault(call: Any, *args: Any) -> None:
    """Call an RPC; ALREADY_STARTED / NOT_RUNNING are fine."""
    try:
        call(*args)
    except xmlrpc.client.Fault as fault:
        if "ALREADY_STARTED" not in fault.faultString and "NOT_RUNNING" not in (
            fault.faultString
        ):
            raise


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


if __name__ == "__main__":
    sys.exit(main())
