"""Operator console at scale: 100,000 conversations (~1,000,000 events).

Generates a SQLite tracker store from the conversations the real bot recorded
(var/fixtures/console_tracker.db, written by tests/test_console_fixture.py): each
generated conversation copies one recorded conversation's events with a new sender id,
times spread over 60 days and a varied word in the user's text. Then it measures, in
one run:

- the console's own server time (FastAPI TestClient, in process) for the list page, a
  filter by intent, a search, a combined filter and a deep page;
- the same questions asked of Rasa's raw `events` table without the console's index
  (the baseline a naive console would have), and the ratio;
- the one-time indexing of all events (`console.tracker.sync`).

Run: `make bench-console` (console venv). Writes bench/results/console_scale.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from iom.console import auth, tracker
from iom.console.app import Settings, create_app
from iom.core import db

ROOT = Path(__file__).resolve().parent.parent

FIXTURE = ROOT / "var" / "fixtures" / "console_tracker.db"
WORDS = [
    "praca",
    "pobyt",
    "karta",
    "szkoła",
    "lekarz",
    "umowa",
    "job",
    "visa",
    "rent",
    "bus",
]
PASSWORD = "benchmark password 123"  # pragma: allowlist secret


def templates() -> list[list[tuple]]:
    """The recorded conversations' events (type, time offset, intent, action, data)."""
    if not FIXTURE.exists():
        sys.exit(f"{FIXTURE} missing: run `make pytest` first")
    source = sqlite3.connect(FIXTURE)
    by_sender: dict[str, list[tuple]] = {}
    for sender, type_name, stamp, intent, action, data in source.execute(
        "select sender_id, type_name, timestamp, intent_name, action_name, data"
        " from events order by id"
    ):
        by_sender.setdefault(sender, []).append(
            (type_name, stamp, intent, action, data)
        )
    source.close()
    result = []
    for events in by_sender.values():
        start = events[0][1]
        result.append([(t, s - start, i, a, d) for t, s, i, a, d in events])
    return result


def generate(path: Path, conversations: int, seed: int = 2002) -> int:
    """Write `conversations` conversations into a new tracker store; returns events."""
    rng = random.Random(seed)
    shapes = templates()
    connection = sqlite3.connect(path)
    connection.execute(
        "create table events (id integer primary key, sender_id varchar(255) not null,"
        " type_name varchar(255) not null, timestamp float, intent_name varchar(255),"
        " action_name varchar(255), data text)"
    )
    connection.execute("create index ix_events_sender_id on events (sender_id)")
    now = time.time()
    total = 0
    batch: list[tuple] = []
    for number in range(conversations):
        sender = f"gen-{number:06d}"
        start = now - rng.uniform(0, 60 * 86400)
        word = rng.choice(WORDS)
        for type_name, offset, intent, action, data in rng.choice(shapes):
            record = json.loads(data)
            record["sender_id"] = sender
            record["timestamp"] = start + offset
            if type_name == "user" and isinstance(record.get("text"), str):
                record["text"] = f"{record['text']} {word}"
            batch.append(
                (sender, type_name, start + offset, intent, action, json.dumps(record))
            )
        if len(batch) >= 50_000:
            total += len(batch)
            connection.executemany(
                "insert into events (sender_id, type_name, timestamp, intent_name,"
                " action_name, data) values (?, ?, ?, ?, ?, ?)",
                batch,
            )
            batch.clear()
    total += len(batch)
    connection.executemany(
        "insert into events (sender_id, type_name, timestamp, intent_name,"
        " action_name, data) values (?, ?, ?, ?, ?, ?)",
        batch,
    )
    connection.commit()
    connection.close()
    return total


