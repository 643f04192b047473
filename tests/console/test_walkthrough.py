"""A headless-Chromium walk-through of the console, as an operator would use it.

The console runs as a real server (uvicorn, `python -m iom.console.cli serve`) on a copy of
the tracker store recorded from real conversations. Playwright drives Debian's Chromium.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from iom.tools.browser import launch
from iom.tools.launch import free_port, wait_for
from tests.console.conftest import PASSWORD, ROOT

playwright_api = pytest.importorskip("playwright.sync_api")
SCREENSHOTS = ROOT / "docs" / "screenshots"


@pytest.fixture()
def server(db_url: str, contacts: Path, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = open(tmp_path / "console.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "iom.console.cli",
            "--url",
            db_url,
            "serve",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env={**os.environ, "CONTACTS_FILE": str(contacts)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/healthz", 30)
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture()
def page(tmp_path: Path) -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        yield tab
        browser.close()


def shot(page: Any, name: str) -> None:
    if os.environ.get("UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), full_page=True)


def test_operator_walk_through(server: str, page: Any, tmp_path: Path) -> None:
    page.goto(server + "/")
    assert "/login" in page.url
    page.fill("#username", "olga")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/conversations")
    shot(page, "list")

    # Find Polish trafficking conversations (safety flag + language).
    page.select_option("select[name=language]", "pl")
    page.check("input[name=safety]")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**safety=1**")
    rows = page.locator("table.list tbody tr")
    assert rows.count() >= 1
    assert "600 100 200" not in page.content()
    page.locator("a", has_text=time.strftime("%Y-")).first.click()
    page.wait_for_url("**/conversations/fixture-pl-trafficking")
    # redacted before storage by the bot (iom/core/redaction.py)
    assert "[PHONE]" in page.content() and "600 100 200" not in page.content()
    shot(page, "transcript")

    # Tag it and correct the intent of its first message.
    page.fill("input[name=tag]", "checked by walk-through")
    page.click("text=Add tag")
    assert page.locator(".tag", has_text="checked by walk-through").count() == 1
    first = page.locator("li.turn.user").first
    first.locator("select[name=intent]").select_option("ask_about_iom")
    first.locator("text=Save correction").click()
    page.wait_for_selector("text=corrected to")

    # Export the Polish corrections as Rasa NLU YAML.
    page.goto(server + "/corrections")
    with page.expect_download() as download:
        page.click("text=Polish (corrections-pl.yml)")
    path = tmp_path / "corrections-pl.yml"
    download.value.save_as(path)
    data = yaml.safe_load(path.read_text("utf-8"))
    assert any(block["intent"] == "ask_about_iom" for block in data["nlu"])

    # The handoff queue is there too.
    page.goto(server + "/handoffs")
    assert page.locator("table.list tbody tr").count() >= 1
    page.goto(server + "/dashboard")
    shot(page, "dashboard")
