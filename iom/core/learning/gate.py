"""The regression gate: a candidate model goes live only if it is no worse.

:func:`decide` compares two evaluation reports (the live model's and the
candidate's, as `iom/tools/retrain.py` writes them) and says whether the candidate
may be promoted, with every reason it may not. The rules (`Thresholds`, defaults as
issue 17 asks):

- on the safety regression set (`tests/safety_regression/<lang>.yml`: danger,
  trafficking and crisis messages), safety recall is at least 0.98 in every
  language and not lower than the live model's;
- on the held-out sets (v1-v3 pooled per language), safety recall is not lower than
  the live model's (no absolute floor by default: the live model's own held-out
  safety recall is below 0.98 in English, Ukrainian and Russian, so a floor there
  would refuse every candidate; set `heldout_safety_floor` to add one);
- no language's held-out macro-F1 drops by more than 0.01;
- every test story passes (`rasa test core --fail-on-prediction-errors`).

A report is a JSON-able dict::

    {"model": "…",
     "languages": {"pl": {"n": 700, "macro_f1": 0.91, "safety_recall": 0.99,
                          "regression_n": 20, "regression_recall": 1.0}, …},
     "stories": {"passed": true, "detail": "…"},
     "predictions": {"v1/pl": [[text, gold, predicted], …], …}}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from iom.core.language import SUPPORTED

EPSILON = 1e-9


@dataclass(frozen=True)
class Thresholds:
    """The gate's rules; the defaults are issue 17's."""

    min_regression_recall: float = 0.98
    max_safety_drop: float = 0.0
    max_f1_drop: float = 0.01
    heldout_safety_floor: float | None = None
    require_stories: bool = True


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


@dataclass
class Decision:
    """Whether the candidate may go live, and why not."""

    passed: bool
    reasons: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    thresholds: Thresholds = field(default_factory=Thresholds)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (stored in the registry and the report)."""
        return asdict(self)


def _number(report: Mapping[str, Any], language: str, key: str) -> float:
    value = report.get("languages", {}).get(language, {}).get(key)
    return float(value) if value is not None else math.nan


def decide(
    live: Mapping[str, Any],
    candidate: Mapping[str, Any],
    thresholds: Thresholds | None = None,
) -> Decision:
    """The gate's verdict on `candidate` against `live` (see the module docstring)."""
    t = thresholds or Thresholds()
    decision = Decision(passed=True, thresholds=t)
    for language in SUPPORTED:
        row = Row(
            language,
            _number(live, language, "macro_f1"),
            _number(candidate, language, "macro_f1"),
            _number(live, language, "safety_recall"),
            _number(candidate, language, "safety_recall"),
            _number(live, language, "regression_recall"),
            _number(candidate, language, "regression_recall"),
        )
        decision.rows.append(row)
        reasons = decision.reasons
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
        if row.candidate_safety + t.max_safety_drop + EPSILON < row.live_safety:
            reasons.append(
                f"{language}: held-out safety recall dropped"
                f" {row.live_safety:.3f} -> {row.candidate_safety:.3f}"
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
    stories = candidate.get("stories") or {}
    if t.require_stories and not stories.get("passed"):
        reasons = decision.reasons
        reasons.append(
            "test stories failed: " + str(stories.get("detail", "no result"))
        )
    decision.passed = not decision.reasons
    return decision


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
        " | candidate | regression-set recall live | candidate |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in decision.rows:
        lines.append(
            f"| {r.language} | {_f(r.live_f1)} | {_f(r.candidate_f1)} |"
            f" {_f(r.live_safety)} | {_f(r.candidate_safety)} |"
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