def timed(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and p95 wall time in ms (after one warm-up call)."""
    call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def machine() -> str:
    """CPU model, cores and memory of this machine."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        gib = int(memory) / 1024 / 1024
    except OSError:
        gib = 0
    return f"{model}, {os.cpu_count()} cores, {gib:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"


def main() -> None:
    """Generate, index, measure, write the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "console_scale.md"
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    path = args.work / "console_scale.db"
    path.unlink(missing_ok=True)

    started = time.perf_counter()
    events = generate(path, args.conversations)
    generate_s = time.perf_counter() - started
    url = f"sqlite:///{path}"
    db.migrate(url)
    engine = db.engine_for(url)
    started = time.perf_counter()
    indexed = tracker.sync(engine)
    sync_s = time.perf_counter() - started
    auth.create_user(engine, "bench", PASSWORD, "operator")

    client = TestClient(create_app(Settings(database_url=url)))
    form = client.get("/login").text
    token = form.split('name="csrf_token" value="')[1].split('"')[0]
    client.post(
        "/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token}
    )

    def page(query: str) -> Callable[[], object]:
        def call() -> object:
            response = client.get("/conversations" + query)
            assert response.status_code == 200, response.status_code
            return response

        return call

    raw = sqlite3.connect(path)

    def naive(sql: str) -> Callable[[], object]:
        return lambda: raw.execute(sql).fetchall()

    cases = [
        (
            "list, newest first (page 1)",
            page(""),
            naive(
                "select sender_id, max(timestamp) m from events group by sender_id"
                " order by m desc limit 50"
            ),
        ),
        (
            "filter by intent (report_trafficking)",
            page("?intent=report_trafficking"),
            naive(
                "select sender_id, max(timestamp) m from events where sender_id in"
                " (select sender_id from events where intent_name='report_trafficking')"
                " group by sender_id order by m desc limit 50"
            ),
        ),
        (
            "search 'paszport'",
            page("?q=paszport"),
            naive(
                "select sender_id, max(timestamp) m from events where sender_id in"
                " (select sender_id from events where type_name='user' and"
                " lower(data) like '%paszport%') group by sender_id order by m desc"
                " limit 50"
            ),
        ),
        (
            "safety + Polish + not reviewed",
            page("?safety=1&language=pl&reviewed=no"),
            None,
        ),
        ("deep page (page 1000)", page("?page=1000"), None),
    ]
    rows = []
    for name, console_call, baseline_call in cases:
        median, p95 = timed(console_call, args.repeat)
        if baseline_call is not None:
            base_median, _ = timed(baseline_call, max(3, args.repeat // 4))
            ratio = f"{base_median / median:.1f}x"
            base = f"{base_median:.0f}"
        else:
            base, ratio = "–", "–"
        rows.append(f"| {name} | {median:.1f} | {p95:.1f} | {base} | {ratio} |")
        print(rows[-1], flush=True)

    size_mb = path.stat().st_size / 1e6
    text = "\n".join(
        [
            "# Operator console at scale",
            "",
            f"Machine: {machine()}.",
            f"Generated by `make bench-console` on {time.strftime('%Y-%m-%d')}:"
            f" {args.conversations:,} conversations, {events:,} events"
            f" (copies of the real bot's recorded conversations), SQLite file"
            f" {size_mb:.0f} MB; generation {generate_s:.0f} s.",
            f"One-time indexing of all {indexed:,} events (`console.tracker.sync`):"
            f" {sync_s:.0f} s ({indexed / sync_s:,.0f} events/s); afterwards each page"
            " view indexes only the events that arrived since the last one.",
            "",
            "Server time per request, in process (FastAPI TestClient, the whole request"
            f" including HTML rendering), {args.repeat} requests after one warm-up."
            " Baseline: the same question asked of Rasa's raw `events` table"
            " without the console's index (median); ratio = baseline / console.",
            "",
            "| request | console median ms | console p95 ms | baseline (raw events) ms | speed-up |",
            "|---|---|---|---|---|",
            *rows,
            "",
            "Target (issue 5): list, intent filter and search under 300 ms.",
            "",
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, "utf-8")
    print(text)
    raw.close()
    if os.environ.get("BENCH_KEEP_DB") != "1":
        shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
