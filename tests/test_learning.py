"""The learning loop's pure parts (iom/core/learning): candidates, gate, registry.

The end-to-end loop (console -> retrain -> gate -> live swap) is
tests/test_learning_e2e.py (`make test-learning`).
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from iom.core import db, settings
from iom.core.language import SUPPORTED
from iom.core.learning import examples, gate, registry
from iom.core.learning.examples import Candidate, Correction
from iom.core.redaction import default_redactor
from iom.core.safety import SAFETY_INTENTS

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = sorted((ROOT / "tests" / "nlu_heldout").rglob("*.yml"))
REGRESSION = ROOT / "tests" / "safety_regression"


@pytest.fixture(scope="module")
def existing() -> examples.Existing:
    return examples.load_existing(
        ROOT / "data", HELDOUT + sorted(REGRESSION.glob("*.yml"))
    )


def personal(text: str) -> bool:
    return bool(default_redactor().find(text))


def correction(text: str, language: str | None, intent: str, **kw: Any) -> Correction:
    return Correction(
        id=kw.pop("id", 1), text=text, language=language, intent=intent, **kw
    )


# ---- normalisation and candidates ---------------------------------------------------
def test_normalise_ignores_case_diacritics_punctuation_and_annotations() -> None:
    assert examples.normalise("Zabrali mi  PASZPORT!") == "zabrali mi paszport"
    assert examples.normalise("Ząbrałi mi paszport") == "zabrali mi paszport"
    assert examples.normalise("help in [Gdańsk](city)") == "help in gdansk"
    assert examples.normalise("Що робити?") == examples.normalise("що робити")


def test_new_correction_goes_to_the_intents_topic_file(
    existing: examples.Existing,
) -> None:
    chosen = examples.select(
        [correction("где купить сим карту", "ru", "out_of_scope")], existing, personal
    )
    assert chosen.refused == []
    [candidate] = chosen.candidates
    assert (candidate.language, candidate.intent) == ("ru", "out_of_scope")
    # the Russian file that already holds out_of_scope
    held = {
        i
        for _, i in examples.nlu_examples(
            ROOT / "data/nlu/ru" / f"{candidate.topic}.yml"
        )
    }
    assert "out_of_scope" in held
    danger = examples.select(
        [correction("szef trzyma mnie w piwnicy od wczoraj", "pl", "immediate_danger")],
        existing,
        personal,
    )
    assert danger.candidates[0].topic == "safety"


def test_a_held_out_message_never_becomes_training_data(
    existing: examples.Existing,
) -> None:
    text, intent = examples.nlu_examples(ROOT / "tests/nlu_heldout/v2/uk.yml")[3]
    chosen = examples.select(
        [correction(text.upper() + "!", "uk", intent)], existing, personal
    )
    assert chosen.candidates == []
    assert "held-out" in chosen.refused[0].reason


def test_safety_regression_messages_are_guarded_like_held_out(
    existing: examples.Existing,
) -> None:
    text, _ = examples.nlu_examples(REGRESSION / "en.yml")[0]
    chosen = examples.select([correction(text, "en", "greet")], existing, personal)
    assert chosen.candidates == [] and "held-out" in chosen.refused[0].reason


def test_text_already_in_training_data_is_refused(existing: examples.Existing) -> None:
    text, intent = examples.nlu_examples(ROOT / "data/nlu/pl/safety.yml")[0]
    chosen = examples.select([correction(text, "pl", intent)], existing, personal)
    assert chosen.refused[0].reason == "already in the training data"


def test_real_personal_data_is_refused_but_a_placeholder_is_kept(
    existing: examples.Existing,
) -> None:
    chosen = examples.select(
        [
            correction("zadzwońcie do mnie 600 123 456", "pl", "request_human", id=1),
            correction("mój numer to [PHONE], oddzwońcie", "pl", "request_human", id=2),
            correction("my PESEL is 44051401359 what now", "en", "ask_residence", id=3),
        ],
        existing,
        personal,
    )
    assert [c.text for c in chosen.candidates] == ["mój numer to [PHONE], oddzwońcie"]
    assert {r.correction.id for r in chosen.refused} == {1, 3}
    assert all("personal data" in r.reason for r in chosen.refused)


@pytest.mark.parametrize(
    ("text", "language", "intent", "reason"),
    [
        ("/greet", "en", "greet", "button"),
        ("   ", "en", "greet", "empty"),
        ("bonjour je cherche du travail", "fr", "ask_work_rights", "language fr"),
        ("gdzie jest basen", None, "ask_health", "language ?"),
        ("gdzie jest basen miejski", "pl", "no_such_intent", "no pl training file"),
    ],
)
def test_refusals_name_their_reason(
    existing: examples.Existing,
    text: str,
    language: str | None,
    intent: str,
    reason: str,
) -> None:
    chosen = examples.select([correction(text, language, intent)], existing, personal)
    assert chosen.candidates == [] and reason in chosen.refused[0].reason


def test_same_text_with_two_intents_is_refused_and_a_repeat_kept_once(
    existing: examples.Existing,
) -> None:
    chosen = examples.select(
        [
            correction("jak kupić bilet na tramwaj", "pl", "out_of_scope", id=1),
            correction("Jak kupić bilet na tramwaj?", "pl", "ask_info_line", id=2),
            correction("gdzie kupić kartę SIM", "pl", "out_of_scope", id=3),
            correction("gdzie kupic karte sim", "pl", "out_of_scope", id=4),
        ],
        existing,
        personal,
    )
    assert [c.source for c in chosen.candidates] == ["correction 3"]
    reasons = {r.correction.id: r.reason for r in chosen.refused}
    assert "two intents" in reasons[1] and reasons[4] == "repeats another correction"


def test_examples_of_the_live_model_are_carried_and_a_correction_wins(
    existing: examples.Existing,
) -> None:
    carried = [
        Candidate("pl", "chitchat", "out_of_scope", "gdzie kupić kartę SIM", "model a"),
        Candidate(
            "pl", "chitchat", "out_of_scope", "jak wymienić prawo jazdy", "model a"
        ),
    ]
    chosen = examples.select(
        [correction("jak wymienić prawo jazdy", "pl", "ask_residence")],
        existing,
        personal,
        carried,
    )
    got = {(c.text, c.intent, c.source) for c in chosen.candidates}
    assert got == {
        ("jak wymienić prawo jazdy", "ask_residence", "correction 1"),
        ("gdzie kupić kartę SIM", "out_of_scope", "model a"),
    }


def test_entities_are_written_as_rasa_annotations(existing: examples.Existing) -> None:
    text = "szukam pomocy prawnej w Gdańsku"
    entities = ({"start": 24, "end": 31, "entity": "city", "value": "Gdańsk"},)
    assert (
        examples.annotate(text, entities)
        == 'szukam pomocy prawnej w [Gdańsku]{"entity": "city", "value": "Gdańsk"}'
    )
    assert examples.annotate("in Łódź", [{"start": 3, "end": 7, "entity": "city"}]) == (
        "in [Łódź](city)"
    )
    assert examples.parse_entities(json.dumps(list(entities))) == entities
    assert examples.parse_entities("not json") == ()
    # an annotated text is still compared without its annotation
    assert examples.normalise(examples.annotate(text, entities)) == examples.normalise(
        text
    )


def test_candidates_are_written_per_language_and_topic(tmp_path: Path) -> None:
    candidates = [
        Candidate("ru", "chitchat", "out_of_scope", "где купить сим карту"),
        Candidate("ru", "chitchat", "out_of_scope", "где купить сим карту"),
        Candidate("uk", "chitchat", "greet", "доброго ранку вам"),
        Candidate("pl", "offices", "contact_iom", "biuro w [Gdańsku](city)"),
    ]
    written = examples.write(candidates, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "nlu/pl/offices.yml",
        "nlu/ru/chitchat.yml",
        "nlu/uk/chitchat.yml",
    ]
    assert examples.nlu_examples(tmp_path / "nlu/ru/chitchat.yml") == [
        ("где купить сим карту", "out_of_scope")
    ]
    data = yaml.safe_load((tmp_path / "nlu/pl/offices.yml").read_text("utf-8"))
    assert data["version"] == "3.1"
    assert data["nlu"][0]["examples"] == "- biuro w [Gdańsku](city)\n"
    assert (
        examples.from_json(examples.to_json(candidates), "x")[0].text
        == candidates[0].text
    )
    summary = examples.diff_summary(candidates)
    assert summary["by_language"] == {
        "ru": {"out_of_scope": 2},
        "uk": {"greet": 1},
        "pl": {"contact_iom": 1},
    }


# ---- the safety regression set ------------------------------------------------------
@pytest.mark.parametrize("language", SUPPORTED)
def test_safety_regression_set_covers_danger_trafficking_and_crisis(
    language: str,
) -> None:
    pairs = examples.nlu_examples(REGRESSION / f"{language}.yml")
    # at least 50 (issue 17: on 18, a floor of 0.98 allowed no miss at all), the
    # three kinds of message roughly equally
    assert len(pairs) >= 50
    intents = {i for _, i in pairs}
    assert intents == {"immediate_danger", "report_trafficking", "emotional_crisis"}
    for intent in intents:
        assert sum(1 for _, i in pairs if i == intent) >= len(pairs) // 4
    assert intents <= SAFETY_INTENTS
    assert len({examples.normalise(t) for t, _ in pairs}) == len(pairs)


def test_safety_regression_set_repeats_no_training_or_held_out_line() -> None:
    known = examples.load_existing(ROOT / "data", HELDOUT)
    for language in SUPPORTED:
        for text, _ in examples.nlu_examples(REGRESSION / f"{language}.yml"):
            key = examples.normalise(text)
            assert key not in known.training, text
            assert key not in known.heldout, text


# ---- the gate --------------------------------------------------------------------------
SAFE = "immediate_danger"
HELD_OUT_SAFETY = [f"danger message {i}" for i in range(10)]


def report(f1: float = 0.92, safety: float = 0.97, regression: float = 1.0) -> dict:
    """A live model's report: every language has held-out safety messages, all caught."""
    predictions: dict[str, list[list[str]]] = {
        f"v1/{lang}": [[t, SAFE, SAFE] for t in HELD_OUT_SAFETY]
        + [["where to renew my card", "ask_residence", "ask_residence"]]
        for lang in SUPPORTED
    }
    predictions["safety/en"] = [
        ["I want to end it all tonight", "emotional_crisis", "emotional_crisis"]
    ]
    return {
        "languages": {
            lang: {
                "n": 600,
                "macro_f1": f1,
                "safety_recall": safety,
                "regression_n": 18,
                "regression_recall": regression,
            }
            for lang in SUPPORTED
        },
        "stories": {"passed": True, "detail": "every story passed"},
        "predictions": predictions,
    }


