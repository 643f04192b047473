"""Entities and erasure in the learning loop, checked with Rasa's own reader.

Entity marks (`iom.core.learning.entities`), their annotations in the candidate
files (`examples.annotate`, read back by Rasa 3.6's YAML reader and validator), and
erasure reaching the model folders so that the next retrain no longer has them
(`iom.core.learning.erasure`, `iom.core.retention.erase`).
"""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from iom.core import db, retention
from iom.core.learning import erasure, examples, registry
from iom.core.learning.entities import Mark, MarkError, domain_entities, place
from iom.core.learning.examples import Candidate, Correction, conversation_key
from iom.core.redaction import default_redactor
from iom.tools import retrain

ROOT = Path(__file__).resolve().parent.parent
TYPES = ["city", "language", "topic"]


def personal(text: str) -> bool:
    return bool(default_redactor().find(text))


@pytest.fixture(scope="module")
def existing() -> examples.Existing:
    return examples.load_existing(ROOT / "data", [])


def test_the_domain_declares_the_entity_types_the_console_offers(
    domain: dict,
) -> None:
    assert domain_entities(domain) == TYPES


def test_marks_become_spans_over_the_stored_text() -> None:
    text = "kurs polskiego w Krakowie albo w Krakowie Nowej Hucie"
    spans = place(
        text,
        [Mark("city", "Krakowie", "Kraków"), Mark("city", "Krakowie", "")],
        TYPES,
    )
    assert spans == (
        {"start": 17, "end": 25, "entity": "city", "value": "Kraków"},
        {"start": 33, "end": 41, "entity": "city"},
    )


@pytest.mark.parametrize(
    ("text", "mark", "reason"),
    [
        ("w Krakowie", Mark("town", "Krakowie"), "entity type"),
        ("w Krakowie", Mark("city", "Gdańsku"), "not in the message"),
        ("numer [PHONE] w Krakowie", Mark("city", "PHONE"), "placeholder"),
        ("numer [PHONE] w Krakowie", Mark("city", "[PHONE]"), "brackets"),
        ("tel 600 123 456 Kraków", Mark("city", "600 123 456"), "personal data"),
        ("w Krakowie", Mark("city", "Krakowie", "<b>x</b>"), "A value"),
        ("w Krakowie", Mark("city", "Krakowie", "600 123 456"), "personal data"),
    ],
)
def test_marks_are_refused_with_a_reason(text: str, mark: Mark, reason: str) -> None:
    with pytest.raises(MarkError, match=reason):
        place(text, [mark], TYPES)


def _read(yaml_text: str) -> list[tuple[str, str, list[dict]]]:
    data = RasaYAMLReader().reads(yaml_text)
    return [
        (m.get("text"), m.get("intent"), m.get("entities") or [])
        for m in data.training_examples
    ]


def test_annotated_candidates_are_valid_rasa_nlu_data(
    existing: examples.Existing, tmp_path: Path
) -> None:
    text = "szukam  biura IOM w Gdańsku, temat: praca"  # two spaces: offsets kept
    entities = place(
        text,
        [Mark("city", "Gdańsku", "Gdańsk"), Mark("topic", "praca", "work")],
        TYPES,
    )
    correction = Correction(
        7, text, "pl", "contact_iom", entities, "olga", "conversation-1"
    )
    selection = examples.select([correction], existing, personal)
    [candidate] = selection.candidates
    assert candidate.conversation == conversation_key("conversation-1")
    assert "conversation-1" not in json.dumps(examples.to_json([candidate]))
    [written] = examples.write(selection.candidates, tmp_path / "data")
    [(plain, intent, found)] = _read(written.read_text("utf-8"))
    assert (plain, intent) == (
        "szukam biura IOM w Gdańsku, temat: praca",
        "contact_iom",
    )
    assert [(e["entity"], e["value"], plain[e["start"] : e["end"]]) for e in found] == [
        ("city", "Gdańsk", "Gdańsku"),
        ("topic", "work", "praca"),
    ]


def test_a_text_that_reads_as_an_annotation_is_refused(
    existing: examples.Existing,
) -> None:
    correction = Correction(1, "dzwoń [PHONE](komórka) jutro", "pl", "contact_iom")
    [refusal] = examples.select([correction], existing, personal).refused
    assert "annotation" in refusal.reason


