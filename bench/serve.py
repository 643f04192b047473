"""Serving benchmark: the full bot vs a minimal `rasa init` bot, and one vs two instances.

    make bench-serve        # writes bench/results/serving.md (about 30 minutes)

Load tool: an asyncio closed-loop client on aiohttp (already in Rasa's venv): each
simulated user posts one message to POST /webhooks/rest/webhook, waits for the
answer, and posts the next; it starts a new conversation every 8 messages. Messages
are the held-out NLU sets (tests/nlu_heldout/v2, Polish and English, shuffled).

Runs, all in one go on the same machine:
1. baseline: `rasa init --no-prompt` (Rasa 3.6.21's minimal bot, its own config,
   in-memory tracker store), trained here; 1, 10 and 50 users;
2. the full bot as `make run` starts it (SQLite tracker store with redaction, custom
   actions); 1, 10 and 50 users; py-spy samples of the server during another 10-user
   load (where the time goes); then 10,000 messages for the memory growth; the
   training time by component (Rasa's log lines) and the model load time alone
   (`Agent.load` in a fresh process, apart from importing Rasa), also with Rasa's
   own DIET loading instead of iom/rasa/nlu/diet.py's (a lever);
2b. levers: the full bot again with one setting changed (the tracker store on the
   event loop; TensorFlow on one thread), at 10 and 50 users;
3. the production topology (scripts/topology.sh: PostgreSQL, Redis lock store, nginx,
   two Rasa instances): 10 and 50 users against one instance and through nginx to two,
   then a consistency check, 3 times: 50 users x 20 messages, some sent two at once,
   through nginx; every message must be stored exactly once, in order, with its
   answers; the same check on the topology started again with Rasa 3.6's own Redis
   lock store (the baseline, RasaHQ/rasa#9213); then one instance with two Sanic
   workers (`SANIC_WORKERS=2`) at 10 and 50 users.
The channels' rate limits are switched off for the load (they would answer most
requests with a 429 in a closed loop); the numbers are the bot's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bench.nlu_heldout import head_commit, machine, write_report
from iom.tools.launch import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent

RASA = str(ROOT / ".venv" / "bin" / "rasa")
PYTHON = str(ROOT / ".venv" / "bin" / "python")
PY_SPY = str(ROOT / ".venv" / "bin" / "py-spy")
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
) -> int:
    sent = 0
    sender = os.urandom(8).hex()
    while time.monotonic() < until and (limit is None or sent < limit):
        if sent and sent % 8 == 0:
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
        if key == "ok":
            load.latencies.append(time.perf_counter() - began)
        else:
            load.errors[key] = load.errors.get(key, 0) + 1
        sent += 1
    return sent


async def run_load(
    url: str,
    users: int,
    seconds: float,
    messages: list[str],
    total: int | None = None,
) -> Load:
    """Closed loop: `users` at once for `seconds` (or until `total` messages)."""
    load = Load(users, seconds)
    per_user = None if total is None else -(-total // users)
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=users + 5)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        began = time.monotonic()
        until = began + (seconds if total is None else 24 * 3600)
        await asyncio.gather(
            *(
                _user(session, url, messages, i * 97, until, load, per_user)
                for i in range(users)
            )
        )
        load.seconds = time.monotonic() - began
    return load


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


MODEL_LOAD = """
import json, sys, time
began = time.monotonic()
from rasa.core.agent import Agent
imported = time.monotonic()
if sys.argv[2:] == ["rasa-diet-loading"]:  # the lever: Rasa's own DIET.load
    from rasa.nlu.classifiers.diet_classifier import DIET
    from iom.rasa.nlu.diet import LeanDIETClassifier
    LeanDIETClassifier.model_class = staticmethod(lambda: DIET)
