"""Corrections become candidate training examples (or are refused, with a reason).

A correction (an operator's right intent for one user message, reviewed by an admin)
becomes an example of `data/nlu/<lang>/<topic>.yml`'s topic, where `<topic>` is the
file in which that language's data already holds the intent. Candidates are never
written into `data/`: they go to a staging directory of their own (one per candidate
model, `models/candidates/<id>/data/nlu/<lang>/<topic>.yml`), which training reads
beside `data/` and which stays with the model as the record of what changed.

Refused, with the reason shown to the admin:
- a text that already is training data, or that is in any held-out set (a held-out
  message must never leak into training), compared after :func:`normalise`;
- a text in which the redactor still finds personal data (a placeholder such as
  `[PHONE]` is kept as written; a real number never becomes an example);
- a language the assistant does not speak, an intent no data file holds, an empty
  text or a button payload (`/intent`);
- the same text corrected to two intents (both refused: an admin must decide);
- a text that would read as an entity annotation itself (`[x](y)` typed by a user).

Entities (found by Rasa or marked by an operator, `iom.core.learning.entities`) are
written as Rasa's inline annotations: `[Kraków](city)`, or
`[Gdańsku]{"entity": "city", "value": "Gdańsk"}` where the value differs from the
text. Every candidate keeps a key of the conversation it came from
(:func:`conversation_key`), so that erasing the conversation also removes the example
(`iom.core.learning.erasure`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from iom.core.language import SUPPORTED, fold

# Rasa's inline annotation: [text](entity), [text](entity:value), [text]{"entity": …}
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
_NOT_WORD = re.compile(r"[^\w\[\]]+")
# What Rasa's reader takes for an annotation: a bracketed text right before (, { or [.
_READS_AS_ANNOTATION = re.compile(r"\[[^\]]+\][({\[]")


def plain(text: str) -> str:
    """The text without its entity annotations, as a person typed it."""
    return _ANNOTATION.sub(r"\1", text)


def normalise(text: str) -> str:
    """The form two texts are compared in: folded, annotations and punctuation gone.

    "Zabrali mi paszport!" and "zabrali mi  paszport" are the same example.
    """
    return " ".join(_NOT_WORD.sub(" ", fold(plain(text))).split())


def conversation_key(sender_id: str) -> str:
    """The key an example keeps of its source conversation (not the id itself).

    A sender id may be a phone number on some channels; a training artefact keeps
    only this digest, which an erasure of the same id recomputes.
    """
    if not sender_id:
        return ""
    return hashlib.sha256(f"iom-conversation:{sender_id}".encode()).hexdigest()[:32]


def nlu_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of one Rasa NLU YAML file (annotations kept)."""
    data = yaml.safe_load(path.read_text("utf-8")) or {}
    pairs: list[tuple[str, str]] = []
    for item in data.get("nlu") or []:
        if "intent" not in item:
            continue
        for line in str(item.get("examples", "")).splitlines():
            text = line.strip()
            if text.startswith("- "):
                text = text[2:].strip()
            if text:
                pairs.append((text, str(item["intent"])))
    return pairs


@dataclass(frozen=True)
class Existing:
    """What candidates are checked against: the training data and the held-out sets."""

    training: frozenset[str]  # normalised texts of data/nlu (every language)
    heldout: frozenset[str]  # normalised texts of every held-out set
    topics: Mapping[str, Mapping[str, str]]  # language -> intent -> topic (file stem)


def load_existing(
    data_dir: Path, heldout_files: Iterable[Path], extra: Iterable[Path] = ()
) -> Existing:
    """Read `data_dir/nlu/<lang>/*.yml`, the held-out files and any `extra` data."""
    training: set[str] = set()
    topics: dict[str, dict[str, str]] = {}
    for language in SUPPORTED:
        for path in sorted((data_dir / "nlu" / language).glob("*.yml")):
            for text, intent in nlu_examples(path):
                training.add(normalise(text))
                topics.setdefault(language, {}).setdefault(intent, path.stem)
    for path in extra:
        training.update(normalise(t) for t, _ in nlu_examples(path))
    heldout = {normalise(t) for p in heldout_files for t, _ in nlu_examples(p)}
    return Existing(frozenset(training), frozenset(heldout), topics)


