"""Every console route and status code, with HTML assertions and security checks."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from fastapi.testclient import TestClient
from markupsafe import escape

from iom.core import db
from iom.core.learning.examples import plain
from iom.core.redaction import default_redactor
from tests.console.conftest import (
    GET_PAGES,
    PASSWORD,
    csrf_from,
    index,
    insert_unredacted,
    login,
)

Client = tuple[TestClient, str]
# as typed in tests/test_console_fixture.py (made-up numbers)
PASSPORT_NO, PESEL_NO = "AB1234567", "90010112345"  # pragma: allowlist secret
VALID_PESEL = "44051401458"  # made up, but its check digit is right
HOTLINE = "22 628 01 20"  # KCIK's public number, in knowledge/contacts.yml

POSTS = [
    "/logout",
    "/conversations/fixture-pl-trafficking/review",
    "/conversations/fixture-pl-trafficking/tags",
    "/conversations/fixture-pl-trafficking/correct",
    "/conversations/fixture-pl-trafficking/reveal",
    "/conversations/fixture-pl-trafficking/erase",
    "/handoffs/1",
    "/live/fixture-pl-trafficking/join",
    "/live/fixture-pl-trafficking/say",
    "/live/fixture-pl-trafficking/leave",
    "/directory/kcik",
    "/directory/kcik/verify",
    "/corrections/1/review",
    "/models/retrain",
    "/models/rollback",
]


# ---- access control ----------------------------------------------------------
@pytest.mark.parametrize("path", GET_PAGES)
def test_every_page_refuses_anonymous_access(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize("path", POSTS)
def test_every_form_refuses_anonymous_posts(client: TestClient, path: str) -> None:
    response = client.post(
        path, data={"csrf_token": "x", "event_id": "1", "intent": "greet"}
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize("path", ["/audit", "/directory/kcik/edit"])
def test_an_operator_cannot_reach_admin_pages(operator: Client, path: str) -> None:
    client, _ = operator
    assert client.get(path).status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/directory/kcik",
        "/directory/kcik/verify",
        "/conversations/fixture-sql/erase",
        "/corrections/1/review",
        "/models/retrain",
        "/models/rollback",
    ],
)
def test_an_operator_cannot_post_admin_forms(operator: Client, path: str) -> None:
    client, csrf = operator
    data = {
        "csrf_token": csrf,
        "text": "id: kcik",
        "source_url": "https://x.pl",
        "confirm": "fixture-sql",
    }
    assert client.post(path, data=data).status_code == 403


@pytest.mark.parametrize("path", POSTS[1:])
def test_csrf_is_enforced_on_every_form(admin: Client, path: str) -> None:
    client, _ = admin
    data = {
        "event_id": "1",
        "intent": "greet",
        "tag": "x",
        "reason": "because",
        "status": "done",
    }
    assert client.post(path, data=data).status_code == 403
    assert client.post(path, data={**data, "csrf_token": "forged"}).status_code == 403


# ---- login -------------------------------------------------------------------
def test_login_page_and_cookies(client: TestClient) -> None:
    form = client.get("/login")
    assert form.status_code == 200 and 'name="password"' in form.text
    response = client.post(
        "/login",
        data={
            "username": "olga",
            "password": PASSWORD,
            "csrf_token": csrf_from(form.text),
        },
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert (
        "iomc_session=" in cookie
        and "httponly" in cookie
        and "samesite=strict" in cookie
    )
    for header in (
        "content-security-policy",
        "x-frame-options",
        "x-content-type-options",
    ):
        assert header in response.headers


def test_login_without_its_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "olga", "password": PASSWORD})
    assert response.status_code == 403


def test_wrong_password_then_lockout(client: TestClient) -> None:
    for _ in range(5):
        form = client.get("/login")
        bad = client.post(
            "/login",
            data={
                "username": "olga",
                "password": "wrong",  # pragma: allowlist secret
                "csrf_token": csrf_from(form.text),
            },
        )
        assert bad.status_code == 401 and "Wrong user name or password" in bad.text
    form = client.get("/login")
    locked = client.post(
        "/login",
        data={
            "username": "olga",
            "password": PASSWORD,
            "csrf_token": csrf_from(form.text),
        },
    )
    assert locked.status_code == 401 and "Too many failed attempts" in locked.text


def test_unknown_user_gets_the_same_answer(client: TestClient) -> None:
    form = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "nobody",
            "password": "x",
            "csrf_token": csrf_from(form.text),
        },
    )
    assert (
        response.status_code == 401 and "Wrong user name or password" in response.text
    )


def test_login_never_redirects_off_site(client: TestClient) -> None:
    form = client.get("/login?next=//evil.example/")
    response = client.post(
        "/login",
        data={
            "username": "olga",
            "password": PASSWORD,
            "csrf_token": csrf_from(form.text),
            "next": "//evil.example/",
        },
    )
    assert response.headers["location"] == "/conversations"


def test_logout_ends_the_session(operator: Client) -> None:
    client, csrf = operator
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/conversations").status_code == 303


# ---- conversations -----------------------------------------------------------
def test_list_shows_real_conversations_newest_first(operator: Client) -> None:
    client, _ = operator
    page = client.get("/conversations")
    assert page.status_code == 200
    assert "fixture-pl-trafficking" in page.text and "fixture-en-danger" in page.text
    assert page.text.index("fixture-en-residence") < page.text.index(
        "fixture-pl-trafficking"
    )


def _list_row(html: str, sender: str) -> str:
    """The conversation list's table row of one conversation."""
    link = html.index(f'href="/conversations/{sender}"')
    return html[html.rindex("<tr>", 0, link) : html.index("</tr>", link)]


