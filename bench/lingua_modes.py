"""Language detection: lingua's high-accuracy models (as shipped) vs its low-accuracy mode.

    make bench-lingua        # writes bench/results/lingua_modes.md (about 1 minute)

A memory lever for issue 6: lingua's high-accuracy models for the four languages the
detector knows take about 100 MiB of the Rasa server. Each mode runs in a fresh
process: the resident memory its detector adds, and the decisions of
`iom.rasa.nlu.language.detect_language` (lexicons first, lingua for the rest) on every
Polish and English message of the training data and the held-out sets (the
`other_language` examples left out), against the folder's language.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from bench.nlu_heldout import load_examples
from bench.report import head_commit, machine, write_report

ROOT = Path(__file__).resolve().parent.parent

MODES = {"high": "high accuracy (shipped)", "low": "low accuracy mode"}


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0  # pragma: no cover


def measure(mode: str) -> dict[str, object]:
    """One mode, in this process: memory, load time and decisions per language."""
    from lingua import Language, LanguageDetectorBuilder

    import iom.rasa.nlu.language as language

    before, began = rss_mib(), time.monotonic()
    builder = LanguageDetectorBuilder.from_languages(
        Language.POLISH, Language.ENGLISH, Language.UKRAINIAN, Language.RUSSIAN
    )
    if mode == "low":
        builder = builder.with_low_accuracy_mode()
    detector = builder.build()
    language._lingua.cache_clear()
    language._lingua = lambda: detector  # type: ignore[assignment]
    language.warm_up()
    result: dict[str, object] = {
        "mib": rss_mib() - before,
        "seconds": time.monotonic() - began,
    }
    for code in ("pl", "en"):
        files = [
            *sorted((ROOT / "data" / "nlu" / code).glob("*.yml")),
            ROOT / "tests" / "nlu_heldout" / f"{code}.yml",
            ROOT / "tests" / "nlu_heldout" / "v2" / f"{code}.yml",
        ]
        texts = [
            text
            for path in files
            for text, intent in load_examples(path)
            if intent != "other_language"
        ]
        counts = {"n": len(texts), "right": 0, "wrong": 0, "undecided": 0, "lingua": 0}
        for text in texts:
            found = language.detect_language(text)
            if found.reason.startswith(("lingua", "ambiguous")):
                counts["lingua"] += 1
            if found.language == code:
                counts["right"] += 1
            elif found.language is None:
                counts["undecided"] += 1
            else:
                counts["wrong"] += 1
        result[code] = counts
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=list(MODES), help="measure one mode (JSON)")
    parser.add_argument(
        "--out", default=str(ROOT / "bench" / "results" / "lingua_modes.md")
    )
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(measure(args.mode)))
        return 0
    results = {}
    for mode in MODES:
        done = subprocess.run(
            [sys.executable, "-m", "bench.lingua_modes", "--mode", mode],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    lines = [
        "# Language detection: lingua high accuracy vs low accuracy mode",
        "",
        f"Machine: {machine()}. Commit `{head_commit()}`. `make bench-lingua`"
        " (bench/lingua_modes.py): each mode in a fresh process; messages are the"
        " training data and both held-out sets of each language (`other_language`"
        " examples left out). Right / wrong / undecided: `detect_language`'s answer"
        " against the data's language (undecided keeps the conversation's language);"
        " via lingua: messages the lexicons could not decide.",
        "",
        "| mode | memory added | load | language | n | right | wrong | undecided"
        " | via lingua |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for mode, name in MODES.items():
        result = results[mode]
        for code in ("pl", "en"):
            c = result[code]
            lines.append(
                f"| {name} | {result['mib']:.0f} MiB | {result['seconds']:.2f} s |"
                f" {code} | {c['n']:,} | {c['right']:,} | {c['wrong']} |"
                f" {c['undecided']} | {c['lingua']} |"
            )
    return write_report(lines, args.out)


if __name__ == "__main__":
    sys.exit(main())
