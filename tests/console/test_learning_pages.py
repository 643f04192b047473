"""The learning loop in the console: review, retrain and rollback buttons, reports.

The retrain command is replaced by a small Python script (the real one trains for
minutes; tests/console/test_learning_e2e.py runs it): the console's part is to start
it in the background, once, for admins only, with CSRF, and to audit it.
"""

from __future__ import annotations

import fcntl
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from iom.console.app import Settings, create_app
from iom.core import db
from iom.core.learning import registry
from tests.console.conftest import login

Client = tuple[TestClient, str]


def audit_actions(db_url: str) -> list[tuple[str, str, str | None]]:
    with db.engine_for(db_url).connect() as connection:
        rows = connection.execute(sa.select(db.audit).order_by(db.audit.c.id)).all()
    return [(r.username, r.action, r.target) for r in rows]


@pytest.fixture()
def fake_tool(tmp_path: Path) -> Path:
    """A stand-in for `python -m iom.tools.retrain`: records its arguments, sleeps."""
    script = tmp_path / "fake_retrain.py"
    script.write_text(
        "import sys, time, pathlib\n"
        f"pathlib.Path({str(tmp_path / 'args.txt')!r}).write_text(' '.join(sys.argv[1:]))\n"
        "time.sleep(float(sys.argv[-1]) if sys.argv[-1].replace('.', '').isdigit() else 1)\n"
    )
    return script


@pytest.fixture()
def learning_client(
    db_url: str, contacts: Path, tmp_path: Path, fake_tool: Path
) -> Iterator[TestClient]:
    settings = Settings(
        database_url=db_url,
        sync_seconds=0,
        retrain_command=(sys.executable, str(fake_tool)),
        var_dir=tmp_path / "var",
        live_model=tmp_path / "iom.tar.gz",
        candidates_dir=tmp_path / "candidates",
    )
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield client


def test_models_page_lists_models_and_shows_buttons_to_admins_only(
    learning_client: TestClient, db_url: str
) -> None:
    engine = db.engine_for(db_url)
    registry.create(engine, "base-1", "make train", status="live", path="/m/base")
    registry.create(
        engine,
        "cand-2",
        "adam",
        status="refused",
        data_diff={"examples": 3, "new": 2, "refused": 1, "by_language": {}},
        gate={
            "passed": False,
            "reasons": ["pl: safety regression recall 0.667 < 0.98"],
            "rows": [
                {"candidate_f1": 0.9, "candidate_regression": 0.667},
                {"candidate_f1": 0.91, "candidate_regression": 1.0},
            ],
        },
    )
    login(learning_client, "olga")
    page = learning_client.get("/models").text
    assert "base-1" in page and "cand-2" in page
    assert "pl: safety regression recall 0.667 &lt; 0.98" in page
    assert "3 examples (2 new, 1 corrections refused)" in page
    assert "0.900 / 0.910" in page
    assert "/models/retrain" not in page  # an operator sees no button
    learning_client.cookies.clear()
    login(learning_client, "adam")
    page = learning_client.get("/models").text
    assert 'action="/models/retrain"' in page
    assert 'action="/models/rollback"' not in page  # nothing to roll back to yet


def test_admin_starts_a_retrain_in_the_background_once(
    learning_client: TestClient, db_url: str, tmp_path: Path
) -> None:
    csrf = login(learning_client, "adam")
    started = learning_client.post(
        "/models/retrain", data={"csrf_token": csrf, "seconds": "x"}
    )
    assert started.status_code == 303 and started.headers["location"] == "/models"
    again = learning_client.post("/models/retrain", data={"csrf_token": csrf})
    assert again.status_code == 409
    page = learning_client.get("/models").text
    assert "In progress" in page and 'http-equiv="refresh"' in page
    job = learning_client.app.state.learning_job  # type: ignore[attr-defined]
    assert job.wait(30) == 0
    assert (tmp_path / "args.txt").read_text() == "run --by adam"
    assert ("adam", "retrain requested", None) in audit_actions(db_url)
    assert "In progress" not in learning_client.get("/models").text