def test_first_messages_in_the_list_are_masked(operator: Client, db_url: str) -> None:
    # stored before redaction was switched on: the list shows it masked
    insert_unredacted(
        db_url, "legacy-list", f"I called {HOTLINE}, call me back on 600 100 200"
    )
    index(db_url)
    client, _ = operator
    row = _list_row(client.get("/conversations").text, "legacy-list")
    assert "600 100 200" not in row and "[PHONE]" in row
    assert f"I called {HOTLINE}" in row  # the directory's hotline stays readable


@pytest.mark.parametrize(
    ("query", "present", "absent"),
    [
        ("language=pl", "fixture-pl-trafficking", "fixture-en-danger"),
        ("language=en", "fixture-en-danger", "fixture-pl-trafficking"),
        ("intent=report_trafficking", "fixture-pl-trafficking", "fixture-en-contact"),
        ("safety=1", "fixture-en-danger", "fixture-en-contact"),
        ("handoff=1", "fixture-pl-handoff", "fixture-en-contact"),
        ("fallback=1", "fixture-fallback", "fixture-en-contact"),
        ("low_confidence=1", "fixture-fallback", "fixture-pl-handoff"),
        ("q=paszport", "fixture-pl-trafficking", "fixture-en-danger"),
        ("q=PASZPORT", "fixture-pl-trafficking", "fixture-en-danger"),
        ("safety=1&language=pl", "fixture-pl-trafficking", "fixture-en-danger"),
        ("reviewed=no", "fixture-pl-trafficking", "zzz-none"),
    ],
)
def test_filters(operator: Client, query: str, present: str, absent: str) -> None:
    client, _ = operator
    page = client.get(f"/conversations?{query}")
    assert page.status_code == 200
    assert present in page.text and absent not in page.text


def _insert_conversation(
    db_url: str, sender: str, text: str, detected: str, slot: str | None
) -> None:
    """A user turn as Rasa's tracker store writes it: the user event with the language
    detector's result, then (when the policy set it) the `language` slot event."""
    at = time.time()
    user = {
        "event": "user",
        "timestamp": at,
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": "greet", "confidence": 0.97},
            "entities": [],
            "language_detection": {"detected": detected, "reason": "lingua"},
        },
    }
    rows = [("user", "greet", None, user)]
    if slot:
        event = {"event": "slot", "timestamp": at, "name": "language", "value": slot}
        rows.append(("slot", None, "language", event))
    with sa.create_engine(db_url).begin() as connection:
        for type_name, intent, action, data in rows:
            connection.execute(
                sa.text(
                    "insert into events"
                    " (sender_id, type_name, timestamp, intent_name, action_name, data)"
                    " values (:s, :type, :t, :intent, :action, :d)"
                ),
                {
                    "s": sender,
                    "type": type_name,
                    "t": at,
                    "intent": intent,
                    "action": action,
                    "d": json.dumps(data, ensure_ascii=False),
                },
            )