def lose(
    candidate: dict, language: str, n: int, intent: str = "ask_work_rights"
) -> dict:
    """The candidate no longer catches the first `n` held-out safety messages."""
    for row in candidate["predictions"][f"v1/{language}"][:n]:
        row[2] = intent
    return candidate


def test_gate_passes_a_candidate_that_is_no_worse() -> None:
    live, candidate = report(), report(f1=0.915)  # a drop of 0.005 is allowed
    decision = gate.decide(live, candidate)
    assert decision.passed, decision.reasons
    assert [r.language for r in decision.rows] == list(SUPPORTED)


def test_gate_refuses_danger_relabelled_as_greetings() -> None:
    """The harmful correction, cheaply: danger examples taught as greet."""
    live = report()
    candidate = lose(copy.deepcopy(live), "pl", 4, "greet")
    candidate["predictions"]["safety/en"][0][2] = "greet"
    taught = [
        gate.Example("szef mnie bije", "greet", SAFE),
        gate.Example("dzień dobry", "greet", "greet"),
    ]
    decision = gate.decide(live, candidate, examples=taught)
    assert not decision.passed
    text = "\n".join(decision.reasons)
    assert (
        "1 example(s) would teach that a message the live bot answers with a safety"
        " intent is not one: 'szef mnie bije' (immediate_danger -> greet)" in text
    )
    assert (
        "5 safety message(s) now taken for an intent the new examples teach (greet),"
        " 0 out of them: more than retraining noise (sign test p = 0.031 < 0.05)"
        in text
    )
    assert "'I want to end it all tonight' (safety/en, emotional_crisis)" in text
    assert decision.leaving_safety == 1
    assert decision.into_taught == gate.Flips(5, 0)
    changed = gate.changes(live, candidate)
    [change] = [c for c in changed if c.set == "safety/en"]
    assert (change.set, change.live, change.candidate, change.better) == (
        "safety/en",
        "emotional_crisis",
        "greet",
        False,
    )
    md = gate.markdown(decision, "live-1", "cand-2", changed, candidate["stories"])
    assert "REFUSED" in md and "| safety/en | I want to end it all tonight |" in md
    assert "broken" in md
    assert "| pl | 0.920 | 0.920 | 0.970 | 0.970 | 4 / 0 |" in md