Agent.load(sys.argv[1])
loaded = time.monotonic() - imported
status = open("/proc/self/status").read().split("VmRSS:")[1].split()[0]
print(json.dumps({"imports": imported - began, "load": loaded, "rss": int(status) / 1024}))
"""


def model_load(
    cwd: Path, model: Path, env: dict[str, str], *variant: str
) -> dict[str, float]:
    """Seconds to import Rasa and to load the model, and the RSS, in a fresh process.

    The model load is `Agent.load`, every component's own warm-up included;
    `variant` "rasa-diet-loading" loads DIET the way Rasa does (iom/rasa/nlu/diet.py).
    """
    done = subprocess.run(
        [PYTHON, "-c", MODEL_LOAD, str(model), *variant],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# Where the Rasa server's Python time goes, by the frames on each sampled stack.
PROFILE_PARTS = [
    ("NLU: the whole pipeline (parse_message)", "parse_message"),
    ("NLU: TensorFlow (DIET)", "tensorflow/"),
    ("NLU: featurizers (scikit-learn, scipy)", "sklearn/"),
    ("NLU: lemmatizer (simplemma)", "iom/rasa/nlu/lemmatizers"),
    ("NLU: language detection (lexicons, lingua)", "iom/core/detection"),
    ("dialogue policies (predict next action)", "rasa/core/policies/"),
    ("tracker store: redaction (presidio, phonenumbers)", "iom/core/redaction"),
    ("tracker store: SQL (SQLAlchemy, sqlite3)", "sqlalchemy/"),
    ("tracker (de)serialisation", "rasa/shared/core/trackers.py"),
    ("custom action call (HTTP client)", "aiohttp/"),
    ("HTTP server (Sanic)", "sanic/"),
]


# Leaf frames that are waiting, not working: the event loop inside uvloop's C code
# (polling, socket I/O) and the thread pool's idle workers.
WAITING = ("serve (sanic/server/runners.py", "_worker (concurrent/futures/thread.py")


def profile(pid: int, url: str, messages: list[str], seconds: float) -> dict[str, Any]:
    """py-spy samples of the Rasa server during a 10-user load.

    Returns the share of busy samples (Python threads, idle excluded) per part and
    the top frames by own time.
    """
    raw = VAR / "profile.txt"
    raw.unlink(missing_ok=True)
    spy = subprocess.Popen(
        [PY_SPY, "record", "--pid", str(pid), "--duration", str(int(seconds))]
        + ["--rate", "100", "--nonblocking", "--format", "raw", "--output", str(raw)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1)
    load = asyncio.run(run_load(url, 10, seconds, messages))
    spy.wait(120)
    total, parts = 0, dict.fromkeys((p for p, _ in PROFILE_PARTS), 0)
    leaves: dict[str, int] = {}
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        leaf = stack.rsplit(";", 1)[-1]
        if not count.isdigit() or leaf.startswith(WAITING):
            continue
        samples = int(count)
        total += samples
        for part, needle in PROFILE_PARTS:
            if needle in stack:
                parts[part] += samples
        leaves[leaf] = leaves.get(leaf, 0) + samples
    top = sorted(leaves.items(), key=lambda kv: -kv[1])[:12]
    return {"samples": total, "parts": parts, "top": top, "load": load}


def timed(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, log: str = "train"
) -> float:
    """Seconds a command takes, with an empty Rasa training cache (no reuse).

    Its output goes to var/bench/logs/<log>.log (read by `component_seconds`).
    """
    cache = VAR / "empty-cache"
    shutil.rmtree(cache, ignore_errors=True)
    env = {**(env or {}), "RASA_CACHE_DIRECTORY": str(cache)}
    (VAR / "logs").mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    with open(VAR / "logs" / f"{log}.log", "w") as out:
        subprocess.run(
            args,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            check=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return time.monotonic() - began


_TRAIN_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) .*(Starting to train|Finished training)"
    r" component '(\w+)'"
)


def component_seconds(log: str) -> dict[str, float]:
    """Seconds each component spent in `train` (Rasa's own log lines, 1 s steps)."""
    started: dict[str, datetime] = {}
    spent: dict[str, float] = {}
    text = (VAR / "logs" / f"{log}.log").read_text(encoding="utf-8", errors="replace")
    for line in text.splitlines():
        match = _TRAIN_LINE.match(line)
        if not match:
            continue
        when = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S")
        if match[2].startswith("Starting"):
            started[match[3]] = when
        elif match[3] in started:
            seconds = (when - started.pop(match[3])).total_seconds()
            spent[match[3]] = spent.get(match[3], 0.0) + seconds
    return spent


def baseline_bot() -> tuple[Path, float]:
    """A fresh `rasa init --no-prompt` project, trained now; (dir, train seconds)."""
    project = VAR / "rasa-init"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    # `rasa init` trains as part of creating the project
    seconds = timed(
        [RASA, "init", "--no-prompt", "--init-dir", str(project)], project, log="init"
    )
    return project, seconds


def levels(
    url: str, messages: list[str], users: list[int], seconds: float
) -> list[Load]:
    asyncio.run(run_load(url, 2, 5, messages))  # warm-up
    return [asyncio.run(run_load(url, n, seconds, messages)) for n in users]


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


LOCK_STORES = {
    "shipped": "`iom.rasa.lock_store.AtomicRedisLockStore` (shipped)",
    "rasa": "Rasa 3.6 `RedisLockStore` (baseline)",
}


def consistency_row(name: str, runs: list[dict[str, int]]) -> str:
    """One table row: the consistency checks of one lock store, added up."""
    keys = [
        "messages",
        "lost",
        "duplicated",
        "conversations_differing",
        "answers_not_stored",
    ]
    total = {key: sum(run[key] for run in runs) for key in keys}
    return (
        f"| {name} | {len(runs)} | {total['messages']:,} | {total['lost']} |"
        f" {total['duplicated']} | {total['conversations_differing']} |"
        f" {total['answers_not_stored']} |"
    )


def row(name: str, load: Load, baseline: Load | None = None) -> str:
    ratio = ""
    if baseline:
        ratio = (
            f" | {load.throughput / baseline.throughput:.2f}x"
            f" | {load.pct(0.95) / baseline.pct(0.95):.2f}x"
        )
    else:
        ratio = " | – | –"
    errors = sum(load.errors.values())
    if (
        errors
    ):  # e.g. "empty": a 200 with no message at all (`rasa init` has no fallback)
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(load.errors.items()))
        errors = f"{errors} ({kinds})"  # type: ignore[assignment]
    return (
        f"| {name} | {load.users} | {load.throughput:.1f} | {load.pct(0.5):.0f} |"
        f" {load.pct(0.95):.0f} | {load.pct(0.99):.0f} | {len(load.latencies):,} |"
        f" {errors}{ratio} |"
    )


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
            "PYTHONPATH": str(ROOT),
            "TRACKER_URL": f"sqlite:///{db}",
            **(extra or {}),
        },
    )