def _chart_counts(svg_page: str, title: str) -> dict[str, int]:
    """Label -> value of one of the dashboard's bar charts."""
    chart = svg_page[svg_page.index(f">{title}</title>") :]
    chart = chart[: chart.index("</svg>")]
    return {
        label: int(value)
        for label, value in re.findall(
            r">([^<>]+)</text><rect [^>]*/><text [^>]*>(\d+)</text>", chart
        )
    }


def test_ukrainian_and_russian_conversations_are_filtered_and_counted(
    operator: Client, db_url: str
) -> None:
    """Four languages in the filter, the list and the dashboard, never folded into ?."""
    client, csrf = operator
    before = _chart_counts(client.get("/dashboard").text, "Conversations per language")
    assert {"uk", "ru"} <= set(before)  # both bars, even when empty
    # the policy set the slot to uk; for ru only the detector's result is there
    _insert_conversation(
        db_url, "live-uk", "Добрий день, де вчити польську?", "uk", "uk"
    )
    _insert_conversation(
        db_url, "live-ru", "Здравствуйте, где учить польский?", "ru", None
    )
    assert "live-uk" not in client.get("/conversations").text  # pages do not index
    assert index(db_url) == 3  # the background job's work: 2 user events, 1 slot
    page = client.get("/conversations")
    for code in ("pl", "en", "uk", "ru"):
        assert f'<option value="{code}" ' in page.text
    row = page.text[page.text.index("live-uk") :]
    assert "<td>uk</td>" in row[: row.index("</tr>")]
    uk = client.get("/conversations?language=uk").text
    assert "live-uk" in uk and "live-ru" not in uk and "fixture-en-contact" not in uk
    assert '<option value="uk" selected>' in uk
    ru = client.get("/conversations?language=ru").text
    assert "live-ru" in ru and "live-uk" not in ru
    for other in ("pl", "en"):
        listed = client.get(f"/conversations?language={other}").text
        assert "live-uk" not in listed and "live-ru" not in listed
    assert "Language: uk." in client.get("/conversations/live-uk").text
    after = _chart_counts(client.get("/dashboard").text, "Conversations per language")
    assert after["uk"] == before["uk"] + 1 and after["ru"] == before["ru"] + 1
    assert after["?"] == before["?"]  # neither was counted as unknown
    assert list(after) == ["pl", "en", "uk", "ru", "?"]
    # a correction in a Ukrainian conversation is exported with the Ukrainian examples
    event = _user_event_id(db_url, "live-uk", "Добрий день")
    client.post(
        "/conversations/live-uk/correct",
        data={"csrf_token": csrf, "event_id": event, "intent": "ask_info_line"},
    )
    exported = yaml.safe_load(client.get("/corrections/export?language=uk").text)
    examples = {block["intent"]: block["examples"] for block in exported["nlu"]}
    assert "Добрий день, де вчити польську?" in examples["ask_info_line"]
    polish = client.get("/corrections/export?language=pl").text
    assert "Добрий день" not in polish


def test_date_range_and_a_bad_date(operator: Client) -> None:
    client, _ = operator
    today = time.strftime("%Y-%m-%d")
    assert (
        "fixture-sql"
        in client.get(f"/conversations?date_from={today}&date_to={today}").text
    )
    assert "fixture-sql" not in client.get("/conversations?date_to=2001-01-01").text
    bad = client.get("/conversations?date_from=yesterday")
    assert bad.status_code == 200 and "Not a date" in bad.text


@pytest.mark.parametrize(
    "query", ["'; DROP TABLE events; --", "%", "_", "\\", '" OR 1=1 --', "' OR '1'='1"]
)
def test_search_with_sql_metacharacters_is_harmless(
    operator: Client, db_url: str, query: str
) -> None:
    client, _ = operator
    response = client.get("/conversations", params={"q": query})
    assert response.status_code == 200
    if query.startswith("'; DROP"):
        assert "fixture-sql" in response.text  # found as text, not executed
    if query in ("%", "_"):
        assert "fixture-pl-trafficking" not in response.text  # literal, not a wildcard
    with sa.create_engine(db_url).connect() as connection:
        assert connection.execute(sa.text("select count(*) from events")).scalar() > 0


