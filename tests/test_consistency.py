"""Consistency of domain, data, facts and docs (no trained model needed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from iom.core.language import SUPPORTED
from tests.conftest import ROOT, fact_phone_status, load_yaml

LANGUAGES = SUPPORTED  # pl, en, uk, ru
NOT_PER_LANGUAGE = {"other_language"}  # trained from data/nlu/other/
# Responses that are one text in all four languages (the reader's language is
# not known when they are sent).
MULTILINGUAL = {"utter_other_language", "utter_ask_language"}
# v1 and v2 held-out sets for every language (v2 written later, blind to the data).
HELDOUT_SETS = [
    (lang, folder) for folder in ("", "v2", "v3", "v4") for lang in LANGUAGES
]
MIN_TRAINING_EXAMPLES = 25


def _intents_in(folder: Path) -> set[str]:
    intents: set[str] = set()
    for path in folder.glob("*.yml"):
        for item in load_yaml(path).get("nlu", []):
            if "intent" in item:
                intents.add(item["intent"])
    return intents


def _variation_language(variation: dict[str, Any]) -> str | None:
    for condition in variation.get("condition") or []:
        if condition.get("name") == "language":
            return condition.get("value")
    return None


def test_every_response_has_one_variation_per_language(domain: dict) -> None:
    for name, variations in domain["responses"].items():
        languages = sorted(_variation_language(v) or "none" for v in variations)
        if name in MULTILINGUAL:
            assert languages == ["none"], f"{name}: one text for all, not {languages}"
            continue
        assert languages == sorted(LANGUAGES), f"{name}: variations {languages}"


def test_placeholders_and_numbers_match_across_languages(domain: dict) -> None:
    """A translation keeps every {slot} and every number (phones, hours, URLs)."""
    for name, variations in domain["responses"].items():
        if name in MULTILINGUAL:
            continue
        by_language = {_variation_language(v): v["text"] for v in variations}
        for language, text in by_language.items():
            for what in (r"\{\w+\}", r"https?://\S+", r"\+?\d[\d ]{5,}\d"):
                expected = sorted(re.findall(what, by_language["en"]))
                found = sorted(re.findall(what, text))
                assert found == expected, f"{name} [{language}]: {found} != {expected}"


def test_every_response_is_multilingual_or_polite_in_polish(domain: dict) -> None:
    """Polish register (docs/languages.md): no "sam/sama" slashes."""
    for name, variations in domain["responses"].items():
        for variation in variations:
            assert not re.search(
                r"\w/\w+a\b", variation["text"].replace("https://", "")
            ), name


def test_buttons_match_across_languages(domain: dict) -> None:
    for name, variations in domain["responses"].items():
        payloads = {
            _variation_language(v): [b["payload"] for b in v.get("buttons", [])]
            for v in variations
        }
        for language in LANGUAGES:
            assert payloads.get(language, payloads.get(None)) == payloads.get(
                "en", payloads.get(None)
            ), (name, language)
        for variation in variations:
            for button in variation.get("buttons", []):
                intent = button["payload"].lstrip("/").split("{")[0]
                assert intent in domain["intents"], f"{name}: button to {intent}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_intent_has_training_data_in_every_language(
    domain: dict, language: str
) -> None:
    expected = set(domain["intents"]) - NOT_PER_LANGUAGE
    folder = ROOT / "data" / "nlu" / language
    assert _intents_in(folder) == expected
    counts: dict[str, int] = {}
    for path in folder.glob("*.yml"):
        for item in load_yaml(path).get("nlu", []):
            if "intent" in item:
                lines = item["examples"].splitlines()
                counts[item["intent"]] = counts.get(item["intent"], 0) + len(lines)
    assert min(counts.values()) >= MIN_TRAINING_EXAMPLES, counts


def test_other_language_intent_has_its_own_data() -> None:
    assert _intents_in(ROOT / "data" / "nlu" / "other") == NOT_PER_LANGUAGE


def heldout_counts(language: str) -> dict[str, int]:
    """Held-out messages per intent in one language, over the v1-v4 sets."""
    counts: dict[str, int] = {}
    for _, folder in {(lang, f) for lang, f in HELDOUT_SETS if lang == language}:
        path = ROOT / "tests" / "nlu_heldout" / folder / f"{language}.yml"
        for item in load_yaml(path)["nlu"]:
            lines = len(item["examples"].splitlines())
            counts[item["intent"]] = counts.get(item["intent"], 0) + lines
    return counts


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_intent_has_ten_heldout_messages_per_language(
    domain: dict, language: str
) -> None:
    """v1 covers the first intents; v3 those added with issue 15; v2 adds to both."""
    counts = heldout_counts(language)
    missing = {
        i: counts.get(i, 0)
        for i in set(domain["intents"]) - NOT_PER_LANGUAGE
        if counts.get(i, 0) < 10
    }
    assert not missing, missing


@pytest.mark.parametrize(("language", "heldout_set"), HELDOUT_SETS)
def test_heldout_set_is_not_in_training_data(
    domain: dict, language: str, heldout_set: str
) -> None:
    path = ROOT / "tests" / "nlu_heldout" / heldout_set / f"{language}.yml"
    heldout = load_yaml(path)["nlu"]
    assert set(item["intent"] for item in heldout) <= set(domain["intents"])
    training = set()
    for path in (ROOT / "data" / "nlu").rglob("*.yml"):
        for item in load_yaml(path).get("nlu", []):
            for line in (item.get("examples") or "").splitlines():
                text = re.sub(r"\[([^\]]*)\][({][^)}]*[)}]", r"\1", line.strip("- "))
                training.add(text.strip().lower())
    for item in heldout:
        for line in item["examples"].splitlines():
            assert line.strip("- ").strip().lower() not in training, line


def test_safety_rules_do_not_depend_on_custom_actions() -> None:
    rules = load_yaml(ROOT / "data" / "rules" / "safety.yml")["rules"]
    for rule in rules:
        actions = [s["action"] for s in rule["steps"] if "action" in s]
        assert all(a.startswith("utter_") for a in actions), rule["rule"]


# --- phone numbers trace to the sourced facts -------------------------------

_PHONE = re.compile(
    r"\+48(?:[ -]?\d){9}"  # +48 22 490 20 44
    r"|\b\d{3} \d{3} \d{3}\b"  # 801 002 006, 459 599 000
    r"|\b\d{3} \d{2} \d{4}\b"  # 800 70 2222
    r"|\b116 ?\d{3}\b"  # 116 123
    r"|\b(?:112|997)\b"
)


def normalise_phone(raw: str) -> str:
    """Digits as stored in the facts file: +48 prefix except special numbers."""
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+48"):
        return "+" + digits
    if len(digits) == 9 and not digits.startswith(("800", "801")):
        return "+48" + digits
    return digits


def _response_texts(domain: dict) -> Iterator[tuple[str, str]]:
    for name, variations in domain["responses"].items():
        for variation in variations:
            yield name, variation["text"]


def test_every_phone_number_in_responses_is_confirmed_in_the_facts(
    domain: dict, facts: dict
) -> None:
    confirmed = {n for n, ok in fact_phone_status(facts).items() if ok}
    found = 0
    for name, text in _response_texts(domain):
        for raw in _PHONE.findall(text):
            found += 1
            assert normalise_phone(raw) in confirmed, f"{name}: {raw} is not sourced"
    assert found > 20  # the check really looked at numbers


def test_unconfirmed_numbers_are_never_in_responses(domain: dict, facts: dict) -> None:
    unconfirmed = {n for n, ok in fact_phone_status(facts).items() if not ok}
    for name, text in _response_texts(domain):
        numbers = {normalise_phone(raw) for raw in _PHONE.findall(text)}
        assert not numbers & unconfirmed, name


# --- README and docs ---------------------------------------------------------


def test_paths_named_in_readme_exist() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    paths = set(
        re.findall(r"`([\w./-]+/[\w./-]*|[\w-]+\.(?:yml|md|py|txt|sh))`", readme)
    )
    assert paths, "README names no paths"
    missing = [
        p
        for p in paths
        if not (ROOT / p).exists() and not p.startswith(("var/", "models/", "http"))
    ]
    assert not missing, f"README names missing paths: {missing}"


# Intents whose messages city_form reads as the answer (a typed town) or that ask it
# again ("yes"); every other intent leaves the city question.
CITY_FORM_ANSWERS = {"ask_info_line", "nlu_fallback", "out_of_scope", "other_language"}


def test_every_other_intent_leaves_the_city_question(domain: dict) -> None:
    rules = load_yaml(ROOT / "data" / "rules" / "forms.yml")["rules"]
    leaving = {
        rule["steps"][0]["intent"]
        for rule in rules
        if rule.get("condition") == [{"active_loop": "city_form"}]
        and "intent" in rule["steps"][0]
        and {"action": "action_deactivate_loop"} in rule["steps"]
    }
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    expected = intents - CITY_FORM_ANSWERS - {"affirm"}
    assert expected <= leaving, sorted(expected - leaving)
