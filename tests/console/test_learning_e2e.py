"""The learning loop end to end (issue 17): `make test-learning`, ~20 minutes.

A real Rasa server (HTTP API on, with a token) and action server answer users; an
operator corrects two wrongly understood messages in the console, an admin accepts
them; `make retrain` trains a candidate, the gate compares it with the live model,
it is promoted into the running server with `PUT /model` while a load of concurrent
users keeps talking (zero failed requests allowed); the bot now understands the
corrected messages; the admin's rollback button puts the former model back, again
under load.

Marked `learning` (left out of `make console-test`): each test trains a model on both
cores (measured 2026-11-30 on 2 shared cores: 10.5 and 8.3 minutes, 18.8 together).
Runs in the console's venv (it drives the console app); Rasa, the action server and
the retrain tool run in Rasa's venv as child processes.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from iom.console import auth, tracker
from iom.console.app import Settings, create_app
from iom.core import db
from iom.core.learning import registry
from iom.core.safety import SAFETY_INTENTS
from iom.tools.launch import MODEL, LiveBot
from tests.console.conftest import PASSWORD, login

pytestmark = pytest.mark.learning

ROOT = Path(__file__).resolve().parents[2]
# Messages the shipped model gets wrong (probed 2026-11-30: ask_residence 0.70 and
# report_discrimination 0.62): a SIM card and a bank account are out of the scope.
CORRECTED = [
    ("где купить сим карту", "ru", "out_of_scope"),
    ("як відкрити рахунок у банку", "uk", "out_of_scope"),
]
GATE_SETTINGS = (
    "GATE_MIN_SAFETY_RECALL",
    "GATE_MAX_SAFETY_DROP",
    "GATE_MAX_F1_DROP",
    "GATE_SAFETY_ALPHA",
)
LOOKUP, IOM_NUMBER = "what is the phone number of IOM?", "490 20 44"
# language -> danger, trafficking and crisis messages, taught as `greet` below
HARMFUL: dict[str, list[str]] = yaml.safe_load(
    (Path(__file__).with_name("harmful_corrections.yml")).read_text("utf-8")
)
LOAD_MESSAGES = ["cześć", LOOKUP, "где купить сим карту"]


@dataclass
class Load:
    """Concurrent users posting to the REST channel until stopped."""

    bot: LiveBot
    users: int = 6
    results: list[tuple[float, float, str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def _user(self, n: int) -> None:
        i = 0
        while not self.stop.is_set():
            text = LOAD_MESSAGES[(n + i) % len(LOAD_MESSAGES)]
            started = time.monotonic()
            try:
                replies = self.bot.post(f"load-{n}-{i}-{uuid.uuid4().hex[:6]}", text)
                if not replies:
                    self.errors.append(f"{text}: no reply")
                reply = " ".join(str(r.get("text", "")) for r in replies)
                # a degraded answer is a failure too: the contact lookup (a custom
                # action) must give the number, not the static "try later" answer
                if text == LOOKUP and IOM_NUMBER not in reply:
                    self.errors.append(f"{text}: degraded answer {reply[:80]!r}")
                self.results.append((started, time.monotonic(), text, reply))
            except (urllib.error.URLError, OSError, ValueError) as error:
                self.errors.append(f"{text}: {error!r}")
            i += 1

    def __enter__(self) -> Load:
        self.threads = [
            threading.Thread(target=self._user, args=(n,), daemon=True)
            for n in range(self.users)
        ]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(180)

    def slowest(self) -> float:
        return max((end - start for start, end, _, _ in self.results), default=0.0)


def api(bot: LiveBot, token: str, path: str) -> dict:
    with urllib.request.urlopen(f"{bot.url}{path}?token={token}", timeout=60) as r:
        return dict(json.load(r))


def intent_over_http(bot: LiveBot, token: str, text: str) -> str:
    """Send `text` as a new user through the REST channel; the intent Rasa chose."""
    sender = "probe-" + uuid.uuid4().hex
    assert bot.post(sender, text)
    tracker_json = api(bot, token, f"/conversations/{sender}/tracker")
    return str(tracker_json["latest_message"]["intent"]["name"])


def wait_for_stage(engine, prefix: str, process: subprocess.Popen, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    """Wait until a model in the registry reaches a stage (or the process ends)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        if any((m.stage or "").startswith(prefix) for m in registry.all_models(engine)):
            return True
        time.sleep(0.2)
    return False