def test_paging_parameters_are_validated(operator: Client) -> None:
    client, _ = operator
    assert client.get("/conversations?page=0").status_code == 422
    assert client.get("/conversations?page=abc").status_code == 422
    assert "Page 1 of " in client.get("/conversations?page=1").text


def test_transcript_shows_intents_confidence_entities_and_warsaw_times(
    operator: Client,
) -> None:
    client, _ = operator
    page = client.get("/conversations/fixture-pl-polish-course")
    assert page.status_code == 200
    assert "intent <code>ask_learn_polish</code>" in page.text
    assert "city=<code>Kraków</code>" in page.text
    assert "slot <code>city</code>" in page.text
    assert "Europe/Warsaw" in page.text


def test_the_bot_stored_personal_data_only_as_placeholders(
    operator: Client, db_url: str
) -> None:
    """The fixture was written by the real bot, whose tracker store redacts."""
    client, _ = operator
    page = client.get("/conversations/fixture-pl-trafficking").text
    assert "[PHONE]" in page and "[EMAIL]" in page
    with sa.create_engine(db_url).connect() as connection:
        stored = " ".join(
            row.data for row in connection.execute(sa.text("select data from events"))
        )
    assert "600 100 200" not in stored and "jan.kowalski@example.com" not in stored


def test_personal_data_is_masked_until_revealed_with_a_reason(
    operator: Client, db_url: str
) -> None:
    # data stored before redaction was switched on, or in a form it missed
    insert_unredacted(
        db_url, "legacy-pl", "mój numer to 600 100 200, email jan.kowalski@example.com"
    )
    client, csrf = operator
    url = "/conversations/legacy-pl"
    page = client.get(url).text
    assert "600 100 200" not in page and "jan.kowalski@example.com" not in page
    assert "[PHONE]" in page and "[EMAIL]" in page  # the tracker store's placeholders
    assert "Reason to reveal personal data" in page
    no_reason = client.post(f"{url}/reveal", data={"csrf_token": csrf, "reason": ""})
    assert no_reason.status_code == 400
    assert (
        client.post(
            f"{url}/reveal", data={"csrf_token": csrf, "reason": "callback requested"}
        ).status_code
        == 303
    )
    assert "600 100 200" in client.get(url).text
    with sa.create_engine(db_url).connect() as connection:
        row = connection.execute(
            sa.select(db.audit.c.detail).where(db.audit.c.action == "reveal")
        ).first()
    assert row is not None and row.detail == "callback requested"


def test_document_numbers_are_masked(operator: Client, db_url: str) -> None:
    client, _ = operator
    page = client.get("/conversations/fixture-en-residence").text
    assert PASSPORT_NO not in page and PESEL_NO not in page
    assert "[DOCUMENT]" in page  # redacted by the bot's tracker store
    message = (
        f"my passport number is {PASSPORT_NO}, PESEL {PESEL_NO}"
        f" and my son's PESEL {VALID_PESEL}"
    )
    insert_unredacted(db_url, "legacy-en", message)
    page = client.get("/conversations/legacy-en").text
    assert PASSPORT_NO not in page and PESEL_NO not in page and VALID_PESEL not in page
    assert "[DOCUMENT]" in page and "[PESEL]" in page
    # exactly what the bot's tracker store would have stored
    assert str(escape(default_redactor().redact(message))) in page


def test_directory_hotlines_are_not_masked(operator: Client, db_url: str) -> None:
    """The numbers the bot itself gives are not personal data: no reveal needed."""
    client, _ = operator
    insert_unredacted(db_url, "legacy-hotline", f"Dzwoniłam na {HOTLINE}, nikt nie")
    page = client.get("/conversations/legacy-hotline").text
    assert f"Dzwoniłam na {HOTLINE}, nikt nie" in page and "[PHONE]" not in page
    assert "Reason to reveal personal data" not in page  # nothing to reveal
    insert_unredacted(
        db_url, "legacy-private", f"Dzwoniłam na {HOTLINE}, mój numer 600 100 200"
    )
    page = client.get("/conversations/legacy-private").text
    assert f"Dzwoniłam na {HOTLINE}, mój numer [PHONE]" in page
    assert "600 100 200" not in page and "Reason to reveal personal data" in page


