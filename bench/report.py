"""What every benchmark's report shares: the commit, the machine, writing it out."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from iom.core.settings import ROOT


def write_report(lines: list[str], out: str | Path) -> int:
    """Write a benchmark's Markdown lines to ``out``, print them; exit status 0."""
    text = "\n".join(lines) + "\n"
    Path(out).write_text(text, encoding="utf-8")
    print(text)
    return 0


def head_commit() -> str:
    """The short hash of the checked-out commit (empty outside git)."""
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip()


def machine() -> str:
    """One line describing the machine the numbers come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"
