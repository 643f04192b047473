"""Entities in corrections: an operator marks the words and the type (issue 17).

Route tests for the correction form's entity rows (stored spans, refusals), the
corrections page and the export, which writes Rasa's annotation format.
"""

from __future__ import annotations

import json
import re
import time
from types import SimpleNamespace

import sqlalchemy as sa
import yaml
from fastapi.testclient import TestClient

from iom.console.export import nlu_yaml
from iom.core import db
from iom.core.learning.examples import plain

Client = tuple[TestClient, str]
SENDER = "fixture-pl-polish-course"
URL = f"/conversations/{SENDER}"
# Rasa 3.6's own pattern (rasa/shared/nlu/training_data/entities_parser.py)
RASA_ENTITY = re.compile(
    r"\[(?P<entity_text>[^\]]+?)\](\((?P<entity>[^:)]+?)(?:\:(?P<value>[^)]+))?\)"
    r"|\{(?P<entity_dict>[^}]+?)\}|\[(?P<list_entity_dicts>.*?)\])"
)


def event_of(db_url: str, sender: str, start: str) -> tuple[int, str]:
    with sa.create_engine(db_url).connect() as connection:
        for row in connection.execute(
            sa.select(db.events.c.id, db.events.c.data).where(
                (db.events.c.sender_id == sender) & (db.events.c.type_name == "user")
            )
        ):
            text = json.loads(row.data)["text"]
            if text.startswith(start):
                return int(row.id), text
    raise AssertionError(f"no message starting {start!r}")


def add_user_message(db_url: str, sender: str, text: str) -> int:
    """A stored user message (as the redacting tracker store wrote it)."""
    event = {"event": "user", "timestamp": time.time(), "text": text}
    event["parse_data"] = {"text": text, "intent": {"name": "contact_iom"}}
    with sa.create_engine(db_url).begin() as connection:
        return int(
            connection.execute(
                db.events.insert().values(
                    sender_id=sender,
                    type_name="user",
                    timestamp=event["timestamp"],
                    intent_name="contact_iom",
                    data=json.dumps(event),
                )
            ).inserted_primary_key[0]
        )


def stored(db_url: str) -> list[sa.Row]:
    with sa.create_engine(db_url).connect() as connection:
        return list(connection.execute(sa.select(db.corrections)).all())


def post(client: TestClient, csrf: str, event_id: int, *rows: tuple[str, ...], **kw):
    data: dict[str, object] = {
        "csrf_token": csrf,
        "event_id": event_id,
        "intent": kw.get("intent", "ask_learn_polish"),
        "entity_type": [r[0] for r in rows],
        "entity_text": [r[1] for r in rows],
        "entity_value": [r[2] if len(r) > 2 else "" for r in rows],
    }
    return client.post(f"{kw.get('url', URL)}/correct", data=data)


def test_operator_marks_a_city_with_its_value_and_it_is_exported_annotated(
    operator: Client, db_url: str
) -> None:
    client, csrf = operator
    event, text = event_of(db_url, SENDER, "gdzie mogę")
    response = post(client, csrf, event, ("city", "Krakowie", "Kraków"), ("", "", ""))
    assert response.status_code == 303, response.text
    [row] = stored(db_url)
    [span] = json.loads(row.entities)
    assert text[span["start"] : span["end"]] == "Krakowie"
    assert (span["entity"], span["value"]) == ("city", "Kraków")
    page = client.get(URL).text
    assert 'value="Krakowie"' in page and 'value="Kraków"' in page
    assert "<summary>Entities (1)</summary>" in page
    listing = client.get("/corrections").text
    assert "<code>city</code> “Krakowie” → Kraków" in listing
    exported = yaml.safe_load(client.get("/corrections/export?language=pl").text)
    [line] = [
        ln[2:]
        for block in exported["nlu"]
        for ln in block["examples"].splitlines()
        if "Krakowie" in ln
    ]
    assert '[Krakowie]{"entity": "city", "value": "Kraków"}' in line
    match = RASA_ENTITY.search(line)
    assert match and json.loads("{" + match["entity_dict"] + "}") == {
        "entity": "city",
        "value": "Kraków",
    }
    assert plain(line) == " ".join(text.split())


def test_a_mark_without_a_value_is_written_in_the_short_form(
    operator: Client, db_url: str
) -> None:
    client, csrf = operator
    event, _ = event_of(db_url, SENDER, "gdzie mogę")
    assert post(client, csrf, event, ("city", "Krakowie")).status_code == 303
    [span] = json.loads(stored(db_url)[0].entities)
    assert "value" not in span
    exported = client.get("/corrections/export?language=pl").text
    assert "[Krakowie](city)" in exported