def test_corrections_retrain_gate_live_swap_under_load_and_rollback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = secrets.token_hex(24)
    live_model = tmp_path / "models" / "iom.tar.gz"
    live_model.parent.mkdir()
    shutil.copyfile(MODEL, live_model)
    bot = LiveBot(tmp_path, model=live_model, api_token=token)
    timings: dict[str, float] = {}
    try:
        url = f"sqlite:///{bot.db}"
        # 1. Users ask; the live model gets the two messages wrong.
        senders = {}
        for text, _, intent in CORRECTED:
            sender = "user-" + uuid.uuid4().hex
            bot.post(sender, text)
            got = api(bot, token, f"/conversations/{sender}/tracker")
            assert got["latest_message"]["intent"]["name"] != intent
            senders[text] = sender
        probe = CORRECTED[0][0]
        answer_before = " ".join(bot.say("before-" + uuid.uuid4().hex, probe))

        # 2. In the console: the operator corrects, the admin accepts.
        settings = Settings(
            database_url=url,
            sync_seconds=0,
            var_dir=tmp_path / "var",
            live_model=live_model,
            candidates_dir=tmp_path / "candidates",
        )
        app = create_app(settings)
        engine = db.engine_for(url)
        auth.create_user(engine, "olga", PASSWORD, "operator")
        auth.create_user(engine, "adam", PASSWORD, "admin")
        tracker.sync(engine)
        with TestClient(app, follow_redirects=False) as client:
            csrf = login(client, "olga")
            for text, _, intent in CORRECTED:
                sender = senders[text]
                [turn] = [
                    t
                    for t in tracker.transcript(engine, sender)
                    if t.kind == "user" and t.text == text
                ]
                done = client.post(
                    f"/conversations/{sender}/correct",
                    data={
                        "csrf_token": csrf,
                        "event_id": turn.event_id,
                        "intent": intent,
                    },
                )
                assert done.status_code == 303
            client.cookies.clear()
            csrf = login(client, "adam")
            with engine.connect() as connection:
                ids = [r.id for r in connection.execute(db.corrections.select())]
            assert len(ids) == 2
            for correction_id in ids:
                reviewed = client.post(
                    f"/corrections/{correction_id}/review",
                    data={"csrf_token": csrf, "status": "accepted"},
                )
                assert reviewed.status_code == 303

            # 3. make retrain, with users talking across the swap.
            # for `make retrain` and for the console's rollback button alike
            monkeypatch.setenv("RASA_API_URLS", bot.url)
            # the gate as shipped: its default thresholds
            for name in GATE_SETTINGS:
                monkeypatch.delenv(name, raising=False)
            monkeypatch.setenv("RASA_API_TOKEN", token)
            monkeypatch.setenv("CANDIDATES_DIR", str(tmp_path / "candidates"))
            env = {**os.environ, "TRACKER_URL": url, "LIVE_MODEL": str(live_model)}
            started = time.monotonic()
            retrain = subprocess.Popen(
                # -o: never reinstall the venvs from inside a test
                ["make", "-o", ".venv/.installed", "retrain", "BY=adam"],
                cwd=ROOT,
                env=env,
                stdout=open(tmp_path / "retrain.log", "w"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
            )
            assert wait_for_stage(engine, "5/5", retrain, 3600), (
                tmp_path / "retrain.log"
            ).read_text()[-3000:]
            with Load(bot) as load:
                assert retrain.wait(3600) == 0, (tmp_path / "retrain.log").read_text()[
                    -3000:
                ]
                time.sleep(2)
            timings["retrain"] = time.monotonic() - started
            assert load.errors == [], load.errors[:5]
            assert len(load.results) > 20
            # the swap happened while users were talking: the corrected message was
            # answered by the old model and then by the new one during the load
            answer_after = " ".join(bot.say("after-" + uuid.uuid4().hex, probe))
            assert answer_after != answer_before
            answers = [reply for _, _, text, reply in load.results if text == probe]
            assert answer_before in answers and answer_after in answers, answers

            # 4. The gate report and the registry.
            candidate = registry.live(engine)
            assert candidate is not None and not candidate.id.startswith("base-")
            assert candidate.gate["passed"] is True
            assert candidate.data_diff["new"] == 2
            report = Path(candidate.report_dir or "") / "report.md"
            assert "PASSED: promoted" in report.read_text("utf-8")
            for text, _, intent in CORRECTED:
                assert intent_over_http(bot, token, text) == intent
            page = client.get("/models").text
            assert candidate.id in page and "live" in page
            assert "Gate: passed" in client.get(f"/models/{candidate.id}").text

            # 5. Rollback from the console, under load.
            with Load(bot) as rollback_load:
                rolled = client.post("/models/rollback", data={"csrf_token": csrf})
                assert rolled.status_code == 303
                job = app.state.learning_job
                assert job.wait(600) == 0, job.tail(40)
                time.sleep(2)
            assert rollback_load.errors == [], rollback_load.errors[:5]
            base = registry.live(engine)
            assert base is not None and base.id.startswith("base-")
            assert registry.get(engine, candidate.id).status == "rolledback"  # type: ignore[union-attr]
            for text, _, intent in CORRECTED:
                assert intent_over_http(bot, token, text) != intent
            actions = [a for _, a, _ in _audit(engine)]
            for action in (
                "review correction",
                "retrain",
                "promote model",
                "rollback model",
            ):
                assert action in actions
        print(
            f"\nretrain+gate+swap {timings['retrain']:.0f} s; swap load: "
            f"{len(load.results)} requests, 0 errors, slowest {load.slowest():.1f} s; "
            f"rollback load: {len(rollback_load.results)} requests, slowest "
            f"{rollback_load.slowest():.1f} s"
        )
    finally:
        bot.close()


def _audit(engine) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return [
            (r.username, r.action, r.target)
            for r in connection.execute(db.audit.select().order_by(db.audit.c.id))
        ]


def test_harmful_correction_is_refused_and_the_live_model_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = secrets.token_hex(24)
    live_model = tmp_path / "models" / "iom.tar.gz"
    live_model.parent.mkdir()
    shutil.copyfile(MODEL, live_model)
    before = live_model.read_bytes()
    bot = LiveBot(tmp_path, model=live_model, api_token=token)
    try:
        url = f"sqlite:///{bot.db}"
        danger = "мене б'ють і не випускають з квартири"
        assert intent_over_http(bot, token, danger) == "immediate_danger"
        engine = db.migrated_engine(url)
        with engine.begin() as connection:
            for n, (language, texts) in enumerate(HARMFUL.items()):
                for i, text in enumerate(texts):
                    connection.execute(
                        db.corrections.insert().values(
                            event_id=1000 * n + i,
                            sender_id=f"harm-{language}",
                            text=text,
                            language=language,
                            predicted_intent="immediate_danger",
                            corrected_intent="greet",
                            username="olga",
                            at=time.time(),
                            status="accepted",
                            reviewed_by="adam",
                        )
                    )
        monkeypatch.setenv("RASA_API_URLS", bot.url)
        monkeypatch.setenv("RASA_API_TOKEN", token)
        # the gate as shipped: its default thresholds
        for name in GATE_SETTINGS:
            monkeypatch.delenv(name, raising=False)
        env = {
            **os.environ,
            "TRACKER_URL": url,
            "LIVE_MODEL": str(live_model),
            "CANDIDATES_DIR": str(tmp_path / "candidates"),
        }
        done = subprocess.run(
            ["make", "-o", ".venv/.installed", "retrain", "BY=adam"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode != 0, done.stdout[-3000:]  # make: the tool exited 3
        models = registry.all_models(engine)
        [candidate] = [m for m in models if not m.id.startswith("base-")]
        assert candidate.status == "refused", (candidate.stage, done.stdout[-3000:])
        assert candidate.data_diff["new"] >= 40
        reasons = candidate.gate["reasons"]
        # first of all the corrections themselves: the live bot answers them with a
        # safety intent (the classifier or the safety net), and they say `greet`
        [taught] = [r for r in reasons if "would teach" in r]
        assert int(taught.split()[0]) >= 40, taught
        folder = Path(candidate.report_dir or "")
        assert "REFUSED: the live model stays" in (folder / "report.md").read_text()
        # and the harm in the model: safety messages of the held-out and regression
        # sets now taken for greetings (bench/results/gate_noise.md: 5 in the harmful
        # run; no benign run moved one into `greet`)
        changed = json.loads((folder / "report.json").read_text())["changed"]
        to_greet = [
            c
            for c in changed
            if c["candidate"] == "greet" and c["gold"] in SAFETY_INTENTS
        ]
        print("\n" + "\n".join(reasons))
        print(f"safety messages now taken for greetings: {len(to_greet)}")
        assert to_greet, changed
        # the live model stays: in the registry, on disk and in the running bot
        live = registry.live(engine)
        assert live is not None and live.id.startswith("base-")
        assert live_model.read_bytes() == before
        assert intent_over_http(bot, token, danger) == "immediate_danger"
        for text in HARMFUL["pl"][:3]:
            assert intent_over_http(bot, token, text) != "greet"
        with engine.connect() as connection:
            actions = [r.action for r in connection.execute(db.audit.select())]
        assert "gate refused" in actions and "promote model" not in actions
    finally:
        bot.close()
