"""The live swap on two real Rasa instances under load, without training.

Two Rasa servers (HTTP API on, with a token) as in the topology; concurrent users
talk to both while `iom.tools.retrain.load_into_instances` loads a model into one
after the other with `PUT /model`. No request may fail. The model loaded is a copy
of the shipped one (a real load, the same work as a new model); the full loop with a
retrained model is tests/console/test_learning_e2e.py (`make test-learning`).
"""

from __future__ import annotations

import json
import secrets
import shutil
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from iom.tools import retrain
from iom.tools.launch import MODEL, LiveBot

LOOKUP, IOM_NUMBER = "what is the phone number of IOM?", "490 20 44"
MESSAGES = ["cześć", LOOKUP]


def test_two_instances_swap_models_under_load_without_a_failed_request(
    tmp_path: Path,
) -> None:
    token = secrets.token_hex(24)
    bots = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            bots.append(LiveBot(tmp_path / name, api_token=token))
        new_model = tmp_path / "candidate" / "model.tar.gz"
        new_model.parent.mkdir()
        shutil.copyfile(MODEL, new_model)
        results: list[float] = []
        errors: list[str] = []
        stop = threading.Event()

        def user(n: int) -> None:
            i = 0
            while not stop.is_set():
                bot = bots[(n + i) % 2]
                text = MESSAGES[(n + i // 2) % len(MESSAGES)]
                started = time.monotonic()
                try:
                    replies = bot.say(f"swap-{n}-{i}-{uuid.uuid4().hex[:6]}", text)
                    if not any(replies):
                        errors.append("empty answer")
                    # the lookup is a custom action: its number, never "try later"
                    if text == LOOKUP and IOM_NUMBER not in " ".join(replies):
                        errors.append(f"degraded answer: {replies}")
                    results.append(time.monotonic() - started)
                except (urllib.error.URLError, OSError, ValueError) as error:
                    errors.append(repr(error))
                i += 1

        threads = [threading.Thread(target=user, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        time.sleep(3)
        before = len(results)
        swap_started = time.monotonic()
        swap = retrain.load_into_instances(
            new_model, [bot.url for bot in bots], token, None
        )
        swap_seconds = time.monotonic() - swap_started
        during = len(results) - before
        time.sleep(3)
        stop.set()
        for thread in threads:
            thread.join(120)
        assert swap.loaded == [bot.url for bot in bots]
        assert errors == [], errors[:5]
        assert during > 0, "no request completed during the swap"
        for bot in bots:
            url = f"{bot.url}/status?token={token}"
            with urllib.request.urlopen(url, timeout=30) as response:
                status = json.load(response)
            assert status["model_file"].endswith("model.tar.gz")
            assert status["model_id"] == retrain.model_id_of(new_model)
        print(
            f"\nswap of 2 instances: {swap_seconds:.1f} s; {len(results)} requests, "
            f"{during} during the swap, 0 errors, slowest {max(results):.1f} s"
        )
    finally:
        for bot in bots:
            bot.close()
