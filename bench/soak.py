"""Soak: 30 minutes of moderate load on the full bot, as `make run` starts it.

    make soak                       # writes bench/results/soak.md
    python -m bench.soak --minutes 2 --out -

Five simulated users (asyncio + aiohttp), each waiting 1 s between an answer and its
next message, new conversation every 8 messages, held-out PL/EN messages. Every
minute: Rasa and action server resident memory. At the end: every answer must have
been a 200 with a message, memory growth from the first minute under 10 %, and every
sent message must be in the tracker store (as redacted text).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import aiohttp

from bench.report import head_commit, machine
from bench.serve_load import NO_LIMITS, VAR, Server, heldout_messages, rss_mib

ROOT = Path(__file__).resolve().parent.parent


async def soak(url: str, minutes: float, users: int, server: Server) -> dict:
    messages = heldout_messages()
    sent: list[tuple[str, str]] = []
    outcomes: dict[str, int] = {}
    memory: list[tuple[float, float, float]] = []
    until = time.monotonic() + 60 * minutes

    async def user(index: int) -> None:
        count = 0
        sender = os.urandom(8).hex()
        while time.monotonic() < until:
            if count and count % 8 == 0:
                sender = os.urandom(8).hex()
            text = (
                f"{messages[(index * 131 + count) % len(messages)]} ({index}-{count})"
            )
            try:
                async with session.post(
                    url, json={"sender": sender, "message": text}
                ) as r:
                    body = await r.text()
                    good = r.status == 200 and bool(json.loads(body))
                    key = "200 with answer" if good else f"HTTP {r.status}"
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                key = type(error).__name__
            outcomes[key] = outcomes.get(key, 0) + 1
            sent.append((sender, text))
            count += 1
            await asyncio.sleep(1.0)

    async def sample() -> None:
        began = time.monotonic()
        while time.monotonic() < until:
            memory.append(
                (
                    (time.monotonic() - began) / 60,
                    rss_mib(server.rasa.pid),
                    rss_mib(server.actions.pid) if server.actions else 0.0,
                )
            )
            await asyncio.sleep(60)

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await asyncio.gather(sample(), *(user(i) for i in range(users)))
    memory.append((minutes, rss_mib(server.rasa.pid), rss_mib(server.actions.pid)))
    return {"sent": sent, "outcomes": outcomes, "memory": memory}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "soak.md"))
    args = parser.parse_args()
    import sqlalchemy as sa

    from iom.core.redaction import default_redactor

    VAR.mkdir(parents=True, exist_ok=True)
    db = VAR / "soak.db"
    db.unlink(missing_ok=True)
    server = Server(
        "soak",
        ROOT,
        ROOT / "models" / "iom.tar.gz",
        "endpoints.yml",
        "credentials.yml",
        actions=True,
        env={**NO_LIMITS, "TRACKER_URL": f"sqlite:///{db}"},
    )
    try:
        result = asyncio.run(soak(server.url, args.minutes, args.users, server))
    finally:
        server.close()
    redactor = default_redactor()
    with sa.create_engine(f"sqlite:///{db}").connect() as connection:
        rows = connection.execute(
            sa.text("select sender_id, data from events where type_name = 'user'")
        ).all()
    stored = {(r.sender_id, json.loads(r.data)["text"]) for r in rows}
    missing = [
        (s, t) for s, t in result["sent"] if (s, redactor.redact(t)) not in stored
    ]
    memory = result["memory"]
    # growth is measured from minute 1 (after the first minute of load: warm-up)
    first, last = (memory[1] if len(memory) > 2 else memory[0]), memory[-1]
    growth = 100 * (last[1] / first[1] - 1)
    action_growth = 100 * (last[2] / first[2] - 1) if first[2] else 0.0
    errors = sum(v for k, v in result["outcomes"].items() if k != "200 with answer")
    commit = head_commit()
    steady = growth < 10 and action_growth < 10
    verdict = "pass" if not errors and not missing and steady else "FAIL"
    lines = [
        "# Soak run",
        "",
        f"Machine: {machine()}. Commit `{commit}`. `make soak` (bench/soak.py):"
        f" {args.minutes:.0f} minutes, {args.users} users, 1 s between an answer and the"
        " next message, the full bot as `make run` starts it (SQLite tracker store with"
        " redaction, custom actions), channel rate limits off.",
        "",
        "| what | result |",
        "|---|---|",
        f"| messages sent | {len(result['sent']):,}"
        f" ({len(result['sent']) / (60 * args.minutes):.1f}/s) |",
        f"| answers | {', '.join(f'{k}: {v:,}' for k, v in result['outcomes'].items())} |",
        f"| error responses | {errors} |",
        f"| sent messages missing from the tracker store | {len(missing)} |",
        f"| Rasa server RSS, minute {first[0]:.0f} → end | {first[1]:.0f} → {last[1]:.0f} MiB"
        f" ({growth:+.1f} %) |",
        f"| action server RSS, minute {first[0]:.0f} → end | {first[2]:.0f} →"
        f" {last[2]:.0f} MiB"
        f" ({action_growth:+.1f} %) |",
        f"| verdict (no errors, nothing missing, both grow < 10 %) | {verdict} |",
        "",
        "Memory by minute (MiB): "
        + ", ".join(
            f"{m:.0f}: {r:.0f}" for m, r, _ in memory[:: max(1, len(memory) // 12)]
        ),
        "",
    ]
    text = "\n".join(lines) + "\n"
    if args.out != "-":
        Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0 if verdict == "pass" else 1


if __name__ == "__main__":
    sys.exit(main())
