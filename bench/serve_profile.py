"""Where the serving benchmark's time goes (bench/serve.py): py-spy, loading, training.

`profile`: py-spy samples of a Rasa server under load, by part of the bot;
`model_load`: importing Rasa and `Agent.load` in a fresh process; `timed` and
`component_seconds`: a training from scratch and its time per component.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.serve_load import PYTHON, RASA, VAR, run_load
from iom.core.settings import ROOT

PY_SPY = str(ROOT / ".venv" / "bin" / "py-spy")


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
    ("tracker store: redaction (phonenumbers, python-stdnum)", "iom/core/redaction"),
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
