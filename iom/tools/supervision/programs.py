"""What supervisord runs under `make run` and `make topology`, and its configuration.

The processes (`run_programs`, `topology_programs`), the restart policy and the
rendering of STATE/supervisord.conf (`render`, `write_config`).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from iom.core import settings
from iom.core.service_health import local

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


def run_env(config: settings.Settings, enable_api: bool = False) -> dict[str, str]:
    """The settings `run_programs` needs, as the strings of scripts/env.sh.

    enable_api: Rasa's HTTP API on (scripts/run.sh has checked RASA_API_TOKEN).
    """
    return {
        "RASA_ENABLE_API": "1" if enable_api else "0",
        "RASA_HOST": config.rasa_host,
        "RASA_PORT": str(config.rasa_port),
        "ACTION_HOST": config.action_host,
        "ACTION_PORT": str(config.action_port),
        "WIDGET_HOST": config.widget_host,
        "WIDGET_PORT": str(config.widget_port),
        "CONSOLE_HOST": config.console_host,
        "CONSOLE_PORT": str(config.console_port),
        # no origins in the settings: no origin check, Rasa's "*"
        "CORS_ORIGIN": " ".join(config.cors_origins) or "*",
    }


def run_programs(env: Mapping[str, str]) -> list[Program]:
    """The processes of `make run` (scripts/run.sh), from the settings in env.

    env: strings as `run_env` gives them (the tests pass systemd's placeholders).
    """
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
    # Rasa's HTTP API on 127.0.0.1 only, for the learning loop's live swap
    # (PUT /model, docs/nlu.md); topology.sh checked the token as run.sh does.
    api: list[str] = []
    if settings.current().rasa_enable_api:
        api = ["--enable-api", "--auth-token", "%(ENV_RASA_API_TOKEN)s"]
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
                    *api,
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
        *(str(BIN / "python"), "-m", "iom.tools.supervision", "listen"),
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
    too (supervisorctl and control.py read it from the file, mode 0600).
    """
    state = state.resolve()
    logs = state / "logs"
    login = [f"username={USER}", f"password={password}"] if password else []
    lines = [
        f"; {identifier}: written by iom/tools/supervision (docs/deploy.md)",
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
        f"directory={ROOT}",
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
