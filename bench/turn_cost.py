"""CPU time of one turn by part, early and late in a long conversation (issue 19).

    python -m bench.turn_cost --out bench/results/turn_cost.md   (make bench-turn)

Latency over REST on a shared 2-core machine is noisy; the CPU time the Rasa
process spends on a turn is not. This loads the trained model once into an `Agent`
(the action server runs beside it, as in `make run`), sends `CONVERSATIONS`
conversations of 100 held-out messages each through `Agent.handle_text`, and
measures each turn's CPU time (`time.process_time`, every thread of the process)
and the parts: the tracker store's load and save, the NLU, the policies' prediction
and the custom action calls (Rasa's side: the request with the tracker, the check
of the response). Variations (levers), each on the same model, one after the other:
- Rasa's own loading and saving (`cache_size: 0`) and Rasa's check of the action
  server's responses (the schema re-checked on each call): as before issue 19;
- the tracker cache alone; the schema checked once alone; both; both and the
  past-states cache (iom/rasa/past_states.py); and orjson for the requests to the
  action server (iom/rasa/action_json.py; as shipped).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report import head_commit, machine, write_report
from bench.serve_load import RASA, VAR, heldout_messages
from iom.core.settings import ROOT
from iom.tools.launch import free_port, wait_for

TURNS = 100
CONVERSATIONS = 2
EARLY = slice(1, 11)
LATE = slice(90, 100)
PARTS = ("load", "save", "nlu", "policies", "custom actions")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:13]) / os.sysconf("SC_CLK_TCK")


@dataclass
class Turns:
    """CPU seconds of every turn, in total and by part."""

    total: list[float] = field(default_factory=list)
    parts: dict[str, list[float]] = field(default_factory=dict)
    # the action server's CPU time when each turn began, and after the last
    actions_clock: list[list[float]] = field(default_factory=list)

    def actions_ms(self, turns: slice) -> float:
        """The action server's mean CPU time (ms) per turn over these turns.

        A mean over the turns, not a median: /proc counts in 10 ms ticks.
        """
        spent = [
            (clock[turns.stop] - clock[turns.start]) / (turns.stop - turns.start)
            for clock in self.actions_clock
        ]
        return 1000 * statistics.mean(spent)

    def ms(self, values: list[float], turns: slice) -> float:
        """Median (ms) of these turns of `values`, over every conversation."""
        per_conversation = [values[c * TURNS :][turns] for c in range(CONVERSATIONS)]
        return 1000 * statistics.median(t for c in per_conversation for t in c)


class Meter:
    """Wraps Rasa's methods to add their CPU time to the current turn's parts."""

    def __init__(self) -> None:
        self.turn: dict[str, float] = {}

    def add(self, part: str, began: float) -> None:
        """Count the CPU time since `began` for `part`."""
        self.turn[part] = self.turn.get(part, 0.0) + time.process_time() - began

    def wrap_async(self, owner: Any, name: str, part: str) -> None:
        """Measure the coroutine method `owner.name` as `part`."""
        original: Callable[..., Awaitable[Any]] = getattr(owner, name)

        async def measured(*args: Any, **kwargs: Any) -> Any:
            began = time.process_time()
            try:
                return await original(*args, **kwargs)
            finally:
                self.add(part, began)

        setattr(owner, name, measured)

    def wrap(self, owner: Any, name: str, part: str) -> None:
        """Measure the method `owner.name` as `part`."""
        original: Callable[..., Any] = getattr(owner, name)

        def measured(*args: Any, **kwargs: Any) -> Any:
            began = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.add(part, began)

        setattr(owner, name, measured)


async def conversations(
    agent: Any, meter: Meter, messages: list[str], actions_pid: int
) -> Turns:
    turns = Turns(parts={part: [] for part in PARTS})
    for c in range(CONVERSATIONS):
        sender = f"turn-cost-{c}-{time.time_ns()}"
        clock: list[float] = []
        turns.actions_clock.append(clock)
        for n in range(TURNS):
            clock.append(cpu_seconds(actions_pid))
            meter.turn = {}
            began = time.process_time()
            await agent.handle_text(messages[(c * 211 + n) % len(messages)], sender)
            turns.total.append(time.process_time() - began)
            for part in PARTS:
                turns.parts[part].append(meter.turn.get(part, 0.0))
        clock.append(cpu_seconds(actions_pid))
    return turns


def measure() -> dict[str, Turns]:
    """Every variation, one after the other, on one Agent."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.core.lock_store import InMemoryLockStore
    from rasa.core.processor import MessageProcessor
    from rasa.utils.endpoints import EndpointConfig

    from iom.rasa import action_json, action_response, past_states
    from iom.rasa.tracker_store import RedactingSQLTrackerStore

    port = free_port()
    VAR.mkdir(parents=True, exist_ok=True)
    log = VAR / "turn-cost-actions.log"
    actions = subprocess.Popen(
        [RASA, "run", "actions", "--port", str(port), "--actions", "actions"],
        cwd=ROOT,
        stdout=open(log, "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health", 300)
        agent = Agent.load(
            str(ROOT / "models" / "iom.tar.gz"),
            lock_store=InMemoryLockStore(),
            action_endpoint=EndpointConfig(f"http://127.0.0.1:{port}/webhook"),
        )
        logging.disable(logging.INFO)
        meter = Meter()
        meter.wrap_async(RedactingSQLTrackerStore, "retrieve", "load")
        meter.wrap_async(RedactingSQLTrackerStore, "save", "save")
        meter.wrap_async(MessageProcessor, "parse_message", "nlu")
        meter.wrap(MessageProcessor, "_predict_next_with_tracker", "policies")
        meter.wrap_async(RemoteAction, "run", "custom actions")
        rasa_check = RemoteAction._validate_action_result
        messages = heldout_messages()
        results: dict[str, Turns] = {}
        for name, cache_size, once, states, orjson in VARIATIONS:
            (past_states.install if states else past_states.uninstall)()
            (action_json.install if orjson else action_json.uninstall)()
            RemoteAction._validate_action_result = (  # type: ignore[method-assign]
                action_response.validate_action_result if once else rasa_check
            )
            database = VAR / "turn-cost.db"
            database.unlink(missing_ok=True)
            store = RedactingSQLTrackerStore(
                domain=agent.domain,
                host=f"sqlite:///{database}",
                cache_size=cache_size,
            )
            agent.tracker_store = store
            agent.processor.tracker_store = store  # type: ignore[union-attr]
            asyncio.run(agent.handle_text("dzień dobry", "warm-up"))
            results[name] = asyncio.run(
                conversations(agent, meter, messages, actions.pid)
            )
            print(name, table_row(name, results[name], None), flush=True)
        return results
    finally:
        actions.terminate()
        actions.wait(60)


# (name, tracker cache size, schema checked once, past-states cache, orjson)
VARIATIONS = [
    (
        "as before issue 19 (`cache_size: 0`, schema re-checked per call)",
        0,
        False,
        False,
        False,
    ),
    ("tracker cache only", 256, False, False, False),
    ("schema checked once only", 0, True, False, False),
    ("both", 256, True, False, False),
    ("both and the past-states cache", 256, True, True, False),
    ("both, the past-states cache and orjson (as shipped)", 256, True, True, True),
]


def table_row(name: str, turns: Turns, before: Turns | None) -> str:
    early, late = turns.ms(turns.total, EARLY), turns.ms(turns.total, LATE)
    parts = " | ".join(
        f"{turns.ms(turns.parts[p], EARLY):.1f} → {turns.ms(turns.parts[p], LATE):.1f}"
        for p in PARTS
    )
    versus = " | – | –"
    if before is not None:
        versus = (
            f" | {late / before.ms(before.total, LATE):.2f}x"
            f" | {early / before.ms(before.total, EARLY):.2f}x"
        )
    actions = f"{turns.actions_ms(EARLY):.1f} → {turns.actions_ms(LATE):.1f}"
    return (
        f"| {name} | {early:.1f} | {late:.1f} | {late / early:.2f}x | {parts}"
        f" | {actions}{versus} |"
    )


def report(results: dict[str, Turns]) -> list[str]:
    before = next(iter(results.values()))
    return [
        "# CPU time of a turn, early and late in a conversation",
        "",
        f"Machine: {machine()}. Commit `{head_commit()}`."
        " `make bench-turn` (bench/turn_cost.py): the trained model in one `Agent`,"
        f" {CONVERSATIONS} conversations of {TURNS} held-out messages each per"
        " variation, SQLite tracker store with redaction, the action server beside"
        " it. CPU time of the Rasa process (`time.process_time`, all its threads),"
        " median over the turns 2–11 and 91–100 of the conversations. The action"
        " server's CPU time (its own process, from /proc) is a separate column and"
        " not in the turn's total. The first row is Rasa as before issue 19; the"
        " ratio columns compare each row's total with it.",
        "",
        "| variation | turns 2–11 ms | turns 91–100 ms | 91–100 vs 2–11 | "
        + " | ".join(f"{p} ms (2–11 → 91–100)" for p in PARTS)
        + " | action server ms, mean (2–11 → 91–100)"
        + " | turns 91–100 vs before | turns 2–11 vs before |",
        "|---|---|---|---|" + "---|" * len(PARTS) + "---|---|---|",
        *(table_row(name, turns, before) for name, turns in results.items()),
        "",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default=str(ROOT / "bench" / "results" / "turn_cost.md")
    )
    args = parser.parse_args()
    results = measure()
    return write_report(report(results), args.out)


if __name__ == "__main__":
    sys.exit(main())
