"""Load for the serving benchmark (bench/serve.py): the bots under test and the users.

`Server`: a `rasa run` (and its action server) on free ports; `run_load`: an asyncio
closed loop of simulated users on aiohttp, each posting one message to the REST
webhook, waiting for the answer, then posting the next (a new conversation every 8
messages unless told otherwise). Also used by bench/soak.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import yaml

from iom.core.settings import ROOT
from iom.tools.launch import free_port, wait_for

RASA = str(ROOT / ".venv" / "bin" / "rasa")
PYTHON = str(ROOT / ".venv" / "bin" / "python")
VAR = ROOT / "var" / "bench"
NO_LIMITS = {"RATE_LIMIT_SENDER_PER_MIN": "0", "RATE_LIMIT_IP_PER_MIN": "0"}


def heldout_messages() -> list[str]:
    messages: list[str] = []
    for path in sorted((ROOT / "tests" / "nlu_heldout" / "v2").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            messages += [
                line[2:].strip()
                for line in block["examples"].splitlines()
                if line.startswith("- ")
            ]
    random.Random(2002).shuffle(messages)
    return messages


@dataclass
class Load:
    """Latencies and outcomes of one load level."""

    users: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    # CPU ticks of the whole machine during the load (/proc/stat): busy, all
    busy_ticks: int = 0
    all_ticks: int = 0

    @property
    def busy(self) -> float:
        """Share of the machine's CPU time that was busy (any process, anyone's)."""
        return self.busy_ticks / max(self.all_ticks, 1)

    @property
    def throughput(self) -> float:
        """Answered messages per second."""
        return len(self.latencies) / self.seconds

    def pct(self, q: float) -> float:
        """Latency percentile `q` (0-1) in milliseconds."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _user(
    session: aiohttp.ClientSession,
    url: str,
    messages: list[str],
    start: int,
    until: float,
    load: Load,
    limit: int | None,
    per_conversation: int,
    served_empty: bool,
) -> int:
    sent = 0
    sender = os.urandom(8).hex()
    while time.monotonic() < until and (limit is None or sent < limit):
        if sent and sent % per_conversation == 0:
            sender = os.urandom(8).hex()
        text = messages[(start + sent) % len(messages)]
        began = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": text}) as r:
                body = await r.text()
                ok = r.status == 200 and json.loads(body)
                key = "ok" if ok else f"HTTP {r.status}" if r.status != 200 else "empty"
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            key = type(error).__name__
        if key == "ok" or (key == "empty" and served_empty):
            load.latencies.append(time.perf_counter() - began)
        if key != "ok":
            load.errors[key] = load.errors.get(key, 0) + 1
        sent += 1
    return sent


async def run_load(
    url: str,
    users: int,
    seconds: float,
    messages: list[str],
    total: int | None = None,
    per_conversation: int = 8,
    served_empty: bool = False,
) -> Load:
    """Closed loop: `users` at once for `seconds` (or until `total` messages).

    Each user starts a new conversation every `per_conversation` messages. With
    `served_empty`, an answer without messages (the minimal bot has no fallback)
    counts as answered too (it is a whole turn's work), and still as "empty".
    """
    load = Load(users, seconds)
    busy_before, all_before = machine_ticks()
    per_user = None if total is None else -(-total // users)
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=users + 5)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        began = time.monotonic()
        until = began + (seconds if total is None else 24 * 3600)
        await asyncio.gather(
            *(
                _user(
                    session,
                    url,
                    messages,
                    i * 97,
                    until,
                    load,
                    per_user,
                    per_conversation,
                    served_empty,
                )
                for i in range(users)
            )
        )
        load.seconds = time.monotonic() - began
    busy_after, all_after = machine_ticks()
    load.busy_ticks, load.all_ticks = busy_after - busy_before, all_after - all_before
    return load


def machine_ticks() -> tuple[int, int]:
    """The machine's CPU ticks so far: busy (not idle or waiting), all."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def merged(loads: list[Load]) -> Load:
    """Several runs of one level as one (their latencies, errors and seconds)."""
    total = Load(loads[0].users, sum(load.seconds for load in loads))
    for load in loads:
        total.busy_ticks += load.busy_ticks
        total.all_ticks += load.all_ticks
        total.latencies += load.latencies
        for key, count in load.errors.items():
            total.errors[key] = total.errors.get(key, 0) + count
    return total


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children, MiB (from /proc)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class Server:
    """A `rasa run` (and optionally `rasa run actions`) subprocess pair."""

    def __init__(
        self,
        name: str,
        cwd: Path,
        model: Path,
        endpoints: str | None,
        credentials: str,
        actions: bool,
        env: dict[str, str],
    ) -> None:
        self.port, self.action_port = free_port(), free_port()
        self.env = {**os.environ, **env, "ACTION_PORT": str(self.action_port)}
        self.env.setdefault("ACTION_HOST", "127.0.0.1")
        self.logs = VAR / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.actions = None
        if actions:
            self.actions = subprocess.Popen(
                [
                    RASA,
                    "run",
                    "actions",
                    "--port",
                    str(self.action_port),
                    "--actions",
                    "actions",
                ],
                cwd=cwd,
                env=self.env,
                stdout=open(self.logs / f"{name}-actions.log", "w"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
            )
        args = [
            RASA,
            "run",
            "--model",
            str(model),
            "--port",
            str(self.port),
            "--interface",
            "127.0.0.1",
            "--credentials",
            credentials,
        ]
        if endpoints:
            args += ["--endpoints", endpoints]
        began = time.monotonic()
        self.rasa = subprocess.Popen(
            args,
            cwd=cwd,
            env=self.env,
            stdout=open(self.logs / f"{name}-rasa.log", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        wait_for(f"http://127.0.0.1:{self.port}/", 600)
        self.ready_seconds = time.monotonic() - began
        if self.actions:
            wait_for(f"http://127.0.0.1:{self.action_port}/health", 300)

    @property
    def url(self) -> str:
        """The REST webhook of this server."""
        return f"http://127.0.0.1:{self.port}/webhooks/rest/webhook"

    def close(self) -> None:
        """Stop the servers."""
        for process in (self.rasa, self.actions):
            if process and process.poll() is None:
                process.terminate()
                process.wait(60)


def levels(
    url: str, messages: list[str], users: list[int], seconds: float
) -> list[Load]:
    asyncio.run(run_load(url, 2, 5, messages))  # warm-up
    return [asyncio.run(run_load(url, n, seconds, messages)) for n in users]


def full_bot(
    name: str, endpoints: str, db: Path, extra: dict[str, str] | None = None
) -> Server:
    """The full bot as `make run` starts it (actions, SQLite file `db`), no rate limits.

    `extra` changes its environment (the levers).
    """
    return Server(
        name,
        ROOT,
        ROOT / "models" / "iom.tar.gz",
        endpoints,
        "credentials.yml",
        actions=True,
        env={
            **NO_LIMITS,
            "TRACKER_URL": f"sqlite:///{db}",
            **(extra or {}),
        },
    )
