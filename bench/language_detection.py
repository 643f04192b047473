"""Language detection on the labelled data: how often each language is told right.

Usage: python -m bench.language_detection --out bench/results/language_detection.md
Every training and held-out example of data/nlu/<lang>/ and tests/nlu_heldout/ is
detected by iom.core.detection (no model needed); `switch_language` examples are left
out (they name another language on purpose). "undecided" means the conversation keeps
its language (or, with nothing known yet, the assistant asks).
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from pathlib import Path

from bench.report import head_commit, machine, write_report
from iom.core.detection import detect_language

ROOT = Path(__file__).resolve().parent.parent
GROUPS = ("pl", "en", "uk", "ru", "other")
ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def examples(language: str) -> list[str]:
    """Texts of every labelled example in ``language`` (entity markup removed)."""
    import yaml

    files = sorted((ROOT / "data" / "nlu" / language).glob("*.yml"))
    files += sorted((ROOT / "tests" / "nlu_heldout").glob(f"**/{language}.yml"))
    texts = []
    for path in files:
        for item in yaml.safe_load(path.read_text("utf-8"))["nlu"]:
            if item.get("intent") in (None, "switch_language"):
                continue
            for line in item["examples"].splitlines():
                if line.strip():
                    texts.append(ENTITY.sub(r"\1", line.strip()[2:]))
    return texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="bench/results/language_detection.md")
    args = parser.parse_args()
    lines = [
        "# Language detection on the labelled data",
        "",
        f"Commit `{head_commit()}`, {time.strftime('%Y-%m-%d %H:%M')}. "
        f"Machine: {machine()}.",
        "",
        "| data | n | " + " | ".join(GROUPS) + " | undecided | right or undecided |",
        "|---|---|" + "---|" * (len(GROUPS) + 2),
    ]
    started = time.perf_counter()
    total = 0
    for language in GROUPS:
        texts = examples(language)
        total += len(texts)
        found = Counter(detect_language(t).language for t in texts)
        share = {k: v / len(texts) for k, v in found.items()}
        right = share.get(language, 0.0) + share.get(None, 0.0)
        lines.append(
            f"| {language} | {len(texts)} | "
            + " | ".join(f"{share.get(g, 0.0):.3f}" for g in GROUPS)
            + f" | {share.get(None, 0.0):.3f} | {right:.3f} |"
        )
    seconds = time.perf_counter() - started
    lines += ["", f"{total} messages in {seconds:.1f} s (lingua models loaded once)."]
    return write_report(lines, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
