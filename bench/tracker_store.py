"""The embedded tracker store's cost per turn: SQLite as shipped vs SQLAlchemy's defaults.

    make bench-store        # writes bench/results/tracker_store.md (about 1 minute)

One turn = what Rasa does per message: load the conversation's tracker, add a user
message, an action, a bot message and `action_listen`, save. 30 conversations in
turn, 600 turns per set-up, in one process, on a new SQLite file each; the
redacting store runs on the caller's loop (`off_loop: false`) so that only the
database differs. Set-ups:
- SQLAlchemy 1.4's defaults for a SQLite file (what Rasa's SQLTrackerStore uses: a
  new connection per session, rollback journal): the baseline;
- as shipped (`iom.rasa.tracker_store.sqlite_engine`): WAL, synchronous=FULL,
  pooled connections;
- the same with synchronous=NORMAL (faster, may lose the last commits on power loss).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.report import head_commit, machine, write_report

ROOT = Path(__file__).resolve().parent.parent

SETUPS = {
    "defaults": "SQLAlchemy defaults (baseline)",
    "shipped": "WAL, synchronous=FULL, pooled (shipped)",
    "normal": "WAL, synchronous=NORMAL, pooled",
}


def store(setup: str, folder: Path) -> Any:
    from rasa.shared.core.domain import Domain

    from iom.rasa.tracker_store import RedactingSQLTrackerStore, sqlite_engine

    url = f"sqlite:///{folder / 'tracker.db'}"
    tracker_store = RedactingSQLTrackerStore(
        domain=Domain.load(str(ROOT / "domain.yml")), host=url, off_loop=False
    )
    if setup != "shipped":
        tracker_store.engine.dispose()
        engine = (
            sa.create_engine(url)
            if setup == "defaults"
            else sqlite_engine(sa.engine.make_url(url))
        )
        if setup == "normal":

            @sa.event.listens_for(engine, "connect")
            def _normal(connection: Any, _record: Any) -> None:
                connection.execute("PRAGMA synchronous=NORMAL")

        tracker_store.engine = engine
        tracker_store.sessionmaker = sa.orm.session.sessionmaker(bind=engine)
    return tracker_store


async def turns(tracker_store: Any, count: int) -> list[float]:
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    seconds = []
    for i in range(count):
        sender = f"c{i % 30}"
        began = time.perf_counter()
        tracker = await tracker_store.retrieve(sender) or DialogueStateTracker(
            sender, tracker_store.domain.slots
        )
        tracker.update(
            UserUttered(
                "szukam pracy w Krakowie", {"name": "ask_work", "confidence": 0.9}
            )
        )
        tracker.update(ActionExecuted("utter_work"))
        tracker.update(BotUttered("Informacje o pracy"))
        tracker.update(ActionExecuted("action_listen"))
        await tracker_store.save(tracker)
        seconds.append(time.perf_counter() - began)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=600)
    parser.add_argument(
        "--out", default=str(ROOT / "bench" / "results" / "tracker_store.md")
    )
    args = parser.parse_args()
    results = {}
    for setup in SETUPS:
        with tempfile.TemporaryDirectory() as folder:
            results[setup] = asyncio.run(turns(store(setup, Path(folder)), args.turns))
    base = statistics.mean(results["defaults"])
    lines = [
        "# Tracker store: cost of one turn on the embedded SQLite default",
        "",
        f"Machine: {machine()}. Commit `{head_commit()}`. `make bench-store`"
        f" (bench/tracker_store.py): {args.turns} turns (load, four events, save) over"
        " 30 conversations per set-up, redaction included, a new SQLite file each.",
        "",
        "| set-up | mean ms per turn | p95 ms | vs baseline |",
        "|---|---|---|---|",
    ]
    for setup, name in SETUPS.items():
        values = sorted(results[setup])
        mean = statistics.mean(values)
        p95 = values[int(0.95 * (len(values) - 1))]
        lines.append(
            f"| {name} | {1000 * mean:.1f} | {1000 * p95:.1f} | {mean / base:.2f}x |"
        )
    return write_report(lines, args.out)


if __name__ == "__main__":
    sys.exit(main())
