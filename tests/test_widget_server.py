"""The widget page server (scripts/widget_server.py) and the widget's static data."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from scripts import widget_server
from tests.conftest import ROOT, fact_phone_status, load_yaml

KEYLINES = ROOT / "widget" / "src" / "keylines.json"


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


@pytest.mark.parametrize(
    ("path", "lang"), [("/", "pl"), ("/en/", "en"), ("/privacy/", "pl")]
)
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
        ("GET", "/static/../scripts/widget_server.py", 404),
        ("GET", "/static/.hidden.js", 404),
        ("GET", "/static/notes.html", 404),
        ("POST", "/", 405),
        ("DELETE", "/", 405),
        ("GET", "/en", 301),
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
        assert line["label"]["pl"] and line["label"]["en"]
