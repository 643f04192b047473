"""The regression gate: a candidate model goes live only if it is no worse.

:func:`decide` compares two evaluation reports (the live model's and the
candidate's, as `iom/tools/retrain.py` writes them) and says whether the candidate
may be promoted, with every reason it may not. The rules (`Thresholds`; issue 17's
numbers, and what a retrain's noise showed, `bench/results/gate_noise.md`):

- on the safety regression set (`tests/safety_regression/<lang>.yml`: danger,
  trafficking and crisis messages), safety recall is at least 0.98 in every
  language and not lower than the live model's (issue 17);
- no language's held-out macro-F1 drops by more than 0.01 (issue 17);
- every test story passes (`rasa test core --fail-on-prediction-errors`) (issue 17);
- no example the candidate learns beyond `data/` takes a message out of the safety
  answers: an example labelled with a non-safety intent whose text the live bot
  answers with a safety intent refuses the candidate (the loop only ever adds
  safety; a false alarm is fixed by a reviewed change of `data/` or of the safety
  net, never by a correction alone);
- on the held-out sets (v1-v4 per language), the safety messages the candidate
  loses (the live model caught them, the candidate does not) are compared, message
  by message, with those it gains: a loss larger than retraining noise explains
  (one-sided exact sign test, p below `safety_alpha`) refuses it. A retrain moves
  1-8 of the ~75 safety messages per language that carry no safety-net cue either
  way, so "never one message fewer" would refuse nearly every candidate;
- the safety messages (held-out and regression) that move from a safety intent into
  one of the non-safety intents the new examples teach are compared the same way
  with those that move back out of them: that is how a harmful correction shows
  (danger relabelled as greetings pulls danger messages into `greet`), while noise
  moves one now and then, either way.

A report is a JSON-able dict::

    {"model": "…",
     "languages": {"pl": {"n": 700, "macro_f1": 0.91, "safety_recall": 0.99,
                          "regression_n": 20, "regression_recall": 1.0}, …},
     "stories": {"passed": true, "detail": "…"},
     "predictions": {"v1/pl": [[text, gold, predicted], …],
                     "safety/pl": […], …}}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from iom.core.language import SUPPORTED
from iom.core.safety import SAFETY_INTENTS

EPSILON = 1e-9


@dataclass(frozen=True)
class Thresholds:
    """The gate's rules (issue 17's thresholds and the noise-aware ones)."""

    min_regression_recall: float = 0.98
    max_safety_drop: float = 0.0  # on the safety regression set
    max_f1_drop: float = 0.01
    safety_alpha: float = 0.05  # a loss of safety messages noise explains with p < it
    heldout_safety_floor: float | None = None
    require_stories: bool = True


@dataclass(frozen=True)
class Example:
    """An example the candidate learns beyond `data/`, and the live bot's answer."""

    text: str
    intent: str
    live: str

    @property
    def leaves_safety(self) -> bool:
        """True if it teaches that a message the live bot treats as safety is not."""
        return self.live in SAFETY_INTENTS and self.intent not in SAFETY_INTENTS


@dataclass
class Row:
    """One language's numbers, live beside candidate."""

    language: str
    live_f1: float
    candidate_f1: float
    live_safety: float
    candidate_safety: float
    live_regression: float
    candidate_regression: float
    safety_lost: int = 0
    safety_gained: int = 0


@dataclass
class Flips:
    """One language's held-out safety messages that changed side."""

    lost: int = 0
    gained: int = 0

    @property
    def p_value(self) -> float:
        """One-sided exact sign test: P(>= `lost` of the flips are losses | chance)."""
        n = self.lost + self.gained
        if self.lost == 0:
            return 1.0
        return sum(math.comb(n, k) for k in range(self.lost, n + 1)) / 2**n


@dataclass
class Decision:
    """Whether the candidate may go live, and why not."""

    passed: bool
    reasons: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    thresholds: Thresholds = field(default_factory=Thresholds)
    leaving_safety: int = 0  # examples that take a message out of the safety answers
    # safety messages moved into (lost) and out of (gained) the taught intents
    into_taught: Flips = field(default_factory=Flips)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (stored in the registry and the report)."""
        return asdict(self)


@dataclass(frozen=True)
class Change:
    """A held-out or regression message whose prediction changed."""

    set: str
    text: str
    gold: str
    live: str
    candidate: str

    @property
    def better(self) -> bool | None:
        """True if fixed, False if broken, None if wrong either way."""
        if self.candidate == self.gold:
            return True
        if self.live == self.gold:
            return False
        return None

    @property
    def language(self) -> str:
        """The set's language (`v2/uk` -> `uk`)."""
        return self.set.rsplit("/", 1)[-1]

    @property
    def heldout(self) -> bool:
        """A held-out set's message (not the safety regression set's)."""
        return not self.set.startswith("safety/")

    @property
    def safety_lost(self) -> bool:
        """A safety message the live model caught and the candidate does not."""
        return (
            self.gold in SAFETY_INTENTS
            and self.live in SAFETY_INTENTS
            and self.candidate not in SAFETY_INTENTS
        )

    @property
    def safety_gained(self) -> bool:
        """A safety message the candidate catches and the live model did not."""
        return (
            self.gold in SAFETY_INTENTS
            and self.candidate in SAFETY_INTENTS
            and self.live not in SAFETY_INTENTS
        )


