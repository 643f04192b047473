"""The widget page server (iom/tools/widget_server.py) and the widget's static data."""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from iom.tools import widget_server
from tests.conftest import ROOT, fact_phone_status, load_yaml

KEYLINES = ROOT / "widget" / "src" / "keylines.json"
STRINGS = ROOT / "widget" / "src" / "strings.json"
LANGUAGES = ("pl", "en", "uk", "ru")
NATIVE_NAMES = {"pl": "Polski", "en": "English", "uk": "Українська", "ru": "Русский"}
# every page the server serves: path -> <html lang>
PAGES = {
    "/": "pl",
    "/en/": "en",
    "/uk/": "uk",
    "/ru/": "ru",
    "/privacy/": "pl",
    "/uk/privacy/": "uk",
    "/ru/privacy/": "ru",
}
CHAT_PAGES = {path: lang for path, lang in PAGES.items() if "privacy" not in path}


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), widget_server.Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def fetch(
    port: int, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    body = response.read().decode("utf-8", "replace")
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


class Links(HTMLParser):
    """The page's <html lang>, the language switcher's links and the widget's script."""

    def __init__(self) -> None:
        super().__init__()
        self.html_lang: str | None = None
        self.nav: list[dict[str, str | None]] = []
        self.script: dict[str, str | None] = {}
        self._in_nav = False
        self._link: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.html_lang = found.get("lang")
        elif tag == "nav":
            self._in_nav = True
        elif tag == "a" and self._in_nav:
            self._link = {**found, "text": ""}
            self.nav.append(self._link)
        elif tag == "script" and "data-language" in found:
            self.script = found

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._in_nav = False
        elif tag == "a":
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._link["text"] = (self._link["text"] or "") + data.strip()


def parse(body: str) -> Links:
    parser = Links()
    parser.feed(body)
    return parser


@pytest.mark.parametrize(("path", "lang"), PAGES.items())
def test_pages_are_served_with_strict_headers(
    server: int, path: str, lang: str
) -> None:
    status, headers, body = fetch(server, path)
    assert status == 200
    assert f'<html lang="{lang}">' in body
    assert "{{" not in body  # every placeholder filled
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    assert "set-cookie" not in headers


@pytest.mark.parametrize(("path", "lang"), PAGES.items())
def test_every_page_has_the_four_language_switcher(
    server: int, path: str, lang: str
) -> None:
    """Four links, each named in its own language, with hreflang and lang, to pages
    in that language; the page's own language is marked as the current one."""
    _, _, body = fetch(server, path)
    page = parse(body)
    assert page.html_lang == lang
    assert [link["text"] for link in page.nav] == list(NATIVE_NAMES.values())
    current = [link for link in page.nav if link.get("aria-current") == "page"]
    assert [link["hreflang"] for link in current] == [lang]
    for code, link in zip(LANGUAGES, page.nav, strict=True):
        assert link["hreflang"] == code and link["lang"] == code
        target = str(link["href"]).split("#")[0]
        status, _, linked = fetch(server, target)
        assert status == 200, f"{path}: switcher link {target} is broken"
        if code != "en" or "privacy" not in path:  # English privacy is /privacy/#en
            assert parse(linked).html_lang == code
        assert ("privacy" in target) == ("privacy" in path)


@pytest.mark.parametrize(("path", "lang"), CHAT_PAGES.items())
def test_chat_pages_start_the_widget_in_their_language(
    server: int, path: str, lang: str
) -> None:
    _, _, body = fetch(server, path)
    script = parse(body).script
    assert script["data-language"] == lang
    privacy = str(script["data-privacy-url"])
    status, _, notice = fetch(server, privacy.split("#")[0])
    assert status == 200
    if lang in ("uk", "ru"):
        assert privacy == f"/{lang}/privacy/" and parse(notice).html_lang == lang
    assert f'href="{privacy}"' in body  # the page links its privacy notice too


def test_ui_strings_exist_in_every_language() -> None:
    """Every UI string in pl, en, uk, ru; numbers as in Polish; polite Ви / Вы."""
    strings = json.loads(STRINGS.read_text("utf-8"))
    assert set(strings) - {"_comment"} == set(LANGUAGES)
    keys = set(strings["pl"])
    for lang in LANGUAGES:
        assert set(strings[lang]) == keys, f"{lang}: keys differ from pl"
        for key, text in strings[lang].items():
            assert text.strip(), f"{lang}.{key} is empty"
            digits = re.findall(r"\d+", text)
            assert digits == re.findall(r"\d+", strings["pl"][key]), f"{lang}.{key}"
    cyrillic = re.compile("[а-яіїєґё]", re.IGNORECASE)
    for lang in ("uk", "ru"):
        for key in ("quickExit", "send", "placeholder", "privacy", "offlineTitle"):
            assert cyrillic.search(strings[lang][key]), f"{lang}.{key} untranslated"
        # the polite pronoun is capitalised: no lower-case ви/вы/вам/ваш… as a word
        for key, text in strings[lang].items():
            assert not re.search(r"\b(ви|вас|вам|ваш\w*|вы|вами)\b", text), key
    assert "і" in strings["uk"]["privacy"] and "ы" not in strings["uk"]["privacy"]
    assert "ы" in strings["ru"]["privacy"] and "і" not in strings["ru"]["privacy"]


def test_page_points_the_widget_at_the_bot_on_the_same_host(
    server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RASA_PORT", "5999")
    monkeypatch.delenv("WIDGET_SOCKET_URL", raising=False)
    _, headers, body = fetch(server, "/", headers={"Host": "chat.example.org:8080"})
    assert 'data-socket-url="http://chat.example.org:5999"' in body
    assert "ws://chat.example.org:5999" in headers["content-security-policy"]


def test_configured_socket_url_and_exit_url(
    server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIDGET_SOCKET_URL", "https://bot.example.org/")
    monkeypatch.setenv("QUICK_EXIT_URL", "https://weather.example.com/?q=a&b")
    _, headers, body = fetch(server, "/en/")
    assert 'data-socket-url="https://bot.example.org"' in body
    assert 'data-exit-url="https://weather.example.com/?q=a&amp;b"' in body
    assert "wss://bot.example.org" in headers["content-security-policy"]


def test_a_hostile_host_header_cannot_inject_markup(
    server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WIDGET_SOCKET_URL", raising=False)
    _, _, body = fetch(server, "/", headers={"Host": 'x"><script>alert(1)</script>'})
    assert "<script>alert" not in body
    assert 'data-socket-url="http://localhost:' in body


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nope", 404),
        ("GET", "/static/../scripts/run.sh", 404),
        ("GET", "/static/.hidden.js", 404),
        ("GET", "/static/notes.html", 404),
        ("POST", "/", 405),
        ("DELETE", "/", 405),
        ("GET", "/en", 301),
        ("GET", "/uk", 301),
        ("GET", "/ru/privacy", 301),
        ("GET", "/de/", 404),
        ("GET", "/uk/privacy/x", 404),
        ("GET", "/healthz", 200),
        ("HEAD", "/", 200),
    ],
)
def test_status_codes(server: int, method: str, path: str, status: int) -> None:
    code, headers, body = fetch(server, path, method)
    assert code == status
    if status >= 400:
        assert body.startswith(str(status)) and "Traceback" not in body


def test_the_built_widget_is_served_when_present(server: int) -> None:
    if not (widget_server.DIST / "iom-chat.js").exists():
        pytest.skip("widget not built (make widget)")
    status, headers, _ = fetch(server, "/static/iom-chat.js")
    assert status == 200
    assert headers["content-type"].startswith("text/javascript")


def test_offline_key_lines_are_verified_numbers(facts: dict[str, Any]) -> None:
    """The numbers the widget shows without the bot trace to the directory and facts."""
    directory = {
        e["id"]: e for e in load_yaml(ROOT / "knowledge" / "contacts.yml")["contacts"]
    }
    confirmed = fact_phone_status(facts)
    lines = json.loads(KEYLINES.read_text("utf-8"))["lines"]
    assert {line["number"] for line in lines} >= {"112", "+48226280120", "+48224902044"}
    for line in lines:
        phones = {p["number"]: p for p in directory[line["entry"]]["phones"]}
        phone = phones[line["number"]]
        assert phone["status"] == "verified" and phone["display"] == line["display"]
        assert confirmed.get(line["number"]), f"{line['number']} not confirmed in facts"
        assert set(line["label"]) == set(LANGUAGES)
        assert all(text.strip() for text in line["label"].values())
        # translations change words only: the same numbers, hours and days as English
        for lang in LANGUAGES:
            digits = re.findall(r"\d+", line["label"][lang])
            assert digits == re.findall(r"\d+", line["label"]["en"]), (line, lang)
