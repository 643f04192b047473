"""Erasure reaches the learning loop: corrections, examples in model folders, models.

A model folder is laid out as `iom/tools/retrain.py` leaves it (candidates.json, the
staging data written by `examples.write`, refused.json, report.json); the console's
erase button must take the conversation's examples out of all of them, mark the
models trained with them, and refuse (deleting nothing) while a retrain runs.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from iom.console.app import Settings, create_app
from iom.core import db
from iom.core.learning import examples, registry
from iom.core.learning.examples import Candidate, conversation_key
from tests.console.conftest import login

SENDER = "fixture-pl-polish-course"
OTHER = "fixture-en-contact"


@pytest.fixture()
def candidates(tmp_path: Path) -> Path:
    return tmp_path / "candidates"


@pytest.fixture()
def admin_client(
    db_url: str, contacts: Path, tmp_path: Path, candidates: Path
) -> Iterator[tuple[TestClient, str]]:
    settings = Settings(
        database_url=db_url,
        sync_seconds=0,
        var_dir=tmp_path / "var",
        live_model=tmp_path / "iom.tar.gz",
        candidates_dir=candidates,
    )
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield client, login(client, "adam")


def correct(client: TestClient, csrf: str, db_url: str, sender: str) -> str:
    """Correct the conversation's first typed message; its text."""
    with sa.create_engine(db_url).connect() as connection:
        row = next(
            r
            for r in connection.execute(
                sa.select(db.events).where(
                    (db.events.c.sender_id == sender)
                    & (db.events.c.type_name == "user")
                )
            )
            if not json.loads(r.data)["text"].startswith("/")
        )
    response = client.post(
        f"/conversations/{sender}/correct",
        data={"csrf_token": csrf, "event_id": row.id, "intent": "out_of_scope"},
    )
    assert response.status_code == 303
    return str(json.loads(row.data)["text"])


def model_folder(
    engine: sa.engine.Engine, candidates: Path, model_id: str, status: str, *items
) -> Path:
    """A model as the retrain tool leaves it, trained with `items`."""
    folder = candidates / model_id
    folder.mkdir(parents=True)
    examples.write(items, folder / "data")
    (folder / "candidates.json").write_text(json.dumps(examples.to_json(items)))
    weights = folder / "model.tar.gz"
    weights.write_bytes(b"weights")
    registry.create(
        engine,
        model_id,
        "adam",
        status=status,
        path=str(weights),
        report_dir=str(folder),
    )
    return folder


def staged(folder: Path) -> str:
    return "".join(p.read_text("utf-8") for p in sorted(folder.rglob("*.yml")))


def test_erasure_removes_the_conversations_examples_and_marks_the_live_model(
    admin_client: tuple[TestClient, str], db_url: str, candidates: Path
) -> None:
    client, csrf = admin_client
    engine = db.engine_for(db_url)
    text = correct(client, csrf, db_url, SENDER)
    other_text = correct(client, csrf, db_url, OTHER)
    theirs = Candidate(
        "pl", "chitchat", "out_of_scope", text, "correction 1", conversation_key(SENDER)
    )
    kept = Candidate(
        "en", "chitchat", "out_of_scope", other_text, "c 2", conversation_key(OTHER)
    )
    legacy = Candidate("pl", "chitchat", "out_of_scope", text + " ")  # no key: by text
    live = model_folder(engine, candidates, "20261130-100000", "live", theirs, kept)
    old = model_folder(engine, candidates, "20261129-100000", "retired", legacy)
    refused = [{"correction": 1, "text": text, "reason": "x"}]
    (old / "refused.json").write_text(json.dumps(refused))
    (old / "report.json").write_text(json.dumps({"refused_corrections": refused}))
    assert text.split()[0] in staged(live)
    cache = candidates / registry.TRAIN_CACHE  # Rasa's training cache of candidates
    (cache / "some-node").mkdir(parents=True)
    (cache / "cache.db").write_bytes(b"featurised " + text.encode())

    response = client.post(
        f"/conversations/{SENDER}/erase", data={"csrf_token": csrf, "confirm": SENDER}
    )
    assert response.status_code == 303

    with engine.connect() as connection:
        senders = connection.execute(sa.select(db.corrections.c.sender_id)).scalars()
        assert list(senders) == [OTHER]  # pending and accepted alike
    listed = json.loads((live / "candidates.json").read_text())
    assert [i["conversation"] for i in listed] == [conversation_key(OTHER)]
    assert text.split()[0] not in staged(live) and other_text.split()[0] in staged(live)
    assert json.loads((old / "candidates.json").read_text()) == []
    assert staged(old) == ""
    assert json.loads((old / "refused.json").read_text()) == []
    assert json.loads((old / "report.json").read_text())["refused_corrections"] == []
    live_model = registry.get(engine, "20261130-100000")
    assert live_model is not None and live_model.erased_examples == 1
    with engine.connect() as connection:
        audit = connection.execute(
            sa.select(db.audit.c.action, db.audit.c.target, db.audit.c.detail)
        ).all()
    marked = {(a, t) for a, t, _ in audit if a == "erased data in model"}
    assert marked == {
        ("erased data in model", "20261130-100000"),
        ("erased data in model", "20261129-100000"),
    }
    [erase] = [d for a, _, d in audit if a == "erase"]
    assert erase.endswith("2 training examples")
    page = client.get("/models").text
    assert "trained with 1 example(s) from conversations erased since" in page
    report = client.get("/models/20261130-100000").text
    assert "the next retrain leaves them out" in report.lower()
    assert not cache.exists()
    # nothing of the conversation is left in the loop's files
    for path in candidates.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".yml"):
            assert text not in path.read_text("utf-8"), path


def test_erasure_waits_for_a_running_retrain_and_deletes_nothing(
    admin_client: tuple[TestClient, str], db_url: str, candidates: Path
) -> None:
    client, csrf = admin_client
    correct(client, csrf, db_url, SENDER)
    candidates.mkdir(parents=True, exist_ok=True)
    with open(candidates / registry.LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        response = client.post(
            f"/conversations/{SENDER}/erase",
            data={"csrf_token": csrf, "confirm": SENDER},
        )
    assert response.status_code == 409
    assert "retrain" in response.text
    assert client.get(f"/conversations/{SENDER}").status_code == 200
    with db.engine_for(db_url).connect() as connection:
        assert (
            connection.execute(
                sa.select(sa.func.count()).select_from(db.corrections)
            ).scalar()
            == 1
        )
    again = client.post(
        f"/conversations/{SENDER}/erase", data={"csrf_token": csrf, "confirm": SENDER}
    )
    assert again.status_code == 303
