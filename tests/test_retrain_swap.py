"""The live swap of iom/tools/retrain.py against stand-ins for Rasa's HTTP API.

Two small HTTP servers answer `PUT /model` and `GET /status` as Rasa 3.6 does (with
the token), so the order of the swap over the topology's two instances, the put-back
when one instance refuses, promotion, rollback and pruning are tested in a second.
The real swap under load is tests/console/test_learning_e2e.py.
"""

from __future__ import annotations

import json
import subprocess
import tarfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa

from iom.core import db, settings
from iom.core.language import SUPPORTED
from iom.core.learning import registry
from iom.tools import retrain

TOKEN = "t" * 32


def fake_model(path: Path, model_id: str) -> Path:
    """A .tar.gz with Rasa's metadata.json (all the swap reads of a model)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps({"model_id": model_id}).encode()
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("metadata.json")
        info.size = len(data)
        archive.addfile(info, BytesIO(data))
    return path


class FakeRasa:
    """Rasa's `PUT /model` and `GET /status`, recording the calls."""

    def __init__(self, refuse: bool = False) -> None:
        self.model_id = "old"
        self.calls: list[str] = []
        self.refuse = refuse
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _authorised(self) -> bool:
                token = parse_qs(urlparse(self.path).query).get("token", [""])[0]
                if token != TOKEN:
                    self.send_response(401)
                    self.end_headers()
                    return False
                return True

            def do_GET(self) -> None:  # noqa: N802
                if urlparse(self.path).path == "/":
                    self.send_response(200)
                    self.end_headers()
                    return
                if not self._authorised():
                    return
                body = json.dumps({"model_id": fake.model_id}).encode()
                self.send_response(200)
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self) -> None:  # noqa: N802
                if not self._authorised():
                    return
                length = int(self.headers["Content-Length"])
                path = json.loads(self.rfile.read(length))["model_file"]
                fake.calls.append(path)
                if fake.refuse:
                    self.send_response(500)
                    self.end_headers()
                    return
                with tarfile.open(path, "r:gz") as archive:
                    handle = archive.extractfile("metadata.json")
                    assert handle is not None
                    fake.model_id = json.load(handle)["model_id"]
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def two() -> Iterator[tuple[FakeRasa, FakeRasa]]:
    a, b = FakeRasa(), FakeRasa()
    yield a, b
    a.close()
    b.close()


def test_both_instances_load_the_model_one_after_the_other(
    tmp_path: Path, two: tuple[FakeRasa, FakeRasa]
) -> None:
    a, b = two
    model = fake_model(tmp_path / "c" / "model.tar.gz", "new-1")
    swap = retrain.load_into_instances(
        model, [a.url, b.url, "http://127.0.0.1:9"], TOKEN, None
    )
    assert (a.model_id, b.model_id) == ("new-1", "new-1")
    assert swap.loaded == [a.url, b.url]
    assert swap.not_running == ["http://127.0.0.1:9"]
    assert "loaded into" in swap.describe() and "not running" in swap.describe()


def test_an_instance_that_refuses_puts_the_others_back(
    tmp_path: Path, two: tuple[FakeRasa, FakeRasa]
) -> None:
    a, b = two
    b.refuse = True
    previous = fake_model(tmp_path / "p" / "model.tar.gz", "prev")
    model = fake_model(tmp_path / "c" / "model.tar.gz", "new-1")
    with pytest.raises(retrain.SwapError, match=b.url):
        retrain.load_into_instances(model, [a.url, b.url], TOKEN, previous)
    assert a.calls == [str(model), str(previous)] and a.model_id == "prev"


def test_a_wrong_token_is_a_swap_error_with_a_hint(
    tmp_path: Path, two: tuple[FakeRasa, FakeRasa]
) -> None:
    a, _ = two
    model = fake_model(tmp_path / "c" / "model.tar.gz", "new-1")
    with pytest.raises(retrain.SwapError, match="RASA_API_TOKEN"):
        retrain.load_into_instances(model, [a.url], "wrong", None)