def levers(on_loop: Path) -> list[tuple[str, str, dict[str, str]]]:
    """Variations of the full bot: (name, endpoints file, extra environment)."""
    return [
        ("tracker store on the event loop (`off_loop: false`)", str(on_loop), {}),
        (
            "TensorFlow on 1 intra-op and 1 inter-op thread",
            "endpoints.yml",
            {
                "TF_INTRA_OP_PARALLELISM_THREADS": "1",
                "TF_INTER_OP_PARALLELISM_THREADS": "1",
            },
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30, help="per load level")
    parser.add_argument("--memory-messages", type=int, default=10_000)
    parser.add_argument("--skip-topology", action="store_true")
    parser.add_argument(
        "--consistency-runs",
        type=int,
        default=3,
        help="consistency checks per lock store (1,000 messages each)",
    )
    parser.add_argument(
        "--skip-levers", action="store_true", help="do not measure the variations"
    )
    parser.add_argument(
        "--skip-train", action="store_true", help="do not time a full training (smoke)"
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "serving.md"))
    args = parser.parse_args()
    messages = heldout_messages()
    users = [1, 10, 50]
    lines: list[str] = []
    VAR.mkdir(parents=True, exist_ok=True)

    # 1. baseline
    init_dir, init_train = baseline_bot()
    init_model = next((init_dir / "models").glob("*.tar.gz"))
    base = Server(
        "init",
        init_dir,
        init_model,
        "endpoints.yml",
        "credentials.yml",
        actions=False,
        env={},
    )
    base_rss_warm = rss_mib(base.rasa.pid)
    base_loads = levels(base.url, messages, users, args.seconds)
    base_rss_after = rss_mib(base.rasa.pid)
    base_ready = base.ready_seconds
    base.close()
    base_load = model_load(init_dir, init_model, {})

    # 2. the full bot, embedded default (SQLite with redaction)
    train_dir = VAR / "train"
    shutil.rmtree(train_dir, ignore_errors=True)
    full_train = (
        0.0
        if args.skip_train
        else timed(
            [
                RASA,
                "train",
                "--force",
                "--out",
                str(train_dir),
                "--fixed-model-name",
                "iom",
            ],
            ROOT,
            {"PYTHONPATH": str(ROOT)},
            log="train-full",
        )
    )
    init_parts = component_seconds("init")
    full_parts = {} if args.skip_train else component_seconds("train-full")
    db = VAR / "full.db"
    db.unlink(missing_ok=True)
    full = full_bot("full", "endpoints.yml", db)
    full_rss_warm = rss_mib(full.rasa.pid)
    actions_rss_warm = rss_mib(full.actions.pid) if full.actions else 0.0
    full_loads = levels(full.url, messages, users, args.seconds)
    full_rss_levels = rss_mib(full.rasa.pid)
    prof = profile(full.rasa.pid, full.url, messages, min(args.seconds, 30))
    memory_load = asyncio.run(
        run_load(full.url, 10, 0, messages, total=args.memory_messages)
    )
    full_rss_after = rss_mib(full.rasa.pid)
    actions_rss_after = rss_mib(full.actions.pid) if full.actions else 0.0
    full_ready = full.ready_seconds
    full.close()
    full_load = model_load(
        ROOT, ROOT / "models" / "iom.tar.gz", {"PYTHONPATH": str(ROOT)}
    )
    rasa_diet_load = model_load(
        ROOT,
        ROOT / "models" / "iom.tar.gz",
        {"PYTHONPATH": str(ROOT)},
        "rasa-diet-loading",
    )

    # 2b. variations of the full bot (levers), each at 10 and 50 users
    lever_rows: list[str] = []
    if not args.skip_levers:
        on_loop = VAR / "endpoints-on-loop.yml"
        endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
        endpoints["tracker_store"]["off_loop"] = False
        on_loop.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
        for name, endpoints_file, extra in levers(on_loop):
            db.unlink(missing_ok=True)
            variant = full_bot("lever", endpoints_file, db, extra)
            try:
                loads = levels(variant.url, messages, [10, 50], args.seconds)
            finally:
                variant.close()
            shipped = {load.users: load for load in full_loads}
            lever_rows += [row(name, load, shipped[load.users]) for load in loads]

    # 3. production topology
    topo_rows: list[str] = []
    checks: dict[str, list[dict[str, int]]] = {}
    if not args.skip_topology:
        env = {
            **NO_LIMITS,
            "TOPOLOGY_RATE_PER_MIN": "0",
            "RASA_PORT": str(free_port()),
            "ACTION_PORT": str(free_port()),
            "TOPOLOGY_DIR": str(VAR / "topology"),
        }
        shutil.rmtree(VAR / "topology", ignore_errors=True)
        topology("up", env)
        try:
            one = "http://127.0.0.1:5011/webhooks/rest/webhook"
            both = f"http://127.0.0.1:{env['RASA_PORT']}/webhooks/rest/webhook"
            singles = levels(one, messages, [10, 50], args.seconds)
            doubles = levels(both, messages, [10, 50], args.seconds)
            for s, d in zip(singles, doubles, strict=True):
                topo_rows.append(row("topology, 1 instance", s))
                topo_rows.append(row("topology, 2 instances (nginx)", d, s))
            tracker_url = topology("env", env).strip().split("=", 1)[1]
            checks["shipped"] = [
                consistency(both, tracker_url) for _ in range(args.consistency_runs)
            ]
        finally:
            topology("down", env)
        # the baseline: the same topology on Rasa 3.6's own Redis lock store
        rasa_lock = VAR / "endpoints-rasa-lock.yml"
        production = yaml.safe_load((ROOT / "deploy" / "endpoints.yml").read_text())
        production["lock_store"]["type"] = "redis"
        rasa_lock.write_text(yaml.safe_dump(production), encoding="utf-8")
        rasa_env = {**env, "TOPOLOGY_ENDPOINTS": str(rasa_lock)}
        topology("up", rasa_env)
        try:
            checks["rasa"] = [
                consistency(both, tracker_url) for _ in range(args.consistency_runs)
            ]
        finally:
            topology("down", rasa_env)
        # lever: one instance with two Sanic workers (Rasa allows more than one
        # worker only with a shared lock store such as Redis)
        workers_env = {**env, "RASA_INSTANCES": "1", "SANIC_WORKERS": "2"}
        topology("up", workers_env)
        try:
            workers = levels(one, messages, [10, 50], args.seconds)
        finally:
            topology("down", workers_env)
        topo_rows += [
            row("topology, 1 instance with 2 Sanic workers", w, s)
            for s, w in zip(singles, workers, strict=True)
        ]

    header = (
        "| bot | users | msg/s | p50 ms | p95 ms | p99 ms | answered | errors |"
        " throughput vs baseline | p95 vs baseline |"
    )
    rule = "|---|---|---|---|---|---|---|---|---|---|"
    commit = head_commit()
    lines += [
        "# Serving benchmark",
        "",
        f"Machine: {machine()}. Commit `{commit}`. `make bench-serve` (bench/serve.py):"
        f" asyncio + aiohttp closed loop, {args.seconds:.0f} s per level after a warm-up,"
        " held-out PL/EN messages, a new conversation every 8 messages, channel rate"
        " limits off. Baseline: `rasa init --no-prompt` (Rasa 3.6.21), trained and"
        " measured in the same run.",
        "",
        "## One instance: full bot vs minimal bot",
        "",
        header,
        rule,
    ]
    for b, f in zip(base_loads, full_loads, strict=True):
        lines.append(row("minimal `rasa init`", b))
        lines.append(row("full bot (SQLite, actions, redaction)", f, b))
    lines += [
        "",
        "## Start-up, memory, training",
        "",
        "| | minimal `rasa init` | full bot |",
        "|---|---|---|",
        f"| training (`rasa train`, from scratch) | {init_train:.0f} s (inside `rasa init`)"
        f" | {full_train:.0f} s |",
        f"| start until the server answers (model load included) | {base_ready:.1f} s"
        f" | {full_ready:.1f} s |",
        f"| of which: importing Rasa | {base_load['imports']:.1f} s"
        f" | {full_load['imports']:.1f} s |",
        f"| of which: model load (`Agent.load`, components' warm-up included)"
        f" | {base_load['load']:.1f} s | {full_load['load']:.1f} s |",
        f"| lever: the same load with Rasa's own DIET loading (one training step"
        f" first; `iom/rasa/nlu/diet.py` explains) | – | {rasa_diet_load['load']:.1f} s"
        f" ({rasa_diet_load['load'] / full_load['load']:.2f}x the shipped) |",
        f"| RSS of a fresh process right after `Agent.load` | {base_load['rss']:.0f} MiB"
        f" | {full_load['rss']:.0f} MiB (Rasa's DIET loading:"
        f" {rasa_diet_load['rss']:.0f} MiB) |",
        f"| Rasa server RSS after warm-up | {base_rss_warm:.0f} MiB | {full_rss_warm:.0f} MiB |",
        f"| Rasa server RSS after the load levels | {base_rss_after:.0f} MiB"
        f" | {full_rss_levels:.0f} MiB |",
        f"| Rasa server RSS after {len(memory_load.latencies) + sum(memory_load.errors.values()):,}"
        f" more messages (10 users) | – | {full_rss_after:.0f} MiB"
        f" ({100 * (full_rss_after / full_rss_warm - 1):+.1f} % from warm-up) |",
        f"| action server RSS (warm-up / after) | – | {actions_rss_warm:.0f} /"
        f" {actions_rss_after:.0f} MiB |",
        "",
    ]
    if lever_rows:
        lines += [
            "## Levers: variations of the full bot",
            "",
            "Each variation started afresh and loaded as above; the ratio columns compare"
            " it with the full bot as shipped (the rows above, same run).",
            "",
            header.replace("vs baseline", "vs shipped"),
            rule,
            *lever_rows,
            "",
        ]
    names = sorted(
        set(init_parts) | set(full_parts),
        key=lambda n: -max(init_parts.get(n, 0), full_parts.get(n, 0)),
    )
    lines += [
        "Training time by component (`train` steps, from Rasa's own log lines, whole"
        " seconds; the rest is importing, reading and validating the data, featurizing"
        " and packing the model):",
        "",
        "| component | minimal `rasa init` | full bot |",
        "|---|---|---|",
        *(
            f"| {n} | {init_parts.get(n, 0):.0f} s | {full_parts.get(n, 0):.0f} s |"
            for n in names
            if max(init_parts.get(n, 0), full_parts.get(n, 0)) >= 1
        ),
        f"| everything else | {init_train - sum(init_parts.values()):.0f} s"
        f" | {full_train - sum(full_parts.values()):.0f} s |",
        "",
    ]
    busy = max(prof["samples"], 1)
    lines += [
        "## Where the full bot's time goes (py-spy, 10 users)",
        "",
        f"py-spy {version('py-spy')} sampled the Rasa server at 100 Hz (non-blocking) during"
        f" another {min(args.seconds, 30):.0f} s at 10 users ({prof['load'].throughput:.1f}"
        f" msg/s, p95 {prof['load'].pct(0.95):.0f} ms): {prof['samples']:,} busy samples of"
        " Python threads: samples that only wait (the event loop inside uvloop, idle"
        " thread-pool workers) are left out. A sample counts for every part on its"
        " stack, so the parts overlap.",
        "",
        "| part | share of busy samples |",
        "|---|---|",
        *(f"| {part} | {100 * n / busy:.1f} % |" for part, n in prof["parts"].items()),
        "",
        "Top frames by own time:",
        "",
        "| frame | share |",
        "|---|---|",
        *(f"| `{frame}` | {100 * n / busy:.1f} % |" for frame, n in prof["top"]),
        "",
    ]
    if topo_rows:
        lines += [
            "## Production topology (PostgreSQL, Redis lock store, nginx)",
            "",
            "Started by `scripts/topology.sh up` (what `make topology` runs). The ratio"
            " columns compare two instances behind nginx, or one instance with two Sanic"
            " workers (`SANIC_WORKERS=2`, started afresh after the consistency check),"
            " with one instance.",
            "",
            header.replace("vs baseline", "vs 1 instance"),
            rule,
            *topo_rows,
            "",
            "Consistency after concurrent load through nginx (two instances; every fifth"
            " turn sends two messages of one conversation at once; each run 50 new"
            " conversations of 20 messages, then every message looked up in PostgreSQL)."
            " Baseline: the same topology started again with Rasa 3.6's own Redis lock"
            " store (`type: redis`), whose ticket issue is not atomic (RasaHQ/rasa#9213,"
            " `bench/results/lock_store.md`):",
            "",
            "| lock store | runs | messages | lost | duplicated | conversations differing"
            " | answers not stored |",
            "|---|---|---|---|---|---|---|",
            *(
                consistency_row(LOCK_STORES[name], runs)
                for name, runs in checks.items()
            ),
            "",
        ]
    return write_report(lines, args.out)


if __name__ == "__main__":
    sys.exit(main())
