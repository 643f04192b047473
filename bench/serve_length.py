"""Conversation length in the serving benchmark (bench/serve.py, issue 19).

A turn should cost the same at message 100 as at message 5. Measured as a new user
would, one conversation at a time over REST:
- growth: `CONVERSATIONS` conversations of `TURNS` messages, one after the other;
  the median latency of turns 2-11 vs turns 91-100 (pooled over the conversations);
- long conversations under load: 10 users, each in conversations of 30 messages
  (not a new conversation every 8 messages, which hides the growth);
each for the minimal `rasa init` bot, the full bot as shipped (tracker cache on) and
the full bot with `cache_size: 0` (Rasa's own loading and saving), and on the
production topology. `report` writes the section of bench/results/serving.md.
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

from bench.serve_load import VAR, Load, run_load
from bench.serve_report import HEADER, RULE, row

TURNS = 100
CONVERSATIONS = 3
LONG_USERS = 10
LONG_MESSAGES = 30
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


def growth(url: str, messages: list[str]) -> Growth:
    """`CONVERSATIONS` conversations of `TURNS` messages, one after the other."""
    total = Growth()
    for c in range(CONVERSATIONS):
        one = asyncio.run(_conversation(url, messages, c * 211))
        total.turns += one.turns
        total.errors += one.errors
    return total


def long_conversations(url: str, messages: list[str], seconds: float) -> Load:
    """10 users for `seconds`, each in conversations of 30 messages."""
    return asyncio.run(
        run_load(url, LONG_USERS, seconds, messages, per_conversation=LONG_MESSAGES)
    )


@dataclass
class Measured:
    """Growth and long-conversation load of one bot."""

    name: str
    growth: Growth
    long: Load


def measure(name: str, url: str, messages: list[str], seconds: float) -> Measured:
    """Both measurements on a running bot (after a warm-up)."""
    asyncio.run(run_load(url, 2, 5, messages))
    return Measured(
        name, growth(url, messages), long_conversations(url, messages, seconds)
    )


def endpoints_without_cache(source: Path, name: str) -> Path:
    """A copy of an endpoints file whose tracker store has `cache_size: 0`."""
    endpoints = yaml.safe_load(source.read_text(encoding="utf-8"))
    endpoints["tracker_store"]["cache_size"] = 0
    path = VAR / name
    path.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    return path


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
        f"Growth: {CONVERSATIONS} conversations of {TURNS} messages each, one user,"
        " one message at a time over REST; median latency of turns 2–11 and of turns"
        " 91–100, pooled over the conversations. Target: turns 91–100 at most 1.3x"
        " turns 2–11.",
        "",
        "| bot | turns 2–11 ms | turns 91–100 ms | 91–100 vs 2–11 | growth vs minimal"
        " bot's | errors |",
        "|---|---|---|---|---|---|",
        growth_row(base, None),
        *(growth_row(m, base) for m in bots[1:]),
        *(growth_row(m, base) for m in topology),
        "",
        f"{LONG_USERS} users, each in conversations of {LONG_MESSAGES} messages"
        " (closed loop, as above). Targets for the full bot: throughput at least 1.2x"
        " and p95 at most 0.8x the minimal bot's.",
        "",
        HEADER,
        RULE,
        row(base.name, base.long),
        *(row(m.name, m.long, base.long) for m in bots[1:]),
        *(row(m.name, m.long, base.long) for m in topology),
        "",
    ]
    if topology_rows:
        lines += [
            "The topology at 10 users, a new conversation every 8 messages (as in the"
            " topology table above; target: p95 under 250 ms at 10 users, two instances"
            " at least 1.5x one). Ratio columns: against one instance with the cache.",
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
