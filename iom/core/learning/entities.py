"""Entities an operator marks on a message, checked before they are stored.

On a conversation page an operator correcting a message (or adding it as an example)
may mark entities: a type from the domain (`city`, `topic`, ...) and the exact words
of the message, optionally with the value they stand for ("Gdańsku" -> "Gdańsk").
:func:`place` turns those marks into spans over the stored (redacted) text, the
`[{"start", "end", "entity", "value"?}]` that `console_corrections.entities` holds and
`iom.core.learning.examples.annotate` writes as Rasa annotations; or refuses them with
a reason the console shows.

Refused: a type the domain does not declare; words that are not in the message; words
that cover a redaction placeholder (`[PHONE]`) or personal data the redactor finds; a
value with characters beyond letters, digits, spaces and `. ' ’ -` (it is written into
the training data); two marks on the same words; more than :data:`MAX_MARKS`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from iom.core.redaction import PLACEHOLDERS, default_redactor

MAX_MARKS = 5
MAX_LENGTH = 100
_VALUE = re.compile(r"\w[\w .'’-]{0,63}")
_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in set(PLACEHOLDERS.values())))
# Characters of Rasa's annotation syntax: a span holding one could not be written.
_SYNTAX = re.compile(r"[\[\](){}\"\\\n\r]")


@dataclass(frozen=True)
class Mark:
    """What the operator typed: the entity type, the words, the value (optional)."""

    entity: str
    text: str
    value: str = ""


class MarkError(ValueError):
    """A mark that cannot be stored; the message says why (shown to the operator)."""


def domain_entities(domain: Mapping[str, Any]) -> list[str]:
    """The entity types a domain declares (`entities:`), sorted."""
    names = []
    for item in domain.get("entities") or []:
        name = item if isinstance(item, str) else next(iter(item), "")
        if isinstance(name, str) and name:
            names.append(name)
    return sorted(set(names))


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Where `text` holds a placeholder or personal data: no entity may cover it."""
    spans = [m.span() for m in _PLACEHOLDER.finditer(text)]
    spans += [(f.start, f.end) for f in default_redactor().find(text)]
    return spans


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start < b and a < end for a, b in spans)


def place(
    text: str, marks: Sequence[Mark], entity_types: Collection[str]
) -> tuple[dict[str, object], ...]:
    """The marks as spans over `text`, in text order; MarkError if one is refused.

    Words found more than once are taken at their first occurrence that no earlier
    mark holds, so two marks on "Kraków ... Kraków" take both.
    """
    if len(marks) > MAX_MARKS:
        raise MarkError(f"Mark at most {MAX_MARKS} entities per message.")
    protected = protected_spans(text)
    taken: list[tuple[int, int]] = []
    placed: list[dict[str, object]] = []
    for mark in marks:
        entity, words, value = mark.entity.strip(), mark.text.strip(), mark.value
        value = " ".join(value.split())
        if entity not in entity_types:
            raise MarkError("Choose an entity type from the domain.")
        if not words or len(words) > MAX_LENGTH:
            raise MarkError("Type the exact words of the message that name the entity.")
        if _SYNTAX.search(words):
            raise MarkError("The marked words cannot contain brackets or quotes.")
        start = _free_occurrence(text, words, taken)
        if start is None:
            if words in text:
                raise MarkError("The same words are marked twice.")
            raise MarkError("The marked words are not in the message (exactly).")
        end = start + len(words)
        if _overlaps(start, end, protected):
            raise MarkError("An entity cannot cover a placeholder or personal data.")
        if value and not _VALUE.fullmatch(value):
            raise MarkError(
                "A value may hold letters, digits, spaces and . ' - (64 at most)."
            )
        if value and default_redactor().find(value):
            raise MarkError("A value cannot be personal data.")
        span: dict[str, object] = {"start": start, "end": end, "entity": entity}
        if value and value != words:
            span["value"] = value
        taken.append((start, end))
        placed.append(span)
    return tuple(sorted(placed, key=lambda s: int(str(s["start"]))))


def _free_occurrence(
    text: str, words: str, taken: Sequence[tuple[int, int]]
) -> int | None:
    start = text.find(words)
    while start != -1:
        if not _overlaps(start, start + len(words), taken):
            return start
        start = text.find(words, start + 1)
    return None


def marks_of(text: str, spans: Iterable[Mapping[str, object]]) -> list[Mark]:
    """Stored or predicted spans as marks again (to fill the form with).

    Spans over a placeholder or personal data, and values that are personal data,
    are left out: they could not be saved, and the form would show what the page
    masks.
    """
    protected = protected_spans(text)
    marks = []
    for span in spans:
        start, end = span.get("start"), span.get("end")
        if not (isinstance(start, int) and isinstance(end, int)):
            continue
        if not 0 <= start < end <= len(text) or _overlaps(start, end, protected):
            continue
        words = text[start:end]
        value = span.get("value")
        if value is not None and default_redactor().find(str(value)):
            continue
        marks.append(
            Mark(
                str(span.get("entity") or ""),
                words,
                str(value) if value not in (None, "", words) else "",
            )
        )
    return marks
