"""Shared fixtures: the real domain, data files and the sourced contact facts."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
# tests/console runs in the console's own venv (`make console-test`), not Rasa's.
collect_ignore = ["console"] if importlib.util.find_spec("rasa") else []
SHARED_FACTS = ROOT.parent / "shared" / "facts" / "contacts.sourced.yml"
SOURCES = ROOT / "knowledge" / "sources.yml"
MODEL = ROOT / "models" / "iom.tar.gz"


def load_yaml(path: Path) -> Any:
    """Parse one YAML file (anchors resolved)."""
    return yaml.safe_load(path.read_text("utf-8"))


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """domain.yml as a dict."""
    return load_yaml(ROOT / "domain.yml")


def fact_phone_status(facts: dict[str, Any]) -> dict[str, bool]:
    """Every number in the facts -> confirmed? (confirmed wins when listed twice).

    A number is confirmed when neither it nor its entry is marked `unconfirmed`.
    """
    status: dict[str, bool] = {}
    for entry in facts["entries"]:
        for phone in entry.get("phones") or []:
            ok = not (phone.get("unconfirmed") or entry.get("unconfirmed"))
            status[phone["number"]] = status.get(phone["number"], False) or ok
    return status


@pytest.fixture(scope="session")
def facts() -> dict[str, Any]:
    """The sourced contact facts the product relies on (knowledge/sources.yml).

    The file is the repository's own copy of ../shared/facts/contacts.sourced.yml,
    so that a clean clone stands alone; tests/test_contacts_directory.py checks that
    the copy equals the shared file whenever the shared file is present.
    """
    return load_yaml(SOURCES)


@pytest.fixture(scope="session")
def live_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real Rasa server + action server for every end-to-end test module."""
    from iom.tools.launch import LiveBot  # imports this module: keep the import here

    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does)")
    live = LiveBot(tmp_path_factory.mktemp("live"))
    yield live
    live.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (iom.tools.browser), one per module."""
    from playwright import sync_api as playwright_api

    from iom.tools.browser import launch

    with playwright_api.sync_playwright() as playwright:
        instance = launch(playwright)
        yield instance
        instance.close()
