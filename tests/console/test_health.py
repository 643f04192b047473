"""The dashboard shows whether the bot (Rasa) and the action server are up."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from iom.core.service_health import bot_services, reachable

Client = tuple[TestClient, str]


class Answer(BaseHTTPRequestHandler):
    """200 on / (Rasa) and /health (action server), 503 on /broken."""

    def do_GET(self) -> None:  # noqa: N802
        code = 503 if self.path == "/broken" else 200
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def health_section(html: str) -> str:
    match = re.search(
        r'<section class="panel"[^>]*id="health">(.*?)</section>', html, re.S
    )
    assert match, "no service health on the dashboard"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


def test_dashboard_shows_both_services_up(
    operator: Client, server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = operator
    for name in ("RASA_PORT", "ACTION_PORT"):
        monkeypatch.setenv(name, str(server))
    monkeypatch.setenv(
        "RASA_HOST", "0.0.0.0"
    )  # a wildcard listen address: checked locally
    monkeypatch.setenv("ACTION_HOST", "127.0.0.1")
    response = client.get("/dashboard")
    assert response.status_code == 200
    text = health_section(response.text)
    assert "Bot (Rasa): up" in text and "Action server: up" in text
    assert "down" not in text


def test_dashboard_shows_a_service_that_is_down(
    operator: Client, server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = operator
    monkeypatch.setenv("RASA_HOST", "127.0.0.1")
    monkeypatch.setenv("RASA_PORT", str(server))
    monkeypatch.setenv("ACTION_HOST", "127.0.0.1")
    monkeypatch.setenv("ACTION_PORT", str(closed_port()))
    text = health_section(client.get("/dashboard").text)
    assert "Bot (Rasa): up" in text
    assert "Action server: down" in text and "make status" in text


def test_a_5xx_counts_as_down_and_a_closed_port_quickly(server: int) -> None:
    assert reachable(f"http://127.0.0.1:{server}/health")
    assert not reachable(f"http://127.0.0.1:{server}/broken")
    assert not reachable(f"http://127.0.0.1:{closed_port()}/", timeout=1)
    assert reachable(f"tcp://127.0.0.1:{server}")
    assert not reachable(f"tcp://127.0.0.1:{closed_port()}")
    services = bot_services({"RASA_PORT": str(server), "ACTION_PORT": str(server)})
    assert [s["up"] for s in services] == [True, True]