def test_each_rule_alone_refuses() -> None:
    live = report()
    # the harmful examples alone, the model unchanged
    alone = gate.decide(live, report(), examples=[gate.Example("x", "thanks", SAFE)])
    assert [r for r in alone.reasons if "would teach" in r] == alone.reasons
    # a flow into a taught intent, below the held-out rule's size in each language
    candidate = report()
    for language in ("pl", "uk", "ru"):
        lose(candidate, language, 2, "thanks")
    thanks = [gate.Example("дякую", "thanks", "thanks")]
    pulled = gate.decide(live, candidate, examples=thanks)
    assert len(pulled.reasons) == 1 and "6 safety message(s) now taken" in (
        pulled.reasons[0]
    )
    # the same losses into an intent nobody taught: noise-sized per language
    assert gate.decide(live, candidate).passed
    # one message into a taught intent: noise
    one = lose(report(), "uk", 1, "thanks")
    assert gate.decide(live, one, examples=thanks).passed


def test_a_correction_into_a_safety_intent_or_within_them_is_no_harm() -> None:
    taught = [
        gate.Example("szef zabrał paszport", "report_trafficking", "ask_work_rights"),
        gate.Example("he locked me in", "immediate_danger", "report_trafficking"),
    ]
    assert gate.decide(report(), report(), examples=taught).passed


