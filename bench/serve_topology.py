"""The production topology in the serving benchmark (bench/serve.py, bench/faults.py).

`topology`: scripts/topology.sh up/down/env; `consistency`: 50 conversations sent
through nginx at once, then every message looked up in the tracker store.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess

import aiohttp

from iom.core.settings import ROOT


def topology(command: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", "scripts/topology.sh", command],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"topology {command}: {done.stdout}{done.stderr}")
    return done.stdout


async def _consistency_user(
    session: aiohttp.ClientSession,
    url: str,
    sender: str,
    texts: list[str],
    answers: dict[str, int],
) -> None:
    i = 0
    while i < len(texts):
        # every fifth turn: two messages of one conversation at once (two instances)
        batch = texts[i : i + 2] if i % 5 == 0 else texts[i : i + 1]
        bodies = await asyncio.gather(
            *(session.post(url, json={"sender": sender, "message": t}) for t in batch)
        )
        for response in bodies:
            answers[sender] = answers.get(sender, 0) + len(await response.json())
            response.release()
        i += len(batch)


def consistency(
    url: str, tracker_url: str, users: int = 50, per_user: int = 20
) -> dict:
    """Send, then compare with the tracker store: every message once, answers all there."""
    import sqlalchemy as sa

    base = [
        "dzień dobry",
        "how do I get a residence card",
        "gdzie są kursy polskiego",
        "can I work legally",
        "numer do KCIK",
        "thank you",
    ]
    sent = {
        os.urandom(8).hex(): [f"{base[j % len(base)]} ({j})" for j in range(per_user)]
        for _ in range(users)
    }
    answers: dict[str, int] = {}

    async def go() -> None:
        timeout = aiohttp.ClientTimeout(total=300)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await asyncio.gather(
                *(
                    _consistency_user(session, url, s, t, answers)
                    for s, t in sent.items()
                )
            )

    asyncio.run(go())
    engine = sa.create_engine(tracker_url)
    lost = duplicated = reordered = bot_missing = 0
    with engine.connect() as connection:
        for sender, texts in sent.items():
            rows = connection.execute(
                sa.text(
                    "select type_name, data from events where sender_id = :s order by id"
                ),
                {"s": sender},
            ).all()
            stored = [json.loads(r.data)["text"] for r in rows if r.type_name == "user"]
            bots = sum(1 for r in rows if r.type_name == "bot")
            lost += sum(1 for t in texts if t not in stored)
            duplicated += len(stored) - len(set(stored))
            # messages sent at once may be processed in either order; others keep theirs
            reordered += int(sorted(stored) != sorted(texts))
            bot_missing += max(0, answers.get(sender, 0) - bots)
    return {
        "conversations": users,
        "messages": users * per_user,
        "lost": lost,
        "duplicated": duplicated,
        "conversations_differing": reordered,
        "answers_not_stored": bot_missing,
    }