def changes(live: Mapping[str, Any], candidate: Mapping[str, Any]) -> list[Change]:
    """Every message predicted differently by the two models, set by set."""
    found: list[Change] = []
    for name, rows in sorted((candidate.get("predictions") or {}).items()):
        before = {
            text: predicted
            for text, _, predicted in live.get("predictions", {}).get(name, [])
        }
        for text, gold, predicted in rows:
            old = before.get(text)
            if old is not None and old != predicted:
                found.append(Change(name, text, gold, old, predicted))
    return found


def safety_flips(changed: Sequence[Change]) -> dict[str, Flips]:
    """Held-out safety messages lost and gained, per language."""
    flips: dict[str, Flips] = {language: Flips() for language in SUPPORTED}
    for c in changed:
        if c.heldout and c.language in flips:
            flips[c.language].lost += c.safety_lost
            flips[c.language].gained += c.safety_gained
    return flips


def _number(report: Mapping[str, Any], language: str, key: str) -> float:
    value = report.get("languages", {}).get(language, {}).get(key)
    return float(value) if value is not None else math.nan


def _quoted(texts: Sequence[str], most: int = 3) -> str:
    shown = "; ".join(texts[:most])
    return shown + (f" and {len(texts) - most} more" if len(texts) > most else "")


def decide(
    live: Mapping[str, Any],
    candidate: Mapping[str, Any],
    thresholds: Thresholds | None = None,
    examples: Sequence[Example] = (),
) -> Decision:
    """The gate's verdict on `candidate` against `live` (see the module docstring).

    `examples`: what the candidate learned beyond `data/`, with the live bot's
    answers (the retrain tool asks the live model).
    """
    t = thresholds or Thresholds()
    decision = Decision(passed=True, thresholds=t)
    reasons = decision.reasons
    leaving = [e for e in examples if e.leaves_safety]
    if leaving:
        reasons.append(
            f"{len(leaving)} example(s) would teach that a message the live bot"
            " answers with a safety intent is not one: "
            + _quoted([f"'{e.text}' ({e.live} -> {e.intent})" for e in leaving])
            + " (reject those corrections; a false alarm is fixed in data/ or the"
            " safety net by a reviewed change)"
        )
    changed = changes(live, candidate)
    flips = safety_flips(changed)
    taught = {e.intent for e in examples} - SAFETY_INTENTS
    pulled = [c for c in changed if c.safety_lost and c.candidate in taught]
    released = [c for c in changed if c.safety_gained and c.live in taught]
    decision.leaving_safety = len(leaving)
    decision.into_taught = into_taught = Flips(len(pulled), len(released))
    for language in SUPPORTED:
        row = Row(
            language,
            _number(live, language, "macro_f1"),
            _number(candidate, language, "macro_f1"),
            _number(live, language, "safety_recall"),
            _number(candidate, language, "safety_recall"),
            _number(live, language, "regression_recall"),
            _number(candidate, language, "regression_recall"),
            flips[language].lost,
            flips[language].gained,
        )
        decision.rows.append(row)
        if math.isnan(row.candidate_regression):
            reasons.append(f"{language}: no safety regression result")
        elif row.candidate_regression + EPSILON < t.min_regression_recall:
            reasons.append(
                f"{language}: safety regression recall {row.candidate_regression:.3f}"
                f" < {t.min_regression_recall:.2f}"
            )
        if row.candidate_regression + t.max_safety_drop + EPSILON < row.live_regression:
            reasons.append(
                f"{language}: safety regression recall dropped"
                f" {row.live_regression:.3f} -> {row.candidate_regression:.3f}"
            )
        if math.isnan(row.candidate_safety) or math.isnan(row.candidate_f1):
            reasons.append(f"{language}: no held-out result")
            continue
        p = flips[language].p_value
        if p < t.safety_alpha:
            reasons.append(
                f"{language}: held-out safety messages lost {row.safety_lost},"
                f" gained {row.safety_gained}: more than retraining noise"
                f" (sign test p = {p:.3f} < {t.safety_alpha})"
            )
        floor = t.heldout_safety_floor
        if floor is not None and row.candidate_safety + EPSILON < floor:
            reasons.append(
                f"{language}: held-out safety recall {row.candidate_safety:.3f}"
                f" < {floor:.2f}"
            )
        if row.candidate_f1 + t.max_f1_drop + EPSILON < row.live_f1:
            reasons.append(
                f"{language}: macro-F1 dropped {row.live_f1:.3f} ->"
                f" {row.candidate_f1:.3f} (more than {t.max_f1_drop:.2f})"
            )
    if into_taught.p_value < t.safety_alpha:
        reasons.append(
            f"{len(pulled)} safety message(s) now taken for an intent the new"
            f" examples teach ({', '.join(sorted({c.candidate for c in pulled}))}),"
            f" {len(released)} out of them: more than retraining noise (sign test"
            f" p = {into_taught.p_value:.3f} < {t.safety_alpha}): "
            + _quoted([f"'{c.text}' ({c.set}, {c.gold})" for c in pulled])
        )
    stories = candidate.get("stories") or {}
    if t.require_stories and not stories.get("passed"):
        reasons.append(
            "test stories failed: " + str(stories.get("detail", "no result"))
        )
    decision.passed = not reasons
    return decision


