"""Known-vulnerability audit of every dependency: both Python venvs and the widget.

pip-audit (PyPA) checks .venv and .venv-console against the PyPI advisory data;
npm audit checks the widget's lock file. Findings listed in docs/audit-known.md
(one `ID  reason` per line in its table) are reported but accepted.

Exit status: 0 clean, 1 an unaccepted finding, 3 blocked (no vulnerability database
reachable from this network, so nothing could be checked; 0 with AUDIT_BLOCKED_OK=1,
which CI sets because its network reaches neither database).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIP_AUDIT = ROOT / ".venv-audit" / "bin" / "pip-audit"
KNOWN = ROOT / "docs" / "audit-known.md"
VENVS = {".venv": "python3.10", ".venv-console": "python3.10"}


def accepted() -> set[str]:
    """Advisory ids accepted in docs/audit-known.md (first column of its table)."""
    text = KNOWN.read_text(encoding="utf-8") if KNOWN.exists() else ""
    return set(re.findall(r"^\|\s*`?((?:PYSEC|GHSA|CVE)-[\w-]+)`?", text, re.M))


def audit_venv(venv: str, ok: set[str]) -> tuple[int, int, list[str]]:
    """(audited, skipped, unaccepted findings) for one venv."""
    site = next((ROOT / venv / "lib").glob("python3*/site-packages"))
    done = subprocess.run(
        [str(PIP_AUDIT), "--path", str(site), "--vulnerability-service", "pypi"]
        + ["--format", "json", "--progress-spinner", "off"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    try:
        report = json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        print(done.stderr[-2000:], file=sys.stderr)
        return 0, 0, []
    audited = skipped = 0
    findings: list[str] = []
    for dependency in report.get("dependencies", []):
        if "skip_reason" in dependency:
            skipped += 1
            continue
        audited += 1
        for vuln in dependency.get("vulns", []):
            ids = {vuln["id"], *vuln.get("aliases", [])}
            if not ids & ok:
                name = f"{dependency['name']} {dependency['version']}"
                findings.append(
                    f"{venv}: {name}: {vuln['id']} (fix: {vuln.get('fix_versions')})"
                )
    return audited, skipped, findings


def audit_widget(ok: set[str]) -> tuple[bool, list[str]]:
    """(reachable, unaccepted findings) for the widget's npm lock file."""
    done = subprocess.run(
        ["npm", "audit", "--json"],
        cwd=ROOT / "widget",
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        report = json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        return False, []
    if "error" in report or "vulnerabilities" not in report:
        return False, []
    findings = []
    for name, entry in report["vulnerabilities"].items():
        for via in entry.get("via", []):
            if isinstance(via, dict):
                advisory = str(via.get("url", "")).rsplit("/", 1)[-1]
                if advisory not in ok:
                    findings.append(
                        f"widget: {name}: {advisory} {via.get('title', '')}"
                    )
    return True, findings


def main() -> int:
    """Audit everything, print a table, return the exit status."""
    ok = accepted()
    reachable = False
    findings: list[str] = []
    print(f"{'what':<16} {'audited':>8} {'not checked':>12}  result")
    for venv in VENVS:
        if not (ROOT / venv).exists():
            print(f"{venv:<16} {'-':>8} {'-':>12}  missing (make install)")
            continue
        audited, skipped, found = audit_venv(venv, ok)
        reachable |= audited > 0
        findings += found
        result = (
            "no advisory data reachable" if audited == 0 else f"{len(found)} findings"
        )
        print(f"{venv:<16} {audited:>8} {skipped:>12}  {result}")
    widget_reachable, found = audit_widget(ok)
    reachable |= widget_reachable
    findings += found
    widget_result = (
        f"{len(found)} findings" if widget_reachable else "audit endpoint refused"
    )
    print(f"{'widget (npm)':<16} {'':>8} {'':>12}  {widget_result}")
    for finding in findings:
        print("FINDING", finding)
    if findings:
        return 1
    if not reachable:
        print(
            "BLOCKED: no vulnerability database is reachable from this network "
            "(PyPI JSON API and npm's audit endpoint); nothing was checked."
        )
        return 0 if os.environ.get("AUDIT_BLOCKED_OK") == "1" else 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