def test_the_written_data_passes_rasas_validator_beside_data(tmp_path: Path) -> None:
    """What `make validate` checks (rasa data validate), on data/ plus candidates."""
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.validator import Validator

    text = "czy w Gdańsku jest biuro IOM"
    entities = place(text, [Mark("city", "Gdańsku", "Gdańsk")], TYPES)
    candidate = Candidate(
        "pl", "offices", "contact_iom", examples.annotate(text, entities)
    )
    examples.write([candidate], tmp_path / "staging")
    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(ROOT / "domain.yml"),
        training_data_paths=[str(ROOT / "data" / "nlu"), str(tmp_path / "staging")],
    )
    validator = Validator.from_importer(importer)
    assert validator.verify_example_repetition_in_intents(False)
    assert validator.verify_intents(False)
    nlu = importer.get_nlu_data()
    assert any(
        m.get("text") == text and m.get("entities") for m in nlu.training_examples
    )


# ---- erasure ---------------------------------------------------------------------
@pytest.fixture()
def engine(tmp_path: Path) -> sa.engine.Engine:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    db.migrate(url)
    return db.engine_for(url)


def _accepted(engine: sa.engine.Engine, sender: str, text: str, event: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            db.corrections.insert().values(
                event_id=event,
                sender_id=sender,
                text=text,
                language="pl",
                corrected_intent="out_of_scope",
                username="olga",
                at=0,
                status="accepted",
            )
        )


def test_after_an_erasure_the_next_retrain_gathers_nothing_of_it(
    engine: sa.engine.Engine, tmp_path: Path, existing: examples.Existing
) -> None:
    candidates = tmp_path / "candidates"
    paths = retrain.Paths(root=ROOT, live_model=tmp_path / "iom.tar.gz")
    paths.candidates = candidates
    _accepted(engine, "erase-me", "gdzie kupię bilet na pociąg do Pragi", 1)
    _accepted(engine, "keep-me", "gdzie kupię bilet na autobus do Wiednia", 2)
    # a retrain: what it gathered becomes the live model's candidates.json
    selection = examples.select(
        retrain.accepted_corrections(engine), existing, personal
    )
    assert len(selection.candidates) == 2
    folder = candidates / "20261130-120000"
    examples.write(selection.candidates, folder / "data")
    (folder / "candidates.json").write_text(
        json.dumps(examples.to_json(selection.candidates))
    )
    (folder / "model.tar.gz").write_bytes(b"weights")
    registry.create(
        engine,
        folder.name,
        "adam",
        status="live",
        path=str(folder / "model.tar.gz"),
        report_dir=str(folder),
    )
    with engine.begin() as connection:  # the conversation's events, to count them
        db.events.create(connection, checkfirst=True)
        connection.execute(
            db.events.insert().values(sender_id="erase-me", type_name="user")
        )

    deleted = retention.erase(engine, "erase-me", candidates, "adam")

    assert deleted.conversations == 1 and deleted.examples == {folder.name: 1}
    live = registry.live(engine)
    assert live is not None and live.erased_examples == 1
    # the next retrain's gathering step, as retrain.run does it
    carried = retrain.carried_examples(live, paths)
    again = examples.select(
        retrain.accepted_corrections(engine), existing, personal, carried
    )
    texts = [c.text for c in again.candidates]
    assert texts == ["gdzie kupię bilet na autobus do Wiednia"]
    assert "Pragi" not in "".join(p.read_text() for p in folder.rglob("*.yml"))


def test_erasure_is_refused_while_a_retrain_holds_the_lock(
    engine: sa.engine.Engine, tmp_path: Path
) -> None:
    candidates = tmp_path / "candidates"
    candidates.mkdir()
    _accepted(engine, "erase-me", "gdzie kupię bilet", 1)
    with open(candidates / registry.LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(erasure.LearningBusy):
            retention.erase(engine, "erase-me", candidates)
    with engine.connect() as connection:
        assert connection.execute(sa.select(db.corrections.c.id)).all()
    assert retention.erase(engine, "erase-me", candidates).conversations == 0
    with engine.connect() as connection:
        assert not connection.execute(sa.select(db.corrections.c.id)).all()
