"""A live operator conversation in two real browsers: the person's widget and the console.

Everything is real and runs as `make run` runs it: Rasa (HTTP API on 127.0.0.1 with a
token), the action server, the widget page, the console (its own venv, its own
process), one SQLite tracker store. Debian's Chromium, two browser contexts. The
screenshots go to docs/screenshots/ (docs/console.md shows them).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from iom.core import db, takeover
from iom.tools.launch import LiveBot, free_port, wait_for
from tests.conftest import ROOT

pytest.importorskip("playwright.sync_api")

TOKEN = secrets.token_urlsafe(36)
PASSWORD = "a long console password for the test"  # pragma: allowlist secret
CONSOLE_PYTHON = ROOT / ".venv-console" / "bin" / "python"
BUNDLE = ROOT / "widget" / "dist" / "iom-chat.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text("utf-8"))


def polish(response: str) -> str:
    """A response's Polish text (first line: enough to find it on the page)."""
    for variation in DOMAIN["responses"][response]:
        if variation["condition"][0]["value"] == "pl":
            return str(variation["text"]).split(". ")[0]
    raise KeyError(response)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not BUNDLE.exists():
        pytest.fail(f"{BUNDLE} is missing: run `make widget` (make test does)")
    if not CONSOLE_PYTHON.exists():
        pytest.fail(f"{CONSOLE_PYTHON} is missing: run `make console-install`")
    tmp = tmp_path_factory.mktemp("live-chat")
    bot = LiveBot(tmp, api_token=TOKEN)
    widget = bot.start_widget()
    url = f"sqlite:///{bot.db}"
    env = {
        **os.environ,
        "RASA_API_URL": f"http://127.0.0.1:{bot.rasa_port}",
        "RASA_API_TOKEN": TOKEN,
        "CONSOLE_SYNC_SECONDS": "1",
    }
    console_cli = [str(CONSOLE_PYTHON), "-m", "iom.console.cli", "--url", url]
    subprocess.run(
        [*console_cli, "create-user", "olga", "--password-stdin"],
        input=PASSWORD,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = open(tmp / "console.log", "w")  # noqa: SIM115
    console = subprocess.Popen(
        [*console_cli, "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", 60)
        yield {
            "widget": f"http://127.0.0.1:{widget}",
            "console": f"http://127.0.0.1:{port}",
            "engine": db.migrated_engine(url),
        }
    finally:
        console.terminate()
        console.wait(10)
        bot.close()


def _wait(condition: Any, seconds: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_person_from_the_team_takes_over_and_hands_back(
    stack: dict[str, Any], browser: Any
) -> None:
    engine: sa.engine.Engine = stack["engine"]
    person_context = browser.new_context(viewport={"width": 420, "height": 760})
    operator_context = browser.new_context(viewport={"width": 1280, "height": 860})
    person, operator = person_context.new_page(), operator_context.new_page()
    errors: list[str] = []
    for page in (person, operator):
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        # the operator signs in and keeps the handoff queue open
        operator.goto(stack["console"] + "/login")
        operator.fill("#username", "olga")
        operator.fill("#password", PASSWORD)
        operator.click("button[type=submit]")
        operator.goto(stack["console"] + "/handoffs")
        _wait(
            lambda: takeover.operators_online(engine, time.time()) == 1,
            what="the operator's presence",
        )

        # the person asks for a human: an operator is online, so someone will join
        person.goto(stack["widget"])
        person.click("#iomc-launcher")
        person.wait_for_function("() => window.IOMChat && window.IOMChat.connected()")
        person.fill("#iomc-input", "Chcę porozmawiać z człowiekiem")
        person.keyboard.press("Enter")
        person.locator(
            ".iomc-bot", has_text=polish("utter_handoff_operator_online")
        ).wait_for()

        # the request appears in the console without a reload: badge, title, row
        operator.locator("#handoff-badge", has_text="1").wait_for()
        assert operator.title().startswith("(1) ")
        join = operator.locator("#handoff-rows form[action$='/join']").first
        join.locator("input[name=display_name]").fill("Anna")
        join.locator("button").click()
        operator.wait_for_url(re.compile(r"/live/"))
        operator.locator("#handoff-badge").wait_for(state="hidden")  # taken: none open
        person.locator(".iomc-bot", has_text=polish("utter_operator_joined")).wait_for()

        # the operator writes; the person sees it, marked as the team's
        operator.fill("#live-text", "Dzień dobry, tu Anna z IOM. W czym mogę pomóc?")
        operator.keyboard.press("Enter")
        written = person.locator(".iomc-operator", has_text="tu Anna z IOM")
        written.wait_for()
        assert written.locator(".iomc-who").inner_text() == "Anna · Zespół IOM"

        # the person writes; the operator sees it (masked), the bot stays silent
        bot_messages = person.locator(".iomc-bot").count()
        person.fill("#iomc-input", "Mam problem z kartą pobytu, mój numer 601 234 567")
        person.keyboard.press("Enter")
        seen = operator.locator("#live-log li.live-user", has_text="Mam problem")
        seen.wait_for()
        assert "601 234 567" not in seen.inner_text() and "[PHONE]" in seen.inner_text()
        time.sleep(1.5)
        assert person.locator(".iomc-bot").count() == bot_messages

        # a danger message gets the safety answer at once; the operator sees it flagged
        safety = person.locator(".iomc-bot:not(.iomc-operator)", has_text="112")
        before = safety.count()
        person.fill("#iomc-input", "Ktoś mi grozi, boję się o swoje życie")
        person.keyboard.press("Enter")
        safety.nth(before).wait_for()
        assert "112" in safety.nth(before).inner_text()
        operator.locator("#live-log li.live-safety").wait_for()
        operator.locator("#live-log li.live-bot", has_text="112").last.wait_for()

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        person.screenshot(path=str(SCREENSHOTS / "live-widget.png"))
        operator.screenshot(path=str(SCREENSHOTS / "live-console.png"))

        # hand back: the person is told, and the bot answers the next message
        operator.click("text=Hand back to the assistant")
        operator.wait_for_url(re.compile(r"/conversations/"))
        person.locator(".iomc-bot", has_text=polish("utter_operator_left")).wait_for()
        before = person.locator(".iomc-bot").count()
        person.fill("#iomc-input", "Gdzie mogę się nauczyć polskiego?")
        person.keyboard.press("Enter")
        _wait(
            lambda: person.locator(".iomc-bot").count() > before,
            what="the bot's answer after the hand-back",
        )
        assert takeover.held(engine) == []
    finally:
        person_context.close()
        operator_context.close()
    assert not errors, errors