def test_promotion_rollback_and_pruning(
    tmp_path: Path, two: tuple[FakeRasa, FakeRasa]
) -> None:
    a, b = two
    url = f"sqlite:///{tmp_path / 'reg.db'}"
    engine = db.migrated_engine(url)
    paths = retrain.Paths(
        live_model=fake_model(tmp_path / "live" / "iom.tar.gz", "base"),
        candidates=tmp_path / "candidates",
    )
    config = replace(
        settings.from_env({}), rasa_api_urls=(a.url, b.url), rasa_api_token=TOKEN
    )
    base = retrain.ensure_baseline(engine, paths)
    assert base.status == "live" and Path(base.path or "").exists()
    ids = []
    for n in range(1, 6):
        model_id = f"m{n}"
        path = fake_model(paths.candidates / model_id / "model.tar.gz", model_id)
        registry.create(engine, model_id, "adam", path=str(path), status="evaluating")
        candidate = registry.get(engine, model_id)
        assert candidate is not None
        retrain.go_live(engine, candidate, "adam", paths, config, "promote model")
        retrain.prune(engine, 2, "adam")
        ids.append(model_id)
        assert (a.model_id, b.model_id) == (model_id, model_id)
        assert retrain.model_id_of(paths.live_model) == model_id
    statuses = {m.id: m.status for m in registry.all_models(engine)}
    assert statuses == {
        base.id: "deleted",
        "m1": "deleted",
        "m2": "deleted",
        "m3": "retired",
        "m4": "retired",
        "m5": "live",
    }
    assert not (paths.candidates / "m2" / "model.tar.gz").exists()
    back = retrain.rollback(engine, "adam", paths, config)
    assert back.id == "m4" and (a.model_id, b.model_id) == ("m4", "m4")
    assert registry.get(engine, "m5").status == "rolledback"  # type: ignore[union-attr]
    assert retrain.model_id_of(paths.live_model) == "m4"
    with engine.connect() as connection:
        actions = [r.action for r in connection.execute(sa.select(db.audit))]
    assert actions.count("promote model") == 5 and "rollback model" in actions
    assert "prune models" in actions
    # the next rollback goes further back, never to the rolled-back model
    assert retrain.rollback(engine, "adam", paths, config).id == "m3"


def test_a_model_replaced_outside_the_loop_becomes_the_baseline(tmp_path: Path) -> None:
    engine = db.migrated_engine(f"sqlite:///{tmp_path / 'reg.db'}")
    paths = retrain.Paths(
        live_model=fake_model(tmp_path / "live" / "iom.tar.gz", "trained-1"),
        candidates=tmp_path / "candidates",
    )
    first = retrain.ensure_baseline(engine, paths)
    assert retrain.ensure_baseline(engine, paths).id == first.id  # known: no new row
    fake_model(paths.live_model, "trained-2")  # `make train` replaced the file
    second = retrain.ensure_baseline(engine, paths)
    assert second.id != first.id and second.status == "live"
    assert retrain.model_id_of(Path(second.path or "")) == "trained-2"
    assert registry.get(engine, first.id).status == "retired"  # type: ignore[union-attr]


