"""NLU quality side by side: the project's pipeline vs Rasa 3.6's default pipeline.

    make bench-nlu-compare     # writes bench/results/nlu_compare.md (about 20 minutes)

Both pipelines (config.yml's, and bench/configs/rasa_default.yml: the pipeline Rasa
3.6 suggests, as `rasa init` writes it) are trained in this run on the same data:
a. the project's training data (data/nlu, both languages), tested on the project's
   held-out set v2 (tests/nlu_heldout/v2), per language;
b. public data nobody here wrote: the `home-assistant-intents` package's Polish and
   English sentence templates, expanded with `hassil` (device, area and floor names
   filled in), 60 sentences drawn per intent with a fixed seed, 40 to train and 20 to
   test, one model per language.
Reported: intent accuracy and macro-F1 (nlu_fallback counts as wrong), train time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from bench.nlu_heldout import evaluate, load_examples
from bench.report import head_commit, machine, write_report

ROOT = Path(__file__).resolve().parent.parent

RASA = str(ROOT / ".venv" / "bin" / "rasa")
WORK = ROOT / "var" / "bench" / "nlu_compare"
CONFIGS = {
    "project (config.yml)": ROOT / "config.yml",
    "Rasa 3.6 default": ROOT / "bench" / "configs" / "rasa_default.yml",
}
FILL = {
    "pl": {
        "name": ["lampa", "wentylator", "telewizor", "grzejnik", "roleta"],
        "area": ["kuchnia", "salon", "sypialnia", "łazienka"],
        "floor": ["parter", "piętro"],
    },
    "en": {
        "name": ["lamp", "fan", "tv", "heater", "blinds"],
        "area": ["kitchen", "living room", "bedroom", "bathroom"],
        "floor": ["ground floor", "first floor"],
    },
}


def home_assistant_split(
    language: str, per_intent: int = 60, train: int = 40
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(train, test) (text, intent) pairs from home-assistant-intents via hassil."""
    import home_assistant_intents
    from hassil.intents import Intents, TextSlotList
    from hassil.sample import sample_intents

    intents = Intents.from_dict(home_assistant_intents.get_intents(language))
    lists = {k: TextSlotList.from_strings(v) for k, v in FILL[language].items()}
    by_intent: dict[str, list[str]] = {}
    for intent, sentence in sample_intents(
        intents, slot_lists=lists, max_sentences_per_intent=2000, language=language
    ):
        by_intent.setdefault(intent, []).append(sentence)
    rng = random.Random(2002)
    train_pairs, test_pairs = [], []
    for intent in sorted(by_intent):
        sentences = sorted(set(by_intent[intent]))
        if len(sentences) < per_intent:
            continue
        chosen = rng.sample(sentences, per_intent)
        train_pairs += [(s, intent) for s in chosen[:train]]
        test_pairs += [(s, intent) for s in chosen[train:]]
    return train_pairs, test_pairs