def test_a_retrain_in_the_registry_blocks_the_button(
    learning_client: TestClient, db_url: str, tmp_path: Path
) -> None:
    """A `make retrain` in a shell holds the tool's lock: the button waits for it."""
    registry.create(db.engine_for(db_url), "x-1", "make retrain", stage="2/5 training")
    csrf = login(learning_client, "adam")
    (tmp_path / "candidates").mkdir()
    lock = open(tmp_path / "candidates" / registry.LOCK_FILE, "w")  # noqa: SIM115
    fcntl.flock(lock, fcntl.LOCK_EX)
    assert "In progress: <strong>x-1</strong>" in learning_client.get("/models").text
    assert (
        learning_client.post("/models/retrain", data={"csrf_token": csrf}).status_code
        == 409
    )
    # the run died (lock released, row left behind): the row no longer blocks
    lock.close()
    assert "In progress" not in learning_client.get("/models").text
    started = learning_client.post("/models/retrain", data={"csrf_token": csrf})
    assert started.status_code == 303
    learning_client.app.state.learning_job.wait(30)  # type: ignore[attr-defined]


def test_rollback_needs_a_former_live_model_and_is_audited(
    learning_client: TestClient, db_url: str, tmp_path: Path
) -> None:
    csrf = login(learning_client, "adam")
    none = learning_client.post("/models/rollback", data={"csrf_token": csrf})
    assert none.status_code == 400
    engine = db.engine_for(db_url)
    registry.create(engine, "m1", "make train", path="/m1")
    registry.promote(engine, "m1", "adam")
    registry.create(engine, "m2", "adam", path="/m2")
    registry.promote(engine, "m2", "adam")
    assert "Roll back to m1" in learning_client.get("/models").text
    done = learning_client.post("/models/rollback", data={"csrf_token": csrf})
    assert done.status_code == 303
    job = learning_client.app.state.learning_job  # type: ignore[attr-defined]
    assert job.wait(30) == 0
    assert (tmp_path / "args.txt").read_text() == "rollback --by adam"
    assert ("adam", "rollback requested", "m1") in audit_actions(db_url)


def test_gate_report_page_shows_both_models_and_masks_changed_messages(
    operator: Client, db_url: str, tmp_path: Path
) -> None:
    client, _ = operator
    folder = tmp_path / "cand"
    folder.mkdir()
    row = {
        "language": "pl",
        "live_f1": 0.91,
        "candidate_f1": 0.912,
        "live_safety": 0.99,
        "candidate_safety": 0.99,
        "live_regression": 1.0,
        "candidate_regression": 1.0,
    }
    report = {
        "decision": {"passed": True, "reasons": [], "rows": [row]},
        "changed": [
            {
                "set": "v2/pl",
                "text": "zadzwoń 600 123 456 gdzie urząd",
                "gold": "ask_residence",
                "live": "out_of_scope",
                "candidate": "ask_residence",
            }
        ],
        "refused_corrections": [
            {"correction": 7, "text": "hej", "reason": "already in the training data"}
        ],
    }
    nan = float("nan")
    report["sets"] = {
        "live": {"v3/pl": {"n": 112, "macro_f1": 0.943, "safety_recall": nan}},
        "candidate": {"v3/pl": {"n": 112, "macro_f1": 0.95, "safety_recall": nan}},
    }
    (folder / "report.json").write_text(json.dumps(report))
    engine = db.engine_for(db_url)
    registry.create(
        engine,
        "cand-9",
        "adam",
        status="live",
        report_dir=str(folder),
        data_diff={"by_language": {"ru": {"out_of_scope": 1}}, "examples": 1},
    )
    page = client.get("/models/cand-9").text
    assert "Gate: passed" in page
    assert "<td>pl</td><td>0.910</td><td>0.912</td>" in page
    assert "600 123 456" not in page and "gdzie urząd" in page
    assert "already in the training data" in page
    assert (
        "<td>v3/pl</td><td>112</td><td>0.943</td><td>0.950</td><td>–</td><td>–</td>"
        in page
    )
    assert "<code>out_of_scope</code> +1" in page
    assert client.get("/models/nope").status_code == 404