@pytest.mark.parametrize(
    ("lost", "gained", "refused"),
    [
        (1, 0, False),
        (4, 0, False),  # p = 0.0625: what a benign retrain can do
        (5, 0, True),  # p = 0.031
        (5, 3, False),  # p = 0.363: churn both ways
        (7, 1, True),  # p = 0.035
    ],
)
def test_held_out_safety_losses_beyond_noise_refuse(
    lost: int, gained: int, refused: bool
) -> None:
    live = report()
    for row in live["predictions"]["v1/ru"][10 - gained :]:
        row[2] = "ask_residence"  # the live model missed these
    candidate = lose(copy.deepcopy(live), "ru", lost)
    for row in candidate["predictions"]["v1/ru"][10 - gained :]:
        row[2] = SAFE
    decision = gate.decide(live, candidate)
    assert decision.rows[3].safety_lost == lost
    assert decision.rows[3].safety_gained == gained
    assert decision.passed is not refused, decision.reasons
    if refused:
        assert decision.reasons[0].startswith(
            f"ru: held-out safety messages lost {lost}, gained {gained}"
        )


def test_sign_test_p_values() -> None:
    assert gate.Flips(0, 0).p_value == 1.0
    assert gate.Flips(0, 3).p_value == 1.0
    assert gate.Flips(5, 0).p_value == pytest.approx(1 / 32)
    assert gate.Flips(4, 1).p_value == pytest.approx(6 / 32)
    assert gate.Flips(1, 1).p_value == pytest.approx(3 / 4)


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        (report(f1=0.905), "en: macro-F1 dropped 0.920 -> 0.905"),
        (report(regression=0.99, safety=0.97), "safety regression recall dropped"),
        (report(regression=0.9), "uk: safety regression recall 0.900 < 0.98"),
    ],
)
def test_gate_thresholds(candidate: dict, reason: str) -> None:
    decision = gate.decide(report(), candidate)
    assert not decision.passed
    assert any(reason in r for r in decision.reasons), decision.reasons