@dataclass(frozen=True)
class Correction:
    """One reviewed correction (or a message marked "add as example")."""

    id: int
    text: str
    language: str | None
    intent: str
    entities: tuple[Mapping[str, object], ...] = ()
    username: str = ""
    conversation: str = ""  # the sender id of the conversation it came from


@dataclass(frozen=True)
class Candidate:
    """A training example to add: language, topic file, intent, annotated text."""

    language: str
    topic: str
    intent: str
    text: str  # with entity annotations, as it is written into the YAML
    source: str = ""  # "correction 12", or "model 20261130-0712" when carried over
    conversation: str = ""  # conversation_key() of its source conversation


@dataclass(frozen=True)
class Refusal:
    """A correction that does not become an example, and why."""

    correction: Correction
    reason: str


@dataclass
class Selection:
    """The outcome of :func:`select`."""

    candidates: list[Candidate] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def annotate(text: str, entities: Sequence[Mapping[str, object]]) -> str:
    """`text` with Rasa's inline entity annotations, e.g. "help in [Gdańsk](city)".

    A value that differs from the span is written in the dictionary form,
    `[Gdańsku]{"entity": "city", "value": "Gdańsk"}`. Spans that overlap, fall
    outside the text, name no entity, or hold a character of the annotation syntax
    (a placeholder such as `[PHONE]`) are left out.
    """
    parts: list[str] = []
    position = 0
    for entity in sorted(entities, key=lambda e: _int(e.get("start"))):
        start, end = _int(entity.get("start")), _int(entity.get("end"))
        name = str(entity.get("entity") or "").strip()
        if not _NAME.fullmatch(name) or start < position or end > len(text):
            continue
        span = text[start:end]
        if start >= end or span != span.strip() or _SYNTAX.search(span):
            continue
        value = entity.get("value")
        if value in (None, "", span) or _SYNTAX.search(str(value)):
            label = f"({name})"
        else:
            label = json.dumps(
                {"entity": name, "value": str(value)}, ensure_ascii=False
            )
        parts += [text[position:start], f"[{span}]{label}"]
        position = end
    parts.append(text[position:])
    return "".join(parts)


_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
# Characters that would end or open an annotation (or a YAML line) inside one.
_SYNTAX = re.compile(r"[\[\](){}\n\r\\\"]")


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return -1


def parse_entities(raw: str | None) -> tuple[Mapping[str, object], ...]:
    """The entities column (JSON list) as a tuple; empty when NULL or malformed."""
    if not raw:
        return ()
    try:
        value = json.loads(raw)
    except ValueError:
        return ()
    return (
        tuple(e for e in value if isinstance(e, dict))
        if isinstance(value, list)
        else ()
    )


def select(
    corrections: Iterable[Correction],
    existing: Existing,
    has_personal_data: Callable[[str], bool],
    carried: Iterable[Candidate] = (),
) -> Selection:
    """Candidates from the corrections, plus `carried` (a live model's examples).

    `has_personal_data` is the redactor's verdict (``bool(redactor.find(text))``);
    the core's default is `iom.core.redaction.default_redactor`. A correction wins
    over a carried example of the same text (an operator changed their mind).
    """
    result = Selection()
    pending: dict[str, tuple[Correction, Candidate]] = {}
    conflicting: set[str] = set()
    for correction in corrections:
        reason, candidate = _check(correction, existing, has_personal_data)
        if candidate is None:
            result.refused.append(Refusal(correction, reason))
            continue
        key = normalise(correction.text)
        if key in pending and pending[key][1].intent != candidate.intent:
            conflicting.add(key)
        elif key not in pending:
            pending[key] = (correction, candidate)
        else:
            result.refused.append(Refusal(correction, "repeats another correction"))
    for key, (correction, candidate) in pending.items():
        if key in conflicting:
            result.refused.append(
                Refusal(correction, "the same text was corrected to two intents")
            )
        else:
            result.candidates.append(candidate)
    for candidate in carried:
        key = normalise(candidate.text)
        if key in pending or key in existing.training or key in existing.heldout:
            continue
        if has_personal_data(candidate.text):
            continue
        pending[key] = (Correction(0, "", None, ""), candidate)
        result.candidates.append(candidate)
    return result