def test_words_not_in_the_message_are_refused(operator: Client, db_url: str) -> None:
    client, csrf = operator
    event, _ = event_of(db_url, SENDER, "gdzie mogę")
    for words in ("Warszawie", "krakowie", "Krakowie w Gdańsku"):
        response = post(client, csrf, event, ("city", words))
        assert response.status_code == 400
        assert "not in the message" in response.text
    assert stored(db_url) == []


def test_an_entity_type_outside_the_domain_is_refused(
    operator: Client, db_url: str
) -> None:
    client, csrf = operator
    event, _ = event_of(db_url, SENDER, "gdzie mogę")
    for entity in ("town", "CITY", "intent"):
        response = post(client, csrf, event, (entity, "Krakowie"))
        assert response.status_code == 400
        assert "entity type from the domain" in response.text
    assert post(client, csrf, event, ("", "Krakowie")).status_code == 400  # half row
    assert post(client, csrf, event, ("city", "")).status_code == 400
    assert stored(db_url) == []


def test_a_placeholder_or_personal_data_cannot_be_an_entity(
    operator: Client, db_url: str
) -> None:
    client, csrf = operator
    sender = "fixture-en-contact"
    event = add_user_message(db_url, sender, "call me on [PHONE] in Gdańsk")
    url = f"/conversations/{sender}"
    for words in ("[PHONE]", "PHONE", "[PHONE] in Gdańsk"):
        response = post(client, csrf, event, ("city", words), url=url)
        assert response.status_code == 400, words
    assert "placeholder" in post(client, csrf, event, ("city", "PHONE"), url=url).text
    # a number the redactor finds (a message stored before redaction)
    raw = add_user_message(db_url, sender, "my number is 600 123 456 in Gdańsk")
    response = post(client, csrf, raw, ("city", "600 123 456"), url=url)
    assert response.status_code == 400 and "personal data" in response.text
    value = post(client, csrf, raw, ("city", "Gdańsk", "600 123 456"), url=url)
    assert value.status_code == 400
    assert stored(db_url) == []
    ok = post(client, csrf, event, ("city", "Gdańsk"), url=url, intent="contact_iom")
    assert ok.status_code == 303


def test_html_and_script_in_the_marks_are_refused_and_never_echoed(
    operator: Client, db_url: str
) -> None:
    client, csrf = operator
    event, _ = event_of(db_url, SENDER, "gdzie mogę")
    script = "<script>alert(1)</script>"
    for row in (
        (script, "Krakowie"),
        ("city", script),
        ("city", "Krakowie", script),
        ("city", "Krakowie", '"><img src=x onerror=alert(1)>'),
        ("city", "Krakowie", "Kraków](topic)"),
    ):
        response = post(client, csrf, event, row)
        assert response.status_code == 400, row
        assert "<script>alert" not in response.text and "<img" not in response.text
    assert stored(db_url) == []


def test_clearing_the_rows_removes_the_entities_rasa_found(
    operator: Client, db_url: str
) -> None:
    client, csrf = operator
    event, _ = event_of(db_url, SENDER, "gdzie mogę")
    assert post(client, csrf, event, ("", "", "")).status_code == 303
    assert stored(db_url)[0].entities is None
    # the same words twice: each mark takes the next occurrence
    twice = add_user_message(db_url, SENDER, "Kraków czy Kraków Nowa Huta")
    response = post(client, csrf, twice, ("city", "Kraków"), ("city", "Kraków"))
    assert response.status_code == 303
    row = next(r for r in stored(db_url) if r.event_id == twice)
    assert [(s["start"], s["end"]) for s in json.loads(row.entities)] == [
        (0, 6),
        (11, 17),
    ]
    third = post(client, csrf, twice, *[("city", "Kraków")] * 3)
    assert third.status_code == 400 and "twice" in third.text


def test_the_export_keeps_one_of_two_texts_that_differ_only_in_annotations() -> None:
    def row(entities: object) -> SimpleNamespace:
        return SimpleNamespace(
            text="biuro w Gdańsku",
            corrected_intent="contact_iom",
            entities=json.dumps(entities) if entities else None,
        )

    span = {"start": 8, "end": 15, "entity": "city", "value": "Gdańsk"}
    data = yaml.safe_load(nlu_yaml([row([span]), row(None)]))
    assert data["nlu"] == [
        {
            "intent": "contact_iom",
            "examples": '- biuro w [Gdańsku]{"entity": "city", "value": "Gdańsk"}\n',
        }
    ]
