"""Console commands: `python -m iom.console.cli COMMAND` (serve, users, migrate, sync).

There is no default account and no default password: an administrator creates each
account with `create-user` (password typed twice at a prompt, or one line on stdin
with `--password-stdin` for scripts).

`serve` indexes new tracker events in the background every `--sync-seconds` (5);
`sync` indexes them once, for cron when the server runs with `--sync-seconds 0`.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from iom.console import auth, tracker
from iom.console.config import Settings
from iom.core import db, settings


def _url(args: argparse.Namespace) -> str:
    url = args.url or settings.current().tracker_url
    if not url:
        sys.exit("set TRACKER_URL or pass --url")
    return url


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        sys.exit("The passwords differ.")
    return password


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(
        prog="console", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--url", help="database URL (default: TRACKER_URL)")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web console")
    serve.add_argument("--host", default=settings.current().console_host)
    serve.add_argument("--port", type=int, default=settings.current().console_port)
    serve.add_argument(
        "--sync-seconds",
        type=float,
        default=settings.current().console_sync_seconds,
        help="index new tracker events this often (default %(default)s; 0: never,"
        " then run `sync` from cron)",
    )
    user = commands.add_parser("create-user", help="add an operator or admin account")
    user.add_argument("username")
    user.add_argument("--role", choices=auth.ROLES, default="operator")
    user.add_argument("--password-stdin", action="store_true")
    revoke = commands.add_parser(
        "revoke-user", help="disable an account at once and end its sessions"
    )
    revoke.add_argument("username")
    restore = commands.add_parser(
        "restore-user", help="enable a disabled account with a new password"
    )
    restore.add_argument("username")
    restore.add_argument("--password-stdin", action="store_true")
    commands.add_parser("migrate", help="create or upgrade the console's tables")
    commands.add_parser(
        "sync", help="index new tracker events now (e.g. from cron), then exit"
    )
    args = parser.parse_args(argv)
    url = _url(args)

    if args.command == "serve":
        import uvicorn

        from iom.console.app import create_app

        app = create_app(Settings(database_url=url, sync_seconds=args.sync_seconds))
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level="warning",
            server_header=False,
            # the live event streams never end by themselves: stop waiting for them
            timeout_graceful_shutdown=3,
        )
        return 0
    db.migrate(url)
    engine = db.engine_for(url)
    if args.command == "revoke-user":
        try:
            ended = auth.revoke_user(engine, args.username)
        except auth.AuthError as error:
            sys.exit(str(error))
        auth.record(engine, "cli", "revoke_user", args.username, f"{ended} sessions")
        print(f"Disabled {args.username!r}; ended {ended} sessions.")
        return 0
    if args.command == "restore-user":
        try:
            auth.restore_user(engine, args.username, _password(args))
        except (auth.AuthError, ValueError) as error:
            sys.exit(f"Not restored: {error}")
        auth.record(engine, "cli", "restore_user", args.username, "")
        print(f"Enabled {args.username!r} with a new password.")
        return 0
    if args.command == "create-user":
        password = _password(args)
        try:
            auth.create_user(engine, args.username, password, args.role)
        except ValueError as error:
            sys.exit(f"Not created: {error}")
        auth.record(engine, "cli", "create_user", args.username, args.role)
        print(f"Created {args.role} {args.username!r}.")
    elif args.command == "sync":
        print(f"Indexed {tracker.sync(engine)} new events.")
    else:
        print("Console tables are up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