def _check(
    correction: Correction,
    existing: Existing,
    has_personal_data: Callable[[str], bool],
) -> tuple[str, Candidate | None]:
    text = " ".join(correction.text.split())
    language = correction.language or ""
    if not text or text.startswith("/"):
        return "empty text or a button click", None
    if _READS_AS_ANNOTATION.search(text):
        return "the text reads as an entity annotation ([…](…))", None
    if language not in SUPPORTED:
        return f"language {language or '?'} is not one the assistant speaks", None
    topic = existing.topics.get(language, {}).get(correction.intent)
    if topic is None:
        return f"no {language} training file holds intent {correction.intent}", None
    if has_personal_data(text):
        return "personal data the redactor did not replace", None
    key = normalise(text)
    if key in existing.heldout:
        return "a held-out message (would leak into training)", None
    if key in existing.training:
        return "already in the training data", None
    # Annotate before collapsing whitespace: the spans count the stored text.
    annotated = " ".join(annotate(correction.text, correction.entities).split())
    source = f"correction {correction.id}"
    key = conversation_key(correction.conversation)
    return "", Candidate(language, topic, correction.intent, annotated, source, key)


class _Literal(str):
    """A string dumped as a YAML block literal (`examples: |`)."""


class _NluDumper(yaml.SafeDumper):
    """PyYAML's safe dumper plus block literals, without changing SafeDumper."""


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")


_NluDumper.add_representer(_Literal, _literal)


def nlu_yaml(pairs: Iterable[tuple[str, str]]) -> str:
    """(text, intent) pairs as Rasa 3 NLU YAML (version 3.1, one block per intent).

    Whitespace is collapsed and a repeated text is kept once: the first of the texts
    that are the same without their entity annotations.
    """
    by_intent: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for text, intent in pairs:
        clean = " ".join(str(text).split())
        key = (intent, plain(clean))
        by_intent.setdefault(intent, [])
        if clean and key not in seen:
            seen.add(key)
            by_intent[intent].append(clean)
    data = {
        "version": "3.1",
        "nlu": [
            {"intent": intent, "examples": _Literal("".join(f"- {t}\n" for t in texts))}
            for intent, texts in sorted(by_intent.items())
            if texts
        ],
    }
    return yaml.dump(data, Dumper=_NluDumper, allow_unicode=True, sort_keys=False)


def write(candidates: Iterable[Candidate], staging: Path) -> list[Path]:
    """Write `staging/nlu/<lang>/<topic>.yml` files; the paths written."""
    files: dict[Path, list[tuple[str, str]]] = {}
    for c in candidates:
        files.setdefault(staging / "nlu" / c.language / f"{c.topic}.yml", []).append(
            (c.text, c.intent)
        )
    for path, pairs in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(nlu_yaml(pairs), "utf-8")
    return sorted(files)


def to_json(candidates: Iterable[Candidate]) -> list[dict[str, str]]:
    """Candidates as JSON-able dicts (stored with a model, carried to the next)."""
    return [
        {
            "language": c.language,
            "topic": c.topic,
            "intent": c.intent,
            "text": c.text,
            "source": c.source,
            "conversation": c.conversation,
        }
        for c in candidates
    ]


def from_json(items: Iterable[Mapping[str, str]], source: str) -> list[Candidate]:
    """Candidates read back from :func:`to_json` output, marked with `source`.

    The key of the source conversation is kept, so an example carried from model to
    model can still be erased.
    """
    return [
        Candidate(
            i["language"],
            i["topic"],
            i["intent"],
            i["text"],
            source,
            i.get("conversation", ""),
        )
        for i in items
    ]


def diff_summary(candidates: Sequence[Candidate]) -> dict[str, object]:
    """What a candidate model's data adds: counts per language and intent."""
    per: dict[str, dict[str, int]] = {}
    for c in candidates:
        per.setdefault(c.language, {}).setdefault(c.intent, 0)
        per[c.language][c.intent] += 1
    new = sum(1 for c in candidates if c.source.startswith("correction"))
    return {"examples": len(candidates), "new": new, "by_language": per}