def test_html_in_a_user_message_is_shown_escaped(operator: Client) -> None:
    client, _ = operator
    page = client.get("/conversations/fixture-xss").text
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    listing = client.get("/conversations").text
    assert "<script>alert(1)" not in listing


def test_unknown_conversation_is_a_polite_404(operator: Client) -> None:
    client, _ = operator
    page = client.get("/conversations/does-not-exist")
    assert page.status_code == 404
    assert "No conversation" in page.text and "Traceback" not in page.text


# ---- review, tags, corrections, export -------------------------------------------
def test_review_tag_and_filter(operator: Client) -> None:
    client, csrf = operator
    url = "/conversations/fixture-pl-trafficking"
    assert (
        client.post(
            f"{url}/review", data={"csrf_token": csrf, "reviewed": "1", "note": "ok"}
        ).status_code
        == 303
    )
    assert (
        client.post(
            f"{url}/tags", data={"csrf_token": csrf, "tag": "Follow up"}
        ).status_code
        == 303
    )
    assert (
        client.post(f"{url}/tags", data={"csrf_token": csrf, "tag": "  "}).status_code
        == 400
    )
    page = client.get(url).text
    assert "follow up" in page and "last by olga" in page
    assert "fixture-pl-trafficking" in client.get("/conversations?tag=follow+up").text
    assert "fixture-pl-trafficking" in client.get("/conversations?reviewed=yes").text
    assert "fixture-pl-trafficking" not in client.get("/conversations?reviewed=no").text
    client.post(
        f"{url}/tags", data={"csrf_token": csrf, "tag": "follow up", "remove": "1"}
    )
    assert (
        "fixture-pl-trafficking" not in client.get("/conversations?tag=follow+up").text
    )


def _user_event_id(db_url: str, sender: str, text: str) -> int:
    with sa.create_engine(db_url).connect() as connection:
        for row in connection.execute(
            sa.text(
                "select id, data from events where sender_id=:s and type_name='user'"
            ),
            {"s": sender},
        ):
            if json.loads(row.data)["text"].startswith(text):
                return int(row.id)
    raise AssertionError("event not found")


def test_correct_an_intent_and_export_it_as_rasa_nlu_yaml(
    operator: Client, db_url: str
) -> None:
    client, csrf = operator
    event = _user_event_id(db_url, "fixture-fallback", "asdf qwer zxcv")
    url = "/conversations/fixture-fallback"
    bad = client.post(
        f"{url}/correct",
        data={"csrf_token": csrf, "event_id": event, "intent": "not_an_intent"},
    )
    assert bad.status_code == 400
    wrong = client.post(
        f"{url}/correct",
        data={"csrf_token": csrf, "event_id": 999999, "intent": "greet"},
    )
    assert wrong.status_code == 404
    ok = client.post(
        f"{url}/correct",
        data={"csrf_token": csrf, "event_id": event, "intent": "out_of_scope"},
    )
    assert ok.status_code == 303
    assert "corrected to <code>out_of_scope</code>" in client.get(url).text
    event_pl = _user_event_id(db_url, "fixture-pl-polish-course", "gdzie mogę")
    client.post(
        "/conversations/fixture-pl-polish-course/correct",
        data={"csrf_token": csrf, "event_id": event_pl, "intent": "ask_info_line"},
    )
    assert "out_of_scope" in client.get("/corrections").text
    exported = client.get("/corrections/export?language=pl")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    data = yaml.safe_load(exported.text)
    assert data["version"] == "3.1"
    examples = {block["intent"]: block["examples"] for block in data["nlu"]}
    assert "gdzie mogę się nauczyć polskiego w Krakowie" in plain(
        examples["ask_info_line"]
    )
    english = yaml.safe_load(client.get("/corrections/export?language=en").text)
    assert all(block["intent"] != "ask_info_line" for block in english["nlu"])
    for lang in ("uk", "ru"):  # nothing corrected yet, but a valid (empty) file
        other = client.get(f"/corrections/export?language={lang}")
        assert other.status_code == 200 and yaml.safe_load(other.text)["nlu"] == []
    assert client.get("/corrections/export?language=de").status_code == 400


# ---- handoffs -----------------------------------------------------------------
def _handoff_row(html: str, request_id: int) -> str:
    """The handoff queue's table row of one request."""
    form = html.index(f'action="/handoffs/{request_id}"')
    return html[html.rindex("<tr>", 0, form) : form]