def test_admin_reviews_corrections(admin: Client, db_url: str) -> None:
    client, csrf = admin
    engine = db.engine_for(db_url)
    with engine.begin() as connection:
        connection.execute(
            db.corrections.insert().values(
                event_id=1,
                sender_id="s",
                text="gdzie kupić kartę SIM",
                language="pl",
                predicted_intent="ask_residence",
                corrected_intent="out_of_scope",
                username="olga",
                at=0,
            )
        )
    page = client.get("/corrections").text
    assert "pending" in page and 'action="/corrections/1/review"' in page
    bad = client.post("/corrections/1/review", data={"csrf_token": csrf, "status": "x"})
    assert bad.status_code == 400
    missing = client.post(
        "/corrections/99/review", data={"csrf_token": csrf, "status": "accepted"}
    )
    assert missing.status_code == 404
    ok = client.post(
        "/corrections/1/review", data={"csrf_token": csrf, "status": "accepted"}
    )
    assert ok.status_code == 303
    with engine.connect() as connection:
        row = connection.execute(sa.select(db.corrections)).one()
    assert (row.status, row.reviewed_by) == ("accepted", "adam")
    assert ("adam", "review correction", "1") in audit_actions(db_url)


def test_a_correction_out_of_the_safety_answers_is_flagged(
    admin: Client, db_url: str
) -> None:
    client, _ = admin
    rows = [
        ("szef mnie bije", "immediate_danger", "greet"),
        ("zabrali mi paszport", "ask_residence", "report_trafficking"),
        ("gdzie kupić kartę SIM", "ask_residence", "out_of_scope"),
    ]
    with db.engine_for(db_url).begin() as connection:
        for i, (text, predicted, corrected) in enumerate(rows):
            connection.execute(
                db.corrections.insert().values(
                    event_id=i,
                    sender_id="s",
                    text=text,
                    language="pl",
                    predicted_intent=predicted,
                    corrected_intent=corrected,
                    username="olga",
                    at=i,
                )
            )
    page = client.get("/corrections").text
    flag = "takes a safety message out of the safety answers: the gate refuses it"
    assert page.count(flag) == 1
    row = next(r for r in page.split("<tr>") if flag in r)
    assert "szef mnie bije" in row


def test_a_changed_correction_waits_for_review_again_and_keeps_entities(
    operator: Client, db_url: str
) -> None:
    client, csrf = operator
    engine = db.engine_for(db_url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(db.events).where(db.events.c.type_name == "user")
        ).all()
    with_city = next(
        (
            r
            for r in rows
            if any(
                "start" in e and e.get("entity") == "city"
                for e in json.loads(r.data).get("parse_data", {}).get("entities", [])
            )
        ),
        None,
    )
    if with_city is None:
        pytest.skip("no fixture message with a located city entity")
    response = client.post(
        f"/conversations/{with_city.sender_id}/correct",
        data={"csrf_token": csrf, "event_id": with_city.id, "intent": "contact_iom"},
    )
    assert response.status_code == 303
    with engine.begin() as connection:
        row = connection.execute(sa.select(db.corrections)).one()
        assert row.status == "pending"
        [entity] = [e for e in json.loads(row.entities) if e["entity"] == "city"]
        text = json.loads(with_city.data)["text"]
        assert text[entity["start"] : entity["end"]]
        connection.execute(db.corrections.update().values(status="accepted"))
    client.post(
        f"/conversations/{with_city.sender_id}/correct",
        data={
            "csrf_token": csrf,
            "event_id": with_city.id,
            "intent": "ask_iom_services",
        },
    )
    with engine.connect() as connection:
        assert (
            connection.execute(sa.select(db.corrections.c.status)).scalar() == "pending"
        )
