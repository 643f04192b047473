"""Debian's Chromium for the browser tests (widget and console).

Playwright's own browser download cannot work here, so Playwright drives
/usr/bin/chromium with the flags that keep it off the closed network.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright: Any) -> Any:
    """A headless Chromium; fails in CI and skips elsewhere when it is not installed."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium missing: apt-get install chromium chromium-driver")
        pytest.skip("Chromium is not installed")
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