def test_handoff_queue(operator: Client) -> None:
    client, csrf = operator
    page = client.get("/handoffs")
    assert page.status_code == 200 and "fixture-pl-h" in page.text
    request_id = int(page.text.split('action="/handoffs/')[1].split('"')[0])
    assert (
        client.post(
            f"/handoffs/{request_id}",
            data={"csrf_token": csrf, "status": "in_progress"},
        ).status_code
        == 303
    )
    taken = _handoff_row(client.get("/handoffs?status=in_progress").text, request_id)
    assert '<span class="flag">in_progress</span></td><td>olga</td>' in taken
    client.post(f"/handoffs/{request_id}", data={"csrf_token": csrf, "status": "open"})
    reopened = _handoff_row(client.get("/handoffs?status=open").text, request_id)
    assert '<span class="flag">open</span></td><td></td>' in reopened  # nobody
    assert (
        client.post(
            f"/handoffs/{request_id}", data={"csrf_token": csrf, "status": "lost"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/handoffs/999999", data={"csrf_token": csrf, "status": "done"}
        ).status_code
        == 404
    )


# ---- directory ----------------------------------------------------------------
def test_directory_page_shows_sources_and_dates(operator: Client) -> None:
    client, _ = operator
    page = client.get("/directory")
    assert page.status_code == 200
    assert "+48 22 628 01 20" in page.text and "2025-10" in page.text
    assert "unconfirmed" in page.text and "Edit entry" not in page.text


def test_admin_edits_an_entry_through_the_schema(admin: Client, contacts: Path) -> None:
    client, csrf = admin
    form = client.get("/directory/kcik/edit")
    assert form.status_code == 200
    text = form.text.split('spellcheck="false">')[1].split("</textarea>")[0]
    import html as html_lib

    original = html_lib.unescape(text)
    broken = original.replace("source_url:", "source:", 1)
    refused = client.post("/directory/kcik", data={"csrf_token": csrf, "text": broken})
    assert refused.status_code == 422 and "Not saved" in refused.text
    assert "source:" not in contacts.read_text("utf-8")
    changed = original.replace(
        "24/7 line for victims", "24/7 line (checked) for victims"
    )
    assert (
        client.post(
            "/directory/kcik", data={"csrf_token": csrf, "text": changed}
        ).status_code
        == 303
    )
    saved = contacts.read_text("utf-8")
    assert "24/7 line (checked) for victims" in saved
    assert saved.startswith("# Contact directory")  # comments survive
    assert (
        client.post(
            "/directory/nope", data={"csrf_token": csrf, "text": "id: nope"}
        ).status_code
        == 404
    )
    assert client.get("/directory/nope/edit").status_code == 404


def test_admin_marks_an_entry_verified(admin: Client, contacts: Path) -> None:
    client, csrf = admin
    assert (
        client.post(
            "/directory/kcik/verify", data={"csrf_token": csrf, "source_url": "ftp://x"}
        ).status_code
        == 400
    )
    ok = client.post(
        "/directory/kcik/verify",
        data={"csrf_token": csrf, "source_url": "https://www.gov.pl/web/kcik-en"},
    )
    assert ok.status_code == 303
    data = yaml.safe_load(contacts.read_text("utf-8"))
    kcik = next(e for e in data["contacts"] if e["id"] == "kcik")
    today = time.strftime("%Y-%m-%d")
    assert kcik["verified_by"] == "adam" and str(kcik["verified_on"]) == today
    page = client.get("/directory").text
    section = page[page.index('id="kcik"') :]
    section = section[: section.index("</section>")]
    assert f"Verified by staff: {today} by adam" in section


# ---- dashboard, audit, erasure --------------------------------------------------
def test_dashboard_has_charts(operator: Client) -> None:
    client, _ = operator
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert page.text.count("<svg") == 3 and "report_trafficking" in page.text
    assert client.get("/dashboard?days=0").status_code == 422


def test_audit_log_records_operator_actions(admin: Client) -> None:
    client, csrf = admin
    client.post(
        "/conversations/fixture-sql/tags", data={"csrf_token": csrf, "tag": "checked"}
    )
    page = client.get("/audit")
    assert page.status_code == 200
    assert "login" in page.text and "checked" in page.text


def test_admin_erases_a_conversation(admin: Client, db_url: str) -> None:
    client, csrf = admin
    url = "/conversations/fixture-en-contact"
    assert (
        client.post(
            f"{url}/erase", data={"csrf_token": csrf, "confirm": "other"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"{url}/erase", data={"csrf_token": csrf, "confirm": "fixture-en-contact"}
        ).status_code
        == 303
    )
    assert client.get(url).status_code == 404
    assert "fixture-en-contact" not in client.get("/conversations").text
    with sa.create_engine(db_url).connect() as connection:
        left = connection.execute(
            sa.text("select count(*) from events where sender_id='fixture-en-contact'")
        ).scalar()
    assert left == 0
    assert (
        client.post(
            "/conversations/nope/erase", data={"csrf_token": csrf, "confirm": "nope"}
        ).status_code
        == 404
    )


def test_the_export_leaves_pyyaml_alone() -> None:
    """Its block-literal strings use a Dumper of its own, not a global change."""
    from iom.core.learning import examples

    assert examples._Literal not in yaml.SafeDumper.yaml_representers
    with pytest.raises(yaml.representer.RepresenterError):
        yaml.safe_dump(examples._Literal("x"))


def test_health_and_static(client: TestClient) -> None:
    assert client.get("/healthz").text == "ok\n"
    assert client.get("/static/console.css").status_code == 200
    assert client.get("/static/nope.css").status_code == 404


def test_create_user_rules(db_url: str) -> None:
    from iom.console import auth

    engine = db.engine_for(db_url)
    with pytest.raises(ValueError):
        auth.create_user(engine, "short", "tooshort", "operator")
    with pytest.raises(ValueError):
        auth.create_user(engine, "x", PASSWORD, "root")
    with pytest.raises(ValueError):
        auth.create_user(engine, "olga", PASSWORD, "operator")
    with sa.create_engine(db_url).connect() as connection:
        stored = (
            connection.execute(sa.text("select password_hash from console_users"))
            .scalars()
            .all()
        )
    assert all(h.startswith("$argon2") for h in stored)


def test_each_session_has_its_own_csrf_token(client: TestClient) -> None:
    """A form is accepted only with the token of the session that posts it."""
    other = TestClient(client.app, follow_redirects=False)  # its own cookies
    olga_token = login(other, "olga")
    adam_token = login(client, "adam")
    assert olga_token != adam_token
    url = "/conversations/fixture-sql/tags"
    refused = client.post(url, data={"csrf_token": olga_token, "tag": "x"})
    assert refused.status_code == 403 and "form expired" in refused.text
    assert (
        client.post(url, data={"csrf_token": adam_token, "tag": "x"}).status_code == 303
    )
    assert (
        other.post(url, data={"csrf_token": olga_token, "tag": "y"}).status_code == 303
    )


def test_a_revoked_account_is_logged_out_and_cannot_log_in(
    operator: Client, db_url: str
) -> None:
    """A stolen operator account: `console.cli revoke-user` ends it at once."""
    from iom.console import cli

    client, _ = operator
    assert client.get("/conversations").status_code == 200
    assert cli.main(["--url", db_url, "revoke-user", "olga"]) == 0
    assert client.get("/conversations").status_code == 303  # session gone
    form = client.get("/login")
    refused = client.post(
        "/login",
        data={
            "username": "olga",
            "password": PASSWORD,
            "csrf_token": csrf_from(form.text),
        },
    )
    assert refused.status_code == 401 and "disabled" in refused.text
    with sa.create_engine(db_url).connect() as connection:
        actions = connection.execute(sa.text("select action from console_audit"))
        assert "revoke_user" in {row.action for row in actions}
    with pytest.raises(SystemExit):
        cli.main(["--url", db_url, "revoke-user", "nobody"])


def test_a_restored_account_needs_the_new_password(
    client: TestClient, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from iom.console import cli

    cli.main(["--url", db_url, "revoke-user", "olga"])
    monkeypatch.setattr("sys.stdin", io.StringIO("a brand new passphrase\n"))
    assert cli.main(["--url", db_url, "restore-user", "olga", "--password-stdin"]) == 0
    assert login(client, "olga", "a brand new passphrase")