def write_nlu(pairs: list[tuple[str, str]], path: Path) -> None:
    by_intent: dict[str, list[str]] = {}
    for text, intent in pairs:
        by_intent.setdefault(intent, []).append(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in by_intent.items():
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        # a literal block: each sentence verbatim on its own line
        lines += [f"    - {' '.join(t.split())}" for t in texts]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def train(config: Path, nlu: Path, out: Path, language: str | None = None) -> float:
    """Train an NLU-only model; returns seconds."""
    shutil.rmtree(out, ignore_errors=True)
    used = config
    if language:  # the same pipeline, with the data's language
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["language"] = language
        used = out.parent / f"{out.name}-config.yml"
        used.parent.mkdir(parents=True, exist_ok=True)
        used.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cache = WORK / "empty-cache"  # time a real training, not a cache restore
    shutil.rmtree(cache, ignore_errors=True)
    began = time.monotonic()
    subprocess.run(
        [
            RASA,
            "train",
            "nlu",
            "--config",
            str(used),
            "--nlu",
            str(nlu),
            "--out",
            str(out),
        ]
        + ["--fixed-model-name", "nlu"],
        cwd=ROOT,
        env={**os.environ, "RASA_CACHE_DIRECTORY": str(cache)},
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.monotonic() - began


def predict(model: Path, texts: list[str]) -> list[str]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()
    try:
        return [
            loop.run_until_complete(agent.parse_message(t))["intent"]["name"]
            for t in texts
        ]
    finally:
        loop.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default=str(ROOT / "bench" / "results" / "nlu_compare.md")
    )
    args = parser.parse_args()
    rows: list[tuple[str, str, str, int, float, float, float]] = []
    heldout = {
        lang: load_examples(ROOT / "tests" / "nlu_heldout" / "v2" / f"{lang}.yml")
        for lang in ("pl", "en")
    }
    ha = {lang: home_assistant_split(lang) for lang in ("pl", "en")}
    for lang, (train_pairs, _) in ha.items():
        write_nlu(train_pairs, WORK / f"ha-{lang}" / "nlu.yml")

    for name, config in CONFIGS.items():
        key = "project" if name.startswith("project") else "default"
        seconds = train(config, ROOT / "data", WORK / f"own-{key}")
        model = WORK / f"own-{key}" / "nlu.tar.gz"
        for lang, pairs in heldout.items():
            scores = evaluate(pairs, predict(model, [t for t, _ in pairs]))
            rows.append(
                (
                    "project data → held-out v2",
                    lang,
                    name,
                    scores["n"],
                    scores["accuracy"],
                    scores["macro_f1"],
                    seconds,
                )
            )
        for lang, (_, test_pairs) in ha.items():
            out = WORK / f"ha-{lang}-{key}"
            seconds = train(config, WORK / f"ha-{lang}" / "nlu.yml", out, language=lang)
            scores = evaluate(
                test_pairs, predict(out / "nlu.tar.gz", [t for t, _ in test_pairs])
            )
            rows.append(
                (
                    "home-assistant-intents (hassil)",
                    lang,
                    name,
                    scores["n"],
                    scores["accuracy"],
                    scores["macro_f1"],
                    seconds,
                )
            )

    commit = head_commit()
    import hassil
    import home_assistant_intents

    ha_version = getattr(home_assistant_intents, "__version__", "2026.10.27")
    lines = [
        "# NLU: the project's pipeline vs Rasa 3.6's default pipeline",
        "",
        f"Machine: {machine()}. Commit `{commit}`. `make bench-nlu-compare`"
        " (bench/nlu_compare.py). Both pipelines trained in this run on the same data;"
        " `nlu_fallback` counts as wrong. Public data: home-assistant-intents"
        f" {ha_version} expanded with hassil {getattr(hassil, '__version__', '3.12.1')},"
        f" {sum(len(v[0]) for v in ha.values())} training and"
        f" {sum(len(v[1]) for v in ha.values())} test sentences"
        f" ({', '.join(f'{lang}: {len(set(i for _, i in v[0]))} intents' for lang, v in ha.items())}).",
        "",
        "| data | language | pipeline | n | accuracy | macro-F1 | train time |",
        "|---|---|---|---|---|---|---|",
    ]
    for data, lang, name, n, accuracy, f1, seconds in rows:
        lines.append(
            f"| {data} | {lang} | {name} | {n} | {accuracy:.3f} | {f1:.3f} |"
            f" {seconds:.0f} s |"
        )
    lines += ["", "Project minus default, macro-F1:", ""]
    for data in dict.fromkeys(r[0] for r in rows):
        for lang in ("pl", "en"):
            f1 = {r[2]: r[5] for r in rows if r[0] == data and r[1] == lang}
            values = list(f1.values())
            if len(values) == 2:
                delta = values[0] - values[1]
                verdict = (
                    "equal at three decimals"
                    if abs(delta) < 0.0005
                    else "project better"
                    if delta > 0
                    else "default better"
                )
                lines.append(f"- {data}, {lang}: {delta:+.3f} ({verdict})")
    return write_report(lines, args.out)


if __name__ == "__main__":
    sys.exit(main())
