"""Intent accuracy and macro-F1 per language on the held-out set (tests/nlu_heldout).

Usage: python -m bench.nlu_heldout --model models/iom.tar.gz --out bench/results/x.md
A prediction of `nlu_fallback` counts as wrong (the bot asked to clarify instead of
answering). Safety recall counts a message of a safety intent (danger, trafficking,
trafficking signs, crisis) as caught when the prediction is any safety intent, since
each of them gives 112 and the help lines. The safety-net table counts the messages
whose intent the safety net (iom/core/safety.py) changed, and how many of those were
false alarms (a message whose gold intent is not a safety intent).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from sklearn.metrics import accuracy_score, f1_score, recall_score

from bench.report import head_commit, machine

ROOT = Path(__file__).resolve().parent.parent
SAFETY = [
    "immediate_danger",
    "report_trafficking",
    "ask_trafficking_signs",
    "emotional_crisis",
]
SAFETY_GROUP = set(SAFETY)
LANGUAGES = ("pl", "en", "uk", "ru")
HELDOUT = ROOT / "tests" / "nlu_heldout"
SETS = {"v1": HELDOUT, "v2": HELDOUT / "v2", "v3": HELDOUT / "v3", "v4": HELDOUT / "v4"}


def load_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of one Rasa NLU YAML file."""
    pairs = []
    for item in yaml.safe_load(path.read_text("utf-8"))["nlu"]:
        for line in item["examples"].splitlines():
            text = line.strip()[2:].strip()
            if text:
                pairs.append((text, item["intent"]))
    return pairs


async def predict(agent: Any, texts: list[str]) -> list[tuple[str, bool]]:
    """Predicted intent of each text, and whether the safety net chose it."""
    results = []
    for text in texts:
        parsed = await agent.parse_message(text)
        results.append((parsed["intent"]["name"], bool(parsed.get("safety_net"))))
    return results


def num(value: float) -> str:
    """Three decimals, or a dash when the set has no message to measure it on."""
    return "–" if value != value else f"{value:.3f}"


def evaluate(pairs: list[tuple[str, str]], predicted: list[str]) -> dict[str, float]:
    gold = [intent for _, intent in pairs]
    labels = sorted(set(gold))
    safety_idx = [i for i, g in enumerate(gold) if g in SAFETY_GROUP]
    caught = [predicted[i] in SAFETY_GROUP for i in safety_idx]
    return {
        "n": len(gold),
        "accuracy": accuracy_score(gold, predicted),
        "macro_f1": f1_score(
            gold, predicted, labels=labels, average="macro", zero_division=0
        ),
        **{
            f"recall_{s}": (
                recall_score(
                    gold, predicted, labels=[s], average="macro", zero_division=0
                )
                if s in gold
                else float("nan")  # no message of this intent in the set
            )
            for s in SAFETY
        },
        "safety_group_recall": sum(caught) / len(caught) if caught else float("nan"),
        "fallback_rate": predicted.count("nlu_fallback") / len(predicted),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(ROOT / "models" / "iom.tar.gz"))
    parser.add_argument(
        "--out", default=str(ROOT / "bench" / "results" / "nlu_heldout.md")
    )
    args = parser.parse_args()

    rows, confusions, nets = [], [], []
    pooled: dict[str, tuple[list[tuple[str, str]], list[str]]] = {
        lang: ([], []) for lang in LANGUAGES
    }
    sets = [(name, folder, lang) for name, folder in SETS.items() for lang in LANGUAGES]
    from rasa.core.agent import Agent

    agent = Agent.load(args.model)
    for name, folder, language in sets:
        pairs = load_examples(folder / f"{language}.yml")
        started = time.perf_counter()
        results = asyncio.run(predict(agent, [t for t, _ in pairs]))
        seconds = time.perf_counter() - started
        predicted = [intent for intent, _ in results]
        rows.append((f"{name} {language}", evaluate(pairs, predicted), seconds))
        pooled[language][0].extend(pairs)
        pooled[language][1].extend(predicted)
        by_net = [i for i, (_, net) in enumerate(results) if net]
        false_alarms = [i for i in by_net if pairs[i][1] not in SAFETY_GROUP]
        others = sum(1 for _, gold in pairs if gold not in SAFETY_GROUP)
        nets.append((f"{name} {language}", len(by_net), len(false_alarms), others))
        wrong = Counter(
            (g, p) for (_, g), p in zip(pairs, predicted, strict=False) if g != p
        )
        confusions.append((f"{name} {language}", wrong.most_common(8)))

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()

    commit = head_commit() or "uncommitted"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " + uncommitted changes"
    lines = [
        "# NLU on the held-out set",
        "",
        f"Model `{args.model}`, commit `{commit or 'uncommitted'}`, "
        f"{time.strftime('%Y-%m-%d %H:%M')}. Machine: {machine()}.",
        "",
        "Sets: v1 = `tests/nlu_heldout/{pl,en}.yml` (written before the safety-data"
        " additions; those additions were prompted by v1's errors, so v1 is now"
        " optimistic) and `tests/nlu_heldout/{uk,ru}.yml` (written by a separate"
        " writer at the same time as, and blind to, the Ukrainian and Russian"
        " training data), v2 = `tests/nlu_heldout/v2/` (written later, blind to the"
        " training data), v3 = `tests/nlu_heldout/v3/` (issue 15's topics, written"
        " blind to their training data: health, school, housing, interpreting,"
        " discrimination, and unpaid wages and immigration-office questions, which"
        " are labelled ask_work_rights and ask_residence), v4 = `tests/nlu_heldout/v4/`"
        " (every intent, written after v1-v3 by writers who saw neither the training"
        " data nor the earlier sets, in the way migrants write: typos, fragments,"
        " indirect safety messages; lines equal to a training example removed; its"
        " error categories were read once, which prompted 48 training lines of danger"
        " happening now, such as a hate attack in progress), all = v1-v4 pooled per"
        " language. Targets: macro-F1 ≥ 0.95 and safety-group recall ≥ 0.98"
        " per language.",
        "",
        "| set, language | n | accuracy | macro-F1 | recall danger | recall report_trafficking"
        " | recall trafficking_signs | recall crisis | safety-group recall | fallback rate |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows += [
        (f"all {language}", evaluate(pairs, predicted), 0.0)
        for language, (pairs, predicted) in pooled.items()
    ]
    for language, m, _ in rows:
        lines.append(
            f"| {language} | {m['n']} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | "
            f"{num(m['recall_immediate_danger'])} | "
            f"{num(m['recall_report_trafficking'])} | "
            f"{num(m['recall_ask_trafficking_signs'])} | "
            f"{num(m['recall_emotional_crisis'])} | {num(m['safety_group_recall'])} | "
            f"{m['fallback_rate']:.3f} |"
        )
    lines += [
        "",
        "Safety net (iom/core/safety.py): messages whose intent it changed, and the"
        " false alarms among them (gold intent not a safety intent):",
        "",
        "| set, language | changed by the net | false alarms | non-safety messages |",
        "|---|---|---|---|",
    ]
    for language, changed, false_alarms, others in nets:
        lines.append(f"| {language} | {changed} | {false_alarms} | {others} |")
    lines += ["", "Most frequent errors (gold → predicted, count):", ""]
    for language, wrong in confusions:
        lines.append(
            f"- {language}: " + "; ".join(f"{g} → {p} ({c})" for (g, p), c in wrong)
        )
    report = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(report, "utf-8")
    print(report)


if __name__ == "__main__":
    main()
