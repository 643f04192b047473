"""Conversation length in the serving benchmark (bench/serve.py, issue 19).

A turn should cost the same at message 100 as at message 5. Measured as a new user
would, over REST:
- growth: `CONVERSATIONS` conversations of `TURNS` messages, one message at a time;
  the median latency of turns 2-11 vs turns 91-100 (pooled over the conversations);
- long conversations under load: 10 users at once, each in one conversation of 30
  messages (not a new conversation every 8 messages, which hides the growth),
  `ROUNDS` times;
for the minimal `rasa init` bot, the full bot as shipped (tracker cache on) and the
full bot with `cache_size: 0` (Rasa's own loading and saving), all three running side
by side and measured in turns (`interleaved`), so that other work on this shared
machine weighs on each alike; and on the production topology (one vs two instances
in alternating slices). `report` writes the section of bench/results/serving.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import yaml

from bench.serve_load import VAR, Load, merged, run_load
from bench.serve_report import HEADER, RULE, row

TURNS = 100
CONVERSATIONS = 3
LONG_USERS = 10
LONG_MESSAGES = 30
ROUNDS = 3
EARLY = slice(1, 11)  # turns 2-11
LATE = slice(90, 100)  # turns 91-100


@dataclass
class Growth:
    """Latency of each turn of whole conversations, one user at a time."""

    turns: list[list[float]] = field(default_factory=list)  # seconds, per turn
    errors: int = 0

    def median_ms(self, turns: slice) -> float:
        """Median latency (ms) of these turns, over every conversation."""
        return 1000 * statistics.median(t for c in self.turns for t in c[turns])

    @property
    def ratio(self) -> float:
        """Turns 91-100 over turns 2-11."""
        return self.median_ms(LATE) / self.median_ms(EARLY)


async def _conversation(url: str, messages: list[str], start: int) -> Growth:
    growth = Growth()
    sender = os.urandom(8).hex()
    latencies: list[float] = []
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for n in range(TURNS):
            text = messages[(start + n) % len(messages)]
            began = time.perf_counter()
            async with session.post(url, json={"sender": sender, "message": text}) as r:
                body = await r.text()
                if r.status != 200 or not json.loads(body):
                    growth.errors += 1
            latencies.append(time.perf_counter() - began)
    growth.turns.append(latencies)
    return growth


@dataclass
class Measured:
    """Growth and long-conversation load of one bot."""

    name: str
    growth: Growth
    long: Load


def interleaved(
    bots: dict[str, str], messages: list[str], rounds: int = ROUNDS
) -> list[Measured]:
    """Growth and long conversations of bots running side by side (name: URL).

    The bots take turns: one conversation of each, then the next; one round of
    long conversations of each, then the next. Other work on the machine then
    weighs on every bot alike (this machine is shared).
    """
    for url in bots.values():
        asyncio.run(run_load(url, 2, 5, messages))  # warm-up
    growths = {name: Growth() for name in bots}
    for c in range(CONVERSATIONS):
        for name, url in bots.items():
            one = asyncio.run(_conversation(url, messages, c * 211))
            growths[name].turns += one.turns
            growths[name].errors += one.errors
    loads: dict[str, list[Load]] = {name: [] for name in bots}
    for r in range(rounds):
        for name, url in bots.items():
            loads[name].append(long_conversations(url, messages, r))
    return [Measured(name, growths[name], merged(loads[name])) for name in bots]


def long_conversations(url: str, messages: list[str], round_: int) -> Load:
    """10 users, each in one conversation of 30 messages, at once."""
    return asyncio.run(
        run_load(
            url,
            LONG_USERS,
            0,
            messages[round_ * 37 :],
            total=LONG_USERS * LONG_MESSAGES,
            per_conversation=LONG_MESSAGES,
            served_empty=True,
        )
    )


def alternating(
    urls: dict[str, str], messages: list[str], users: int, seconds: float
) -> dict[str, Load]:
    """`users` for `seconds` on each URL, in `ROUNDS` slices taken in turn."""
    for url in urls.values():
        asyncio.run(run_load(url, 2, 5, messages))  # warm-up
    loads: dict[str, list[Load]] = {name: [] for name in urls}
    for _ in range(ROUNDS):
        for name, url in urls.items():
            loads[name].append(
                asyncio.run(run_load(url, users, seconds / ROUNDS, messages))
            )
    return {name: merged(runs) for name, runs in loads.items()}


def endpoints_without_cache(source: Path, name: str) -> Path:
    """A copy of an endpoints file whose tracker store has `cache_size: 0`."""
    endpoints = yaml.safe_load(source.read_text(encoding="utf-8"))
    endpoints["tracker_store"]["cache_size"] = 0
    path = VAR / name
    path.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    return path


def busy(name: str, load: Load) -> str:
    """A row's name with how busy the whole machine was meanwhile."""
    return f"{name} (machine {100 * load.busy:.0f} % busy)"