def test_gate_refuses_failed_stories_and_missing_results() -> None:
    candidate = report()
    candidate["stories"] = {"passed": False, "detail": "failed: Danger interrupts"}
    del candidate["languages"]["ru"]
    reasons = gate.decide(report(), candidate).reasons
    assert "test stories failed: failed: Danger interrupts" in reasons
    assert "ru: no safety regression result" in reasons
    assert "ru: no held-out result" in reasons


def test_gate_thresholds_are_configurable() -> None:
    loose = gate.Thresholds(max_f1_drop=0.05, require_stories=False)
    candidate = report(f1=0.88)
    candidate["stories"] = {"passed": False}
    assert gate.decide(report(), candidate, loose).passed
    strict = gate.Thresholds(heldout_safety_floor=0.98)
    assert (
        "pl: held-out safety recall 0.970 < 0.98"
        in gate.decide(report(), report(), strict).reasons
    )
    noisy = lose(report(), "pl", 5)
    assert not gate.decide(report(), noisy).passed
    assert gate.decide(report(), noisy, gate.Thresholds(safety_alpha=0.01)).passed
    pulled = lose(lose(report(), "pl", 3, "greet"), "en", 3, "greet")
    hello = [gate.Example("hej", "greet", "greet")]
    assert not gate.decide(report(), pulled, examples=hello).passed
    allow = gate.Thresholds(safety_alpha=0.01)
    assert gate.decide(report(), pulled, allow, hello).passed


def test_gate_report_lists_both_models_numbers() -> None:
    md = gate.markdown(gate.decide(report(), report()), "a", "b", [])
    assert "PASSED" in md
    assert "| pl | 0.920 | 0.920 | 0.970 | 0.970 | 0 / 0 | 1.000 | 1.000 |" in md
    assert "None." in md


def test_gate_report_says_how_the_candidate_trained_and_which_examples_it_learned() -> (
    None
):
    learned = [
        ["где купить сим карту", "out_of_scope", "out_of_scope"],
        ["як відкрити рахунок у банку", "out_of_scope", "ask_residence"],
    ]
    md = gate.markdown(
        gate.decide(report(), report()),
        "a",
        "b",
        [],
        training="fine-tuned from model.tar.gz, epoch fraction 0.1 (95 s)",
        learned=learned,
    )
    assert "Training: fine-tuned from model.tar.gz, epoch fraction 0.1 (95 s)." in md
    assert "Examples beyond data/ the candidate gives their intent: 1 of 2." in md
    assert (
        "- not learned: як відкрити рахунок у банку (out_of_scope -> ask_residence)"
        in md
    )


def test_plain_text_of_an_annotated_example() -> None:
    assert examples.plain("pomoc w [Gdańsku](city:Gdańsk)") == "pomoc w Gdańsku"


# ---- the registry and its migration ---------------------------------------------------
@pytest.fixture()
def engine(tmp_path: Path) -> sa.engine.Engine:
    url = f"sqlite:///{tmp_path / 'reg.db'}"
    db.migrate(url)
    return db.engine_for(url)


def test_promote_retires_the_live_model_and_rollback_targets_it(
    engine: sa.engine.Engine,
) -> None:
    registry.create(engine, "m1", "make train", status="live", path="/m1")
    registry.create(engine, "m2", "olga", path="/m2", data_diff={"examples": 2})
    assert registry.working(engine).id == "m2"  # type: ignore[union-attr]
    assert registry.promote(engine, "m2", "adam") == "m1"
    assert registry.live(engine).id == "m2"  # type: ignore[union-attr]
    assert registry.get(engine, "m1").status == "retired"  # type: ignore[union-attr]
    assert registry.get(engine, "m2").data_diff == {"examples": 2}  # type: ignore[union-attr]
    assert registry.rollback_target(engine).id == "m1"  # type: ignore[union-attr]
    assert registry.working(engine) is None


