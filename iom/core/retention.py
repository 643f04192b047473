"""Retention and erasure for the tracker store (the database at TRACKER_URL).

- ``purge``: delete every conversation whose last event is older than
  ``RETENTION_DAYS`` (default 30) days, with its handoff requests.
  ``--every SECONDS`` repeats the purge (``make run`` uses one day).
- ``erase SENDER_ID``: delete one conversation now (GDPR erasure request), and the
  training examples the learning loop made of it (`iom.core.learning.erasure`).

Only SQLAlchemy Core, so it works on SQLite and PostgreSQL and does not need Rasa.
Prints counts, never message text. Schedule it with cron or a systemd timer in
production (docs/privacy.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from iom.core import db, settings
from iom.core.learning import erasure

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Deleted:
    """What one purge or erasure removed."""

    conversations: int
    events: int
    handoffs: int
    # erase only: examples removed per model folder (iom.core.learning.erasure)
    examples: dict[str, int] = field(default_factory=dict)


def _tables(engine: sa.engine.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def _delete(
    connection: sa.engine.Connection, senders: list[str], tables: set[str]
) -> Deleted:
    events = handoffs = 0
    for start in range(0, len(senders), 500):
        chunk = senders[start : start + 500]
        if db.events.name in tables:
            events += connection.execute(
                db.events.delete().where(db.events.c.sender_id.in_(chunk))
            ).rowcount
        if db.handoff_requests.name in tables:
            requests = db.handoff_requests
            handoffs += connection.execute(
                requests.delete().where(requests.c.conversation_id.in_(chunk))
            ).rowcount
        for table in db.PER_CONVERSATION:
            if table.name in tables:
                connection.execute(table.delete().where(table.c.sender_id.in_(chunk)))
    return Deleted(len(senders), events, handoffs)


def purge(engine: sa.engine.Engine, days: int, now: float | None = None) -> Deleted:
    """Delete conversations whose last event is older than `days` days."""
    if days < 1:
        raise ValueError("retention must be at least 1 day")
    cutoff = (now if now is not None else time.time()) - days * 86400
    tables = _tables(engine)
    if "events" not in tables:
        return Deleted(0, 0, 0)
    with engine.begin() as connection:
        senders = [
            row[0]
            for row in connection.execute(
                sa.text(
                    "select sender_id from events group by sender_id"
                    " having max(timestamp) < :cutoff"
                ),
                {"cutoff": cutoff},
            )
        ]
        return _delete(connection, senders, tables)


def erase(
    engine: sa.engine.Engine,
    sender_id: str,
    candidates_dir: Path | None = None,
    by: str = "retention",
) -> Deleted:
    """Delete one conversation (all its events, handoff requests and corrections).

    With `candidates_dir` (the learning loop's model folders), the examples made of
    the conversation go too, and models trained with them are marked (`by` is the
    audit log's user). Raises `erasure.LearningBusy`, having deleted nothing, while
    a retrain or rollback runs.
    """
    tables = _tables(engine)
    if candidates_dir is None:
        with engine.begin() as connection:
            deleted = _delete(connection, [sender_id], tables)
        removed: dict[str, int] = {}
    else:
        with erasure.learning_lock(candidates_dir):
            with engine.connect() as connection:
                texts = (
                    erasure.correction_texts(connection, sender_id)
                    if db.corrections.name in tables
                    else set()
                )
            scrubbed = erasure.scrub(engine, candidates_dir, sender_id, by, texts)
            with engine.begin() as connection:
                deleted = _delete(connection, [sender_id], tables)
        removed = scrubbed.examples
    found = 1 if deleted.events or deleted.handoffs or removed else 0
    return Deleted(found, deleted.events, deleted.handoffs, removed)


def main(argv: list[str] | None = None) -> int:
    """Command line: purge or erase."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=settings.current().tracker_url)
    commands = parser.add_subparsers(dest="command", required=True)
    purge_cmd = commands.add_parser("purge", help="delete old conversations")
    purge_cmd.add_argument(
        "--days", type=int, default=settings.current().retention_days
    )
    purge_cmd.add_argument("--every", type=float, help="repeat every N seconds")
    erase_cmd = commands.add_parser("erase", help="delete one conversation")
    erase_cmd.add_argument("sender_id")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("set TRACKER_URL or pass --url")
    engine = sa.create_engine(args.url)
    if args.command == "erase":
        try:
            deleted = erase(
                engine, args.sender_id, settings.current().candidates_dir, "cli"
            )
        except erasure.LearningBusy as busy:
            print(busy, file=sys.stderr)
            return 2
        print(
            f"erased conversation: {deleted.events} events, {deleted.handoffs}"
            f" handoffs, {sum(deleted.examples.values())} training examples"
        )
        return 0 if deleted.conversations else 1
    while True:
        deleted = purge(engine, args.days)
        print(
            f"retention ({args.days} days): deleted {deleted.conversations}"
            f" conversations, {deleted.events} events, {deleted.handoffs} handoff"
            " requests",
            flush=True,
        )
        if not args.every:
            return 0
        time.sleep(args.every)


if __name__ == "__main__":
    sys.exit(main())