def test_refused_fine_tuning_falls_back_to_full_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rasa refuses to fine-tune when config.yml or the labels changed."""
    calls: list[tuple[str, ...]] = []

    def rasa_train(
        staging: Path, folder: Path, paths: Any, log: Path, extra: Sequence[str]
    ) -> int:
        calls.append(tuple(extra))
        if "--finetune" in extra:
            return 1  # "Cannot finetune because ..."
        (folder / "model.tar.gz").write_bytes(b"model")
        return 0

    monkeypatch.setattr(retrain, "_rasa_train", rasa_train)
    live = tmp_path / "live.tar.gz"
    log = tmp_path / "train.log"
    model, how = retrain.train(tmp_path, tmp_path, retrain.Paths(), log, live, 0.1)
    assert how == "full training" and model.exists()
    assert calls == [("--finetune", str(live), "--epoch-fraction", "0.1"), ()]
    assert "fine-tuning failed: full training follows" in log.read_text()
    # fine-tuning off: one full training
    calls.clear()
    assert retrain.train(tmp_path, tmp_path, retrain.Paths(), log, live, 0.0)[1] == (
        "full training"
    )
    assert calls == [()]


def test_candidates_train_with_their_own_rasa_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Erasure empties that cache (tests/console/test_erasure_learning.py)."""
    seen: dict[str, Any] = {}

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.update(command=command, env=kwargs["env"])
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(retrain.subprocess, "run", run)
    paths = retrain.Paths(candidates=tmp_path / "candidates")
    assert retrain._rasa_train(tmp_path, tmp_path, paths, tmp_path / "log", ()) == 0
    assert seen["command"][1] == "train"
    cache = str(tmp_path / "candidates" / registry.TRAIN_CACHE)
    assert seen["env"]["RASA_CACHE_DIRECTORY"] == cache


def _fake_evaluation(
    model: Path, paths: Any, stories: bool, out: Path, learned: Sequence[Any] = ()
) -> dict[str, Any]:
    numbers = {
        "n": 600,
        "macro_f1": 0.92,
        "safety_recall": 0.96,
        "regression_n": 54,
        "regression_recall": 1.0,
    }
    report: dict[str, Any] = {
        "model": str(model),
        "languages": {lang: dict(numbers) for lang in SUPPORTED},
        "predictions": {},
        "learned": [[c.text, c.intent, c.intent] for c in learned],
    }
    if stories:
        report["stories"] = {"passed": True, "detail": "every story passed"}
    return report


@pytest.mark.parametrize(
    ("text", "intent", "live_answer", "status"),
    [
        (
            "gdzie kupić kartę SIM na lotnisku",
            "out_of_scope",
            "ask_residence",
            "passed",
        ),
        ("szef mnie bije i zamknął w piwnicy", "greet", "immediate_danger", "refused"),
    ],
)
def test_a_run_asks_the_live_bot_about_the_examples(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    intent: str,
    live_answer: str,
    status: str,
) -> None:
    """`retrain run --no-promote` with Rasa faked: the gate sees the live answers."""

    def train(staging: Path, folder: Path, *args: Any) -> tuple[Path, str]:
        return fake_model(folder / "model.tar.gz", "candidate"), "full training"

    asked: list[str] = []

    def answers(model: Path, texts: Sequence[str]) -> list[str]:
        asked.extend(texts)
        return [live_answer for _ in texts]

    monkeypatch.setattr(retrain, "train", train)
    monkeypatch.setattr(retrain, "evaluate", _fake_evaluation)
    monkeypatch.setattr(retrain, "answers", answers)
    engine = db.migrated_engine(f"sqlite:///{tmp_path / 'reg.db'}")
    with engine.begin() as connection:
        connection.execute(
            db.corrections.insert().values(
                event_id=1,
                sender_id="s",
                text=text,
                language="pl",
                predicted_intent=live_answer,
                corrected_intent=intent,
                username="olga",
                at=0,
                status="accepted",
                reviewed_by="adam",
            )
        )
    paths = retrain.Paths(
        live_model=fake_model(tmp_path / "live" / "iom.tar.gz", "base"),
        candidates=tmp_path / "candidates",
    )
    model = retrain.run(
        engine, "adam", paths, settings.from_env({}), retrain.gate.Thresholds(), False
    )
    assert asked == [text]
    assert model.status == status, model.gate
    report = json.loads((Path(model.report_dir or "") / "report.json").read_text())
    assert report["live_answers"] == [live_answer]
    if status == "refused":
        [reason] = model.gate["reasons"]
        assert reason.startswith("1 example(s) would teach that a message the live")
        assert model.path is None  # the weights are deleted, the report stays
    else:
        assert model.stage == "passed the gate, not promoted"
        assert registry.live(engine).id.startswith("base-")  # type: ignore[union-attr]