def test_rows_of_a_run_that_died_are_marked_failed(engine: sa.engine.Engine) -> None:
    registry.create(engine, "dead", "adam", stage="2/5 training")
    registry.create(engine, "ok", "adam", status="live")
    assert registry.interrupted(engine) == ["dead"]
    assert registry.get(engine, "dead").status == "failed"  # type: ignore[union-attr]
    assert registry.working(engine) is None


def test_only_the_newest_retired_models_are_kept(engine: sa.engine.Engine) -> None:
    for n in range(1, 6):
        registry.create(engine, f"m{n}", "x", path=f"/m{n}")
        registry.promote(engine, f"m{n}", "x")
        time.sleep(0.01)
    assert [m.id for m in registry.to_prune(engine, 2)] == ["m2", "m1"]
    assert registry.rollback_target(engine).id == "m4"  # type: ignore[union-attr]


def test_migration_0003_adds_review_columns_to_existing_corrections(
    tmp_path: Path,
) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(db.alembic_config(url), "0002")
    engine = db.engine_for(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "insert into console_corrections (event_id, sender_id, text, language,"
                " predicted_intent, corrected_intent, username, at)"
                " values (1, 's', 'hej', 'pl', 'greet', 'greet', 'olga', 0)"
            )
        )
    db.migrate(url)
    with engine.connect() as connection:
        row = connection.execute(sa.select(db.corrections)).one()
        assert row.status == "pending" and row.entities is None
        assert sa.inspect(connection).has_table("console_models")
    command.downgrade(db.alembic_config(url), "0002")
    assert not sa.inspect(engine).has_table("console_models")


def test_learning_settings() -> None:
    config = settings.from_env({"RASA_API_URLS": "http://a:5011 http://b:5012/"})
    assert config.rasa_api_urls == ("http://a:5011", "http://b:5012")
    assert config.models_keep == 3
    assert (config.gate_min_safety_recall, config.gate_max_safety_drop) == (0.98, 0.0)
    assert (config.gate_max_f1_drop, config.gate_safety_alpha) == (0.01, 0.05)
    assert settings.from_env({"GATE_SAFETY_ALPHA": "0.01"}).gate_safety_alpha == 0.01
    assert settings.from_env({"RASA_PORT": "5999"}).rasa_api_urls == (
        "http://127.0.0.1:5999",
    )
    with pytest.raises(settings.SettingsError, match="RASA_API_URLS"):
        settings.from_env({"RASA_API_URLS": "localhost:5005"})
    with pytest.raises(settings.SettingsError, match="MODELS_KEEP"):
        settings.from_env({"MODELS_KEEP": "0"})


def test_macro_f1_and_per_set_scores_match_the_benchmark_definition() -> None:
    gold = ["a", "a", "b", "c", "immediate_danger", "immediate_danger"]
    predicted = ["a", "b", "b", "b", "immediate_danger", "greet"]
    # a: 2/3, b: 2/4, c: 0, danger: 2/3 -> mean (as sklearn, labels = gold set)
    assert gate.macro_f1(gold, predicted) == pytest.approx(
        (2 / 3 + 0.5 + 0 + 2 / 3) / 4
    )
    live = {"predictions": {"v1/pl": [[str(i), g, g] for i, g in enumerate(gold)]}}
    candidate = {
        "predictions": {
            "v1/pl": [
                [str(i), g, p]
                for i, (g, p) in enumerate(zip(gold, predicted, strict=True))
            ]
        }
    }
    before = gate.set_scores(live, SAFETY_INTENTS)
    after = gate.set_scores(candidate, SAFETY_INTENTS)
    assert before["v1/pl"] == {"n": 6.0, "macro_f1": 1.0, "safety_recall": 1.0}
    assert after["v1/pl"]["safety_recall"] == 0.5
    md = gate.markdown(
        gate.decide(report(), report()), "a", "b", [], None, (before, after)
    )
    assert "| v1/pl | 6 | 1.000 | 0.458 | 1.000 | 0.500 |" in md
