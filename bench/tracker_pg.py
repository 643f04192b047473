"""The tracker store on PostgreSQL per turn: Rasa's load and save vs the cache, index.

    make bench-store-pg     # writes bench/results/tracker_store_pg.md (a few minutes)

A private PostgreSQL (the Debian binaries `make topology` uses, on a free port, in
var/bench/pg) holds `CONVERSATIONS` conversations of `EVENTS` events each (written
in bulk, as other users' history), then `LONG` conversations are played turn by
turn (load, a user message, an action, a bot message and `action_listen`, save), one
process, the store on the caller's loop, so that only the database work differs.
Each turn's wall time is kept; the report gives the median of turns 2-11 and of
turns 91-100. Set-ups, each on the same data, one after the other:
- Rasa's loading and saving (`cache_size: 0`), Rasa's table as it creates it (an
  index on `sender_id` alone): as before issue 19;
- the same with the index on `events (sender_id, id)` the store now creates;
- the tracker cache with and without that index.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from glob import glob
from typing import Any

import sqlalchemy as sa

from bench.report import head_commit, machine, write_report
from bench.serve_load import VAR
from iom.core.settings import ROOT
from iom.tools.launch import free_port

CONVERSATIONS = 4_000
EVENTS = 50
LONG = 5
TURNS = 100
EARLY = slice(1, 11)
LATE = slice(90, 100)
INDEX = "ix_events_sender_id_id"


def _as_postgres(command: list[str]) -> list[str]:
    return (
        ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command
    )


@contextmanager
def postgres() -> Iterator[str]:
    """A throw-away PostgreSQL server; yields its SQLAlchemy URL."""
    binaries = sorted(glob("/usr/lib/postgresql/*/bin"))[-1]
    folder = VAR / "pg"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if os.getuid() == 0:
        shutil.chown(folder, "postgres")
    port = free_port()
    data = folder / "data"
    subprocess.run(
        _as_postgres(
            [f"{binaries}/initdb", "-D", str(data), "-U", "rasa", "-A", "trust"]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    log = folder / "postgresql.log"
    subprocess.run(  # the server keeps its output: a log file, not a pipe
        _as_postgres(
            [
                f"{binaries}/pg_ctl",
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(log),
                "-w",
                "start",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"postgresql://rasa@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres([f"{binaries}/pg_ctl", "-D", str(data), "-m", "fast", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def history(url: str) -> None:
    """Other users' conversations, written in bulk."""
    engine = sa.create_engine(url)
    now = time.time() - 3600
    rows = []
    for c in range(CONVERSATIONS):
        sender = f"history-{c}"
        for e in range(EVENTS):
            data = {"event": "bot", "text": f"answer {e}", "timestamp": now + e}
            rows.append(
                {
                    "sender_id": sender,
                    "type_name": "bot",
                    "timestamp": now + e,
                    "data": json.dumps(data),
                }
            )
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "insert into events (sender_id, type_name, timestamp, data)"
                " values (:sender_id, :type_name, :timestamp, :data)"
            ),
            rows,
        )
        connection.execute(sa.text("analyze events"))
    engine.dispose()


def turn_events(n: int) -> list[Any]:
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    return [
        UserUttered(
            f"message {n}",
            intent={"name": "greet", "confidence": 0.9},
            parse_data={
                "text": f"message {n}",
                "intent": {"name": "greet", "confidence": 0.9},
                "entities": [],
                "intent_ranking": [
                    {"name": f"intent_{i}", "confidence": 0.1} for i in range(10)
                ],
            },
        ),
        ActionExecuted("utter_greet"),
        BotUttered(f"answer {n}", metadata={"utter_action": "utter_greet"}),
        ActionExecuted("action_listen"),
    ]


async def play(store: Any, prefix: str) -> list[list[float]]:
    """`LONG` conversations of `TURNS` turns; wall seconds per turn."""
    from rasa.shared.core.events import ActionExecuted, SessionStarted

    seconds: list[list[float]] = []
    for c in range(LONG):
        sender = f"{prefix}-{c}-{time.time_ns()}"
        per_turn: list[float] = []
        for n in range(TURNS):
            began = time.perf_counter()
            tracker = await store.get_or_create_tracker(
                sender, append_action_listen=False
            )
            if n == 0:
                for event in (
                    ActionExecuted("action_session_start"),
                    SessionStarted(),
                    ActionExecuted("action_listen"),
                ):
                    tracker.update(event)
            for event in turn_events(n):
                tracker.update(event)
            await store.save(tracker)
            per_turn.append(time.perf_counter() - began)
        seconds.append(per_turn)
    return seconds


SETUPS = [
    ("Rasa's load and save, Rasa's index on sender_id (before)", 0, False),
    ("Rasa's load and save, index on (sender_id, id)", 0, True),
    ("tracker cache, Rasa's index on sender_id", 256, False),
    ("tracker cache, index on (sender_id, id) (shipped)", 256, True),
]


def measure() -> dict[str, list[list[float]]]:
    """Every set-up on one database, one after the other."""
    from rasa.shared.core.domain import Domain

    from iom.rasa.tracker_store import RedactingSQLTrackerStore

    domain = Domain.load(str(ROOT / "domain.yml"))
    results: dict[str, list[list[float]]] = {}
    with postgres() as url:
        for name, cache_size, index in SETUPS:
            store = RedactingSQLTrackerStore(
                domain=domain, host=url, off_loop=False, cache_size=cache_size
            )
            if not results:
                history(url)
            with store.engine.begin() as connection:
                connection.execute(sa.text(f"drop index if exists {INDEX}"))
                if index:
                    connection.execute(
                        sa.text(f"create index {INDEX} on events (sender_id, id)")
                    )
                connection.execute(sa.text("analyze events"))
            results[name] = asyncio.run(play(store, f"s{len(results)}"))
            store.engine.dispose()
            print(name, row(name, results[name], None), flush=True)
    return results


def median_ms(seconds: list[list[float]], turns: slice) -> float:
    return 1000 * statistics.median(t for c in seconds for t in c[turns])


def row(name: str, seconds: list[list[float]], before: list[list[float]] | None) -> str:
    early, late = median_ms(seconds, EARLY), median_ms(seconds, LATE)
    versus = " | – |"
    if before is not None:
        versus = f" | {late / median_ms(before, LATE):.2f}x |"
    return f"| {name} | {early:.1f} | {late:.1f} | {late / early:.2f}x{versus}"


def report(results: dict[str, list[list[float]]]) -> list[str]:
    before = next(iter(results.values()))
    return [
        "# The tracker store on PostgreSQL: one turn's load and save",
        "",
        f"Machine: {machine()}. Commit `{head_commit()}`. `make bench-store-pg`"
        f" (bench/tracker_pg.py): a private PostgreSQL with {CONVERSATIONS:,} other"
        f" conversations of {EVENTS} events; {LONG} conversations of {TURNS} turns"
        " (4 events a turn, a user message with a 10-intent ranking) per set-up,"
        " the store on the caller's loop, with redaction. Wall time of one turn's"
        " load and save, median over the turns 2–11 and 91–100.",
        "",
        "| set-up | turns 2–11 ms | turns 91–100 ms | 91–100 vs 2–11"
        " | turns 91–100 vs before |",
        "|---|---|---|---|---|",
        *(row(name, seconds, before) for name, seconds in results.items()),
        "",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default=str(ROOT / "bench" / "results" / "tracker_store_pg.md")
    )
    args = parser.parse_args()
    return write_report(report(measure()), args.out)


if __name__ == "__main__":
    sys.exit(main())