def macro_f1(gold: list[str], predicted: list[str]) -> float:
    """Macro-F1 over the gold labels (as scikit-learn's with `labels=` the gold set)."""
    labels = sorted(set(gold))
    if not labels:
        return math.nan
    total = 0.0
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label == p)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if p == label != g)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label != p)
        total += 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return total / len(labels)


def set_scores(
    report: Mapping[str, Any], safety: frozenset[str]
) -> dict[str, dict[str, float]]:
    """Macro-F1 and safety recall of every set in a report's predictions (v1/pl, …)."""
    scores: dict[str, dict[str, float]] = {}
    for name, rows in (report.get("predictions") or {}).items():
        gold = [g for _, g, _ in rows]
        predicted = [p for _, _, p in rows]
        caught = [
            p in safety for g, p in zip(gold, predicted, strict=True) if g in safety
        ]
        scores[name] = {
            "n": float(len(rows)),
            "macro_f1": macro_f1(gold, predicted),
            "safety_recall": sum(caught) / len(caught) if caught else math.nan,
        }
    return scores


def _f(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.3f}"


def markdown(
    decision: Decision,
    live_id: str,
    candidate_id: str,
    changed: list[Change],
    stories: Mapping[str, Any] | None = None,
    sets: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
    training: str | None = None,
    learned: Sequence[Sequence[str]] | None = None,
) -> str:
    """The gate report for people (stored beside the JSON, shown in the console)."""
    verdict = "PASSED: promoted" if decision.passed else "REFUSED: the live model stays"
    lines = [
        f"# Gate report: candidate `{candidate_id}` vs live `{live_id}`",
        "",
        f"**{verdict}**",
        "",
    ]
    lines += [f"- {reason}" for reason in decision.reasons] or ["- every rule held"]
    lines += [
        "",
        "| language | macro-F1 live | macro-F1 candidate | held-out safety recall live"
        " | candidate | held-out safety messages lost / gained"
        " | regression-set recall live | candidate |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in decision.rows:
        lines.append(
            f"| {r.language} | {_f(r.live_f1)} | {_f(r.candidate_f1)} |"
            f" {_f(r.live_safety)} | {_f(r.candidate_safety)} |"
            f" {r.safety_lost} / {r.safety_gained} |"
            f" {_f(r.live_regression)} | {_f(r.candidate_regression)} |"
        )
    if sets is not None:
        before, after = sets
        lines += [
            "",
            "Every set (the rules above use each language's held-out sets pooled):",
            "",
            "| set | n | macro-F1 live | candidate | safety recall live | candidate |",
            "|---|---|---|---|---|---|",
        ]
        for name in sorted(after):
            b, a = before.get(name, {}), after[name]
            lines.append(
                f"| {name} | {int(a['n'])} | {_f(b.get('macro_f1', math.nan))} |"
                f" {_f(a['macro_f1'])} | {_f(b.get('safety_recall', math.nan))} |"
                f" {_f(a['safety_recall'])} |"
            )
    if stories is not None:
        state = "all passed" if stories.get("passed") else "FAILED"
        lines += ["", f"Test stories (candidate): {state}. {stories.get('detail', '')}"]
    if training is not None:
        lines += ["", f"Training: {training}."]
    if learned is not None:
        missed = [row for row in learned if row[1] != row[2]]
        lines += [
            "",
            f"Examples beyond data/ the candidate gives their intent:"
            f" {len(learned) - len(missed)} of {len(learned)}.",
        ]
        lines += [
            f"- not learned: {text} ({gold} -> {got})" for text, gold, got in missed
        ]
    lines += ["", f"## Predictions that changed ({len(changed)})", ""]
    if changed:
        lines += [
            "| set | message | gold | live | candidate | |",
            "|---|---|---|---|---|---|",
        ]
        for c in changed:
            mark = {True: "fixed", False: "broken", None: "still wrong"}[c.better]
            text = c.text.replace("|", "\\|")
            lines.append(
                f"| {c.set} | {text} | {c.gold} | {c.live} | {c.candidate} | {mark} |"
            )
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"
