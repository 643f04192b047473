"""Several Rasa instances sharing one Redis lock store: Rasa 3.6's vs ours.

    make bench-locks        # writes bench/results/lock_store.md (about 1 minute)

Two processes stand in for two Rasa instances. In every round each sends two
requests at once to each of 20 new conversations, so four requests meet on every
conversation's first turn, as when a person double-sends through a load balancer.
Each request holds the conversation's lock for 5 ms (a stand-in for one turn) and
counts, in Redis, how many requests are inside that conversation at that moment.
Set-ups, same run, one throw-away redis-server:
- Rasa 3.6's `RedisLockStore`, waiting 1 s between looks as Rasa's agent calls it
  (the baseline);
- the same store polling every 0.05 s (to separate the poll interval from atomicity);
- `iom.rasa.lock_store.AtomicRedisLockStore` as shipped (transactions, 0.05 s).
Reported: requests that found another request of their conversation inside
(overlaps: both would process and save the same tracker), lock errors, requests per
second and the p95 time from asking for the lock until holding it.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.report import head_commit, machine, write_report
from iom.tools.launch import free_port

ROOT = Path(__file__).resolve().parent.parent

INSTANCES = 2
CONVERSATIONS = 20
PER_INSTANCE = 2
HOLD_SECONDS = 0.005
STALL_SECONDS = 5.0
SETUPS = {
    "rasa": ("Rasa 3.6 `RedisLockStore`, 1 s wait (baseline)", 1.0),
    "rasa-fast": ("Rasa 3.6 `RedisLockStore`, 0.05 s wait", 0.05),
    "atomic": ("`AtomicRedisLockStore`, 0.05 s wait (shipped)", 0.05),
}


@contextmanager
def redis_server() -> Iterator[int]:
    """A throw-away redis-server without persistence; yields its port."""
    import redis

    binary = shutil.which("redis-server")
    if not binary:
        raise RuntimeError("redis-server is missing (make system-deps)")
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                workdir,
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            client = redis.Redis(port=port)
            for _ in range(200):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            else:
                raise RuntimeError("redis-server did not start")
            yield port
        finally:
            process.terminate()
            process.wait(timeout=10)


def make_store(setup: str, port: int) -> Any:
    from rasa.core.lock_store import RedisLockStore

    from iom.rasa.lock_store import AtomicRedisLockStore

    if setup == "atomic":
        return AtomicRedisLockStore(port=port, db=1, key_prefix="bench")
    return RedisLockStore(port=port, db=1, key_prefix="bench")


def instance(setup: str, port: int, rounds: int, barrier: Any, queue: Any) -> None:
    """One stand-in Rasa instance; puts (overlaps, errors, stalled, waits) on the queue.

    The instances start each round together (`barrier`), as requests through a load
    balancer arrive at both at once.
    """
    import redis
    from rasa.core.lock_store import LockError

    store = make_store(setup, port)
    wait = SETUPS[setup][1]
    counter = redis.Redis(port=port, db=2)
    overlaps = errors = stalled = 0
    waits: list[float] = []

    async def turn(conversation: str) -> None:
        nonlocal overlaps
        asked = time.perf_counter()
        async with store.lock(conversation, wait_time_in_seconds=wait):
            waits.append(time.perf_counter() - asked)
            if counter.incr(f"inside:{conversation}") != 1:
                overlaps += 1
            await asyncio.sleep(HOLD_SECONDS)
            counter.decr(f"inside:{conversation}")

    async def request(conversation: str) -> None:
        nonlocal errors, stalled
        try:
            await asyncio.wait_for(turn(conversation), STALL_SECONDS)
        except LockError:
            errors += 1
        except asyncio.TimeoutError:
            stalled += 1

    async def run() -> None:
        for round_number in range(rounds):
            barrier.wait()
            ids = [f"r{round_number}-c{c}" for c in range(CONVERSATIONS)]
            await asyncio.gather(
                *(request(c) for c in ids for _ in range(PER_INSTANCE))
            )

    asyncio.run(run())
    queue.put((overlaps, errors, stalled, waits))


def measure(setup: str, port: int, rounds: int) -> dict[str, float]:
    import redis

    redis.Redis(port=port).flushall()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    barrier = context.Barrier(INSTANCES)
    processes = [
        context.Process(target=instance, args=(setup, port, rounds, barrier, queue))
        for _ in range(INSTANCES)
    ]
    start = time.perf_counter()
    for process in processes:
        process.start()
    results = [queue.get(timeout=600) for _ in processes]
    elapsed = time.perf_counter() - start
    for process in processes:
        process.join(timeout=30)
    waits = sorted(w for *_, ws in results for w in ws)
    requests = INSTANCES * rounds * CONVERSATIONS * PER_INSTANCE
    return {
        "requests": requests,
        "overlaps": sum(r[0] for r in results),
        "errors": sum(r[1] for r in results),
        "stalled": sum(r[2] for r in results),
        "per_second": requests / elapsed,
        "wait_p95_ms": statistics.quantiles(waits, n=20)[18] * 1000 if waits else 0.0,
        "left": len(redis.Redis(port=port, db=1).keys("bench:lock:*")),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--out", default=str(ROOT / "bench/results/lock_store.md"))
    args = parser.parse_args()
    with redis_server() as port:
        rows = {setup: measure(setup, port, args.rounds) for setup in SETUPS}
    base = rows["rasa"]
    lines = [
        "# Lock store: two instances on one Redis",
        "",
        f"Machine: {machine()}. Commit {head_commit()}. `bench/lock_store.py`, "
        f"{INSTANCES} processes x {args.rounds} rounds x {CONVERSATIONS} new conversations"
        f" x {PER_INSTANCE} requests at once, {HOLD_SECONDS * 1000:.0f} ms held each.",
        "",
        "| set-up | requests | overlaps | lock errors | stalled > 5 s | locks left |"
        " requests/s | vs baseline | p95 wait (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for setup, row in rows.items():
        lines.append(
            f"| {SETUPS[setup][0]} | {row['requests']:,} | {row['overlaps']:,} | "
            f"{row['errors']:,} | {row['stalled']:,} | {row['left']} | {row['per_second']:,.0f} | "
            f"{row['per_second'] / base['per_second']:.2f}x | {row['wait_p95_ms']:,.0f} |"
        )
    lines += [
        "",
        "An overlap is a request that held its conversation's lock while another request"
        " of the same conversation held it too: in Rasa both would process and save the"
        " same tracker, and one user message can be lost (RasaHQ/rasa#9213,"
        " docs/performance.md). A stalled request waited more than"
        f" {STALL_SECONDS:.0f} s for its lock and was given up: its ticket had been"
        " overwritten by another instance, so it would wait for the ticket lifetime"
        " (Rasa's default 60 s) while the person gets no answer.",
    ]
    return write_report(lines, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
