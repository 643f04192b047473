"""Faults on the production topology: PostgreSQL restarted during conversations.

    make bench-faults      # writes bench/results/faults.md (about 3 minutes)

Starts scripts/topology.sh (PostgreSQL tracker store, Redis lock store, two Rasa
instances behind nginx, the action server), holds 10 conversations, restarts
PostgreSQL in the middle of them while messages keep coming, and then checks what
every user got and what the tracker store holds. The action-server-down fault is a
test in `make test` (tests/test_fallback.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.report import head_commit, machine, write_report
from bench.serve_load import VAR
from bench.serve_topology import topology
from iom.tools.launch import free_port

ROOT = Path(__file__).resolve().parent.parent

TURNS = [
    "dzień dobry",
    "szef zabrał mi paszport",
    "gdzie mogę się nauczyć polskiego w Krakowie",
    "how do I get a residence card",
    "can I work legally in Poland",
    "dziękuję",
]


def say(port: int, sender: str, text: str) -> tuple[int, list[str]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, [m.get("text", "") for m in json.load(response)]
    except urllib.error.HTTPError as error:
        return error.code, [error.read().decode("utf-8", "replace")[:200]]
    except (urllib.error.URLError, OSError) as error:
        return 0, [str(error)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "faults.md"))
    parser.add_argument("--conversations", type=int, default=10)
    args = parser.parse_args()
    import sqlalchemy as sa

    state = VAR / "topology-faults"
    shutil.rmtree(state, ignore_errors=True)
    env = {
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "TOPOLOGY_DIR": str(state),
        "TOPOLOGY_RATE_PER_MIN": "0",
        "RATE_LIMIT_SENDER_PER_MIN": "0",
    }
    port = int(env["RASA_PORT"])
    topology("up", env)
    log: list[dict] = []
    lock = threading.Lock()
    restart_window: dict[str, float] = {}

    def conversation(sender: str) -> None:
        for turn in range(len(TURNS) * 3):
            text = f"{TURNS[turn % len(TURNS)]} ({turn})"
            began = time.monotonic()
            status, answer = say(port, sender, text)
            with lock:
                log.append(
                    {
                        "sender": sender,
                        "text": text,
                        "status": status,
                        "answer": answer,
                        "at": began,
                        "seconds": time.monotonic() - began,
                    }
                )
            time.sleep(0.3)

    try:
        senders = [os.urandom(6).hex() for _ in range(args.conversations)]
        threads = [threading.Thread(target=conversation, args=(s,)) for s in senders]
        for thread in threads:
            thread.start()
        time.sleep(8)
        restart_window["start"] = time.monotonic()
        topology("pg-restart", env)
        restart_window["end"] = time.monotonic()
        for thread in threads:
            thread.join()
        tracker_url = topology("env", env).strip().split("=", 1)[1]
        engine = sa.create_engine(tracker_url)
        stored: dict[str, list[str]] = {}
        with engine.connect() as connection:
            for sender in senders:
                rows = connection.execute(
                    sa.text(
                        "select data from events where sender_id=:s and type_name='user'"
                        " order by id"
                    ),
                    {"s": sender},
                ).all()
                stored[sender] = [json.loads(r.data)["text"] for r in rows]
    finally:
        topology("down", env)

    during = [
        e
        for e in log
        if e["at"] <= restart_window["end"]
        and e["at"] + e["seconds"] >= restart_window["start"]
    ]
    statuses: dict[str, int] = {}
    for entry in log:
        ok = entry["status"] == 200 and entry["answer"]
        key = "200 with answer" if ok else f"status {entry['status']}"
        statuses[key] = statuses.get(key, 0) + 1
    lost = [e for e in log if e["text"] not in stored.get(e["sender"], [])]
    lost_answered = [e for e in lost if e["status"] == 200]
    duplicated = sum(len(v) - len(set(v)) for v in stored.values())
    after = [e for e in log if e["at"] > restart_window["end"]]
    after_ok = sum(1 for e in after if e["status"] == 200 and e["answer"])
    slowest = max((e["seconds"] for e in during), default=0.0)
    answers_during = sorted({a[:90] for e in during for a in e["answer"]})
    commit = head_commit()
    lines = [
        "# Fault: PostgreSQL restarted during conversations",
        "",
        f"Machine: {machine()}. Commit `{commit}`. `make bench-faults` (bench/faults.py)"
        " on the production topology (`scripts/topology.sh`: 2 Rasa instances, nginx,"
        " Redis lock store, PostgreSQL 15).",
        "",
        f"{args.conversations} conversations of {len(TURNS) * 3} messages each (0.3 s"
        " between turns); `pg_ctl restart -m fast` 8 s in, which took"
        f" {restart_window['end'] - restart_window['start']:.1f} s.",
        "",
        "| what | result |",
        "|---|---|",
        f"| messages sent | {len(log)} |",
        f"| answers | {', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))} |",
        f"| messages in flight during the restart | {len(during)} (slowest {slowest:.1f} s) |",
        f"| messages after the restart answered | {after_ok} of {len(after)} |",
        f"| messages missing from the tracker store | {len(lost)}"
        f" ({len(lost_answered)} of them had been answered) |",
        f"| user events stored twice | {duplicated} |",
        "",
        "What users saw while the database was down (distinct answers):",
        "",
        *[f"- {a}" for a in answers_during],
        "",
    ]
    return write_report(lines, args.out)


if __name__ == "__main__":
    sys.exit(main())
