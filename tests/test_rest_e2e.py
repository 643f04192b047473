"""End to end over HTTP: real Rasa server + real action server, REST channel.

Also checks that safety answers do not depend on the action server: after it is
stopped, danger and trafficking messages still get 112 / KCIK / La Strada from static
domain responses, and the conversation continues.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import MODEL, ROOT

RASA = str(ROOT / ".venv" / "bin" / "rasa")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(1)
    raise TimeoutError(f"{url} did not come up in {seconds} s")


class LiveBot:
    """A Rasa server and an action server on free ports, with their own SQLite file."""

    def __init__(self, tmp: Path) -> None:
        self.rasa_port, self.action_port = free_port(), free_port()
        self.db = tmp / "tracker.db"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "ACTION_HOST": "127.0.0.1",
            "ACTION_PORT": str(self.action_port),
            "TRACKER_URL": f"sqlite:///{self.db}",
            "RASA_TELEMETRY_ENABLED": "false",
        }
        logs = tmp / "logs"
        logs.mkdir()

        def start(name: str, *args: str) -> subprocess.Popen:
            log = open(
                logs / f"{name}.log", "w"
            )  # noqa: SIM115 (lives with the process)
            return subprocess.Popen(
                [RASA, "run", *args],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        self.actions = start(
            "actions",
            "actions",
            "--port",
            str(self.action_port),
            "--actions",
            "actions",
        )
        self.rasa = start(
            "rasa",
            "--model",
            str(MODEL),
            "--port",
            str(self.rasa_port),
            "--interface",
            "127.0.0.1",
            "--endpoints",
            "endpoints.yml",
            "--credentials",
            "credentials.yml",
        )
        wait_for(f"http://127.0.0.1:{self.action_port}/health")
        wait_for(f"http://127.0.0.1:{self.rasa_port}/")

    def say(self, sender: str, text: str) -> list[str]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": text}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return [m.get("text", "") for m in json.load(response)]

    def stop_actions(self) -> None:
        self.actions.terminate()
        self.actions.wait(30)

    def close(self) -> None:
        for process in (self.rasa, self.actions):
            if process.poll() is None:
                process.terminate()
                process.wait(30)


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBot]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does)")
    live = LiveBot(tmp_path_factory.mktemp("live"))
    yield live
    live.close()


def sender() -> str:
    return uuid.uuid4().hex


def test_polish_lookup_over_rest(bot: LiveBot) -> None:
    replies = bot.say(sender(), "numer do biura IOM")
    text = "\n".join(replies)
    assert "Infolinia Migrant Info (IOM)" in text
    assert "[+48 22 490 20 44](tel:+48224902044)" in text


def test_english_lookup_over_rest(bot: LiveBot) -> None:
    user = sender()
    bot.say(user, "hello")
    text = "\n".join(bot.say(user, "what is the phone number of IOM?"))
    assert "Migrant Info line (IOM)" in text
    assert "iomwarsaw@iom.int" in text


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("gdzie w Krakowie pomogą cudzoziemcom", "[+48 887 201 598](tel:+48887201598)"),
        ("where can I get help in Wroclaw", "WroMigrant information point (Wrocław)"),
        ("is the trafficking hotline open now?", "+48 22 628 01 20"),
    ],
)
def test_issue_examples_get_sourced_answers(
    bot: LiveBot, message: str, expected: str
) -> None:
    assert expected in "\n".join(bot.say(sender(), message))


def test_handoff_request_is_recorded_in_the_tracker_database(bot: LiveBot) -> None:
    user = sender()
    replies = bot.say(user, "chcę rozmawiać z człowiekiem")
    assert any("Migrant Info" in r for r in replies)
    with sa.create_engine(f"sqlite:///{bot.db}").connect() as connection:
        rows = connection.execute(
            sa.text("select status from handoff_requests where conversation_id = :c"),
            {"c": user},
        ).all()
    assert rows == [("open",)]


def test_safety_answers_work_with_the_action_server_stopped(bot: LiveBot) -> None:
    bot.stop_actions()
    user = sender()
    danger = "\n".join(bot.say(user, "pomocy zamknęli mnie w pokoju i grożą mi"))
    assert "112" in danger.splitlines()[0]
    trafficking = "\n".join(bot.say(user, "my boss took my passport and I cant leave"))
    assert "+48 22 628 01 20" in trafficking and "+48 605 687 750" in trafficking
    bot.say(user, "numer do biura IOM")  # needs the action server: no answer, no crash
    assert bot.say(user, "dziękuję") == [
        "Nie ma za co. Czy mogę pomóc w czymś jeszcze?"
    ]