def growth_row(m: Measured, baseline: Measured | None) -> str:
    g = m.growth
    versus = f"{g.ratio / baseline.growth.ratio:.2f}x" if baseline else "–"
    return (
        f"| {m.name} | {g.median_ms(EARLY):.0f} | {g.median_ms(LATE):.0f} |"
        f" {g.ratio:.2f}x | {versus} | {g.errors} |"
    )


def report(
    bots: list[Measured],
    topology: list[Measured],
    topology_rows: list[str],
    note: str,
) -> list[str]:
    """The section `## Conversation length` of serving.md (bots[0]: the minimal bot)."""
    base = bots[0]
    lines = [
        "## Conversation length (issue 19)",
        "",
        note,
        "",
        f"Growth: {CONVERSATIONS} conversations of {TURNS} messages per bot, one"
        " message at a time over REST, the bots taking turns (one conversation of"
        " each, then the next); median latency of turns 2–11 and of turns 91–100,"
        " pooled over the conversations. Target: turns 91–100 at most 1.3x turns"
        " 2–11. Errors: answers without any message (the minimal bot has no"
        " fallback); their latency counts, they are a whole turn's work.",
        "",
        "| bot | turns 2–11 ms | turns 91–100 ms | 91–100 vs 2–11 | growth vs minimal"
        " bot's | errors |",
        "|---|---|---|---|---|---|",
        growth_row(base, None),
        *(growth_row(m, base) for m in bots[1:]),
        *(growth_row(m, base) for m in topology),
        "",
        f"{LONG_USERS} users at once, each in one conversation of {LONG_MESSAGES}"
        f" messages (closed loop), {ROUNDS} rounds per bot, the bots taking turns;"
        " answers without messages count as answered (and as errors, 'empty'). Targets"
        " for the full bot: throughput at least 1.2x and p95 at most 0.8x the minimal"
        " bot's. The topology rows ran after the three bots, not in turns with them."
        " 'Machine busy': the share of both cores' time that any process (the load"
        " client, the servers, other people's jobs on this shared machine) used"
        " meanwhile; near 100 % the machine, not the bot, sets the pace.",
        "",
        HEADER,
        RULE,
        row(busy(base.name, base.long), base.long),
        *(row(busy(m.name, m.long), m.long, base.long) for m in bots[1:]),
        *(row(busy(m.name, m.long), m.long, base.long) for m in topology),
        "",
    ]
    if topology_rows:
        lines += [
            "The topology at 10 users, a new conversation every 8 messages (as in the"
            " topology table above; target: p95 under 250 ms at 10 users, two instances"
            f" at least 1.5x one): one instance and two behind nginx in {ROUNDS}"
            " alternating slices each. Ratio columns: the first row against nothing,"
            " the others against one instance of the same set-up (the one-instance"
            " row without the cache against the one with it).",
            "",
            HEADER.replace("vs baseline", "vs 1 instance"),
            RULE,
            *topology_rows,
            "",
        ]
    return lines


MARK_START = "<!-- conversation-length: start -->"
MARK_END = "<!-- conversation-length: end -->"


def replace_section(out: Path, lines: list[str]) -> list[str]:
    """serving.md with this section put in (or replaced), the rest kept."""
    old = out.read_text(encoding="utf-8") if out.exists() else "# Serving benchmark\n"
    block = "\n".join([MARK_START, *lines, MARK_END])
    if MARK_START in old and MARK_END in old:
        head, rest = old.split(MARK_START, 1)
        tail = rest.split(MARK_END, 1)[1]
        text = head + block + tail
    else:
        marker = "\n## Notes (added after the run)"
        if marker in old:
            head, tail = old.split(marker, 1)
            text = head.rstrip("\n") + "\n\n" + block + "\n" + marker + tail
        else:
            text = old.rstrip("\n") + "\n\n" + block + "\n"
    return text.rstrip("\n").split("\n")
