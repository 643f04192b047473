"""Find and mask personal data in what users type, before it is stored.

The tracker store (`iom/rasa/tracker_store.py`) and the operator console
(`iom/console/masking.py`) use the same detector. It needs only the standard library,
python-phonenumbers and python-stdnum, so it also runs in the console's venv.

- phone numbers: python-phonenumbers, on digit windows only;
- e-mail addresses, IBANs, PESEL and payment cards: presidio-analyzer 2.2.360's
  patterns (`patterns.py`), checked with python-stdnum: mod 97-10, the PESEL check
  digit, Luhn (`checks.py`); e-mail addresses are not looked up anywhere;
- Polish bank accounts (NRB), Polish ID cards and passports with their check digits,
  and other document numbers next to a word such as "paszport", "passport", "dowód"
  or "karta pobytu".

Numbers and addresses that the bot itself gives (the contact directory) are kept, so
"I called 22 628 01 20" stays readable for operators.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import phonenumbers
import yaml

from iom.core import settings
from iom.core.redaction.checks import (
    valid_card,
    valid_email,
    valid_iban,
    valid_id_card,
    valid_nrb,
    valid_passport,
    valid_pesel,
)
from iom.core.redaction.patterns import (
    ANY_IBAN,
    CARD,
    DATE_OR_TIME,
    DOCUMENT,
    DOCUMENT_CONTEXT,
    EMAIL,
    ID_CARD,
    NRB,
    PASSPORT,
    PESEL,
    PHONE_CANDIDATE,
    fold,
    iban_spans,
)

__all__ = [
    "DATE_OR_TIME",
    "DIRECTORY",
    "DOCUMENT_CONTEXT",
    "PHONE_CANDIDATE",
    "PHONE_REGIONS",
    "PLACEHOLDERS",
    "PRIORITY",
    "ROOT",
    "Finding",
    "Redactor",
    "apply",
    "default_redactor",
    "directory_contacts",
    "iter_strings",
    "overlaps",
    "phone_spans",
    "valid_card",
    "valid_email",
    "valid_iban",
    "valid_id_card",
    "valid_nrb",
    "valid_passport",
    "valid_pesel",
]

ROOT = settings.ROOT
DIRECTORY = ROOT / "knowledge" / "contacts.yml"

# National formats (without +CC) of Poland and Ukraine; any country's number written
# with "+" or "00" is recognised whatever the region.
PHONE_REGIONS = ("PL", "UA")

# Label written in place of each kind of personal data (language-neutral).
PLACEHOLDERS = {
    "PESEL": "[PESEL]",
    "IBAN": "[ACCOUNT]",
    "ACCOUNT": "[ACCOUNT]",
    "CARD": "[CARD]",
    "ID_CARD": "[ID_CARD]",
    "PASSPORT": "[PASSPORT]",
    "EMAIL": "[EMAIL]",
    "PHONE": "[PHONE]",
    "DOCUMENT": "[DOCUMENT]",
}
# When two findings overlap, the earlier kind in PLACEHOLDERS wins (a PESEL is
# also a plausible phone number; an IBAN contains an NRB; a 9-digit number next to
# "paszport" that dials is a phone).
PRIORITY = {kind: rank for rank, kind in enumerate(PLACEHOLDERS)}


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its kind and where it is in the text."""

    kind: str
    start: int
    end: int

    @property
    def placeholder(self) -> str:
        """What is stored in its place, e.g. `[PHONE]`."""
        return PLACEHOLDERS[self.kind]


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _national_number(value: str) -> str:
    """A phone number's national significant number, or its digits."""
    try:
        return str(phonenumbers.parse(value, "PL").national_number)
    except phonenumbers.NumberParseException:
        return _digits(value)


class Redactor:
    """Finds personal data in a text and replaces it with placeholders."""

    def __init__(
        self,
        allowed_phones: Iterable[str] = (),
        allowed_emails: Iterable[str] = (),
    ) -> None:
        self.allowed_phones = {_national_number(p) for p in allowed_phones}
        self.allowed_emails = {e.strip().lower() for e in allowed_emails}

    def find(self, text: str) -> list[Finding]:
        """Personal data in `text`, left to right, overlaps resolved."""
        if not text or not any(c.isdigit() or c == "@" for c in text):
            return []
        checks: list[tuple[str, re.Pattern[str], Callable[[str], bool]]] = [
            ("PESEL", PESEL, valid_pesel),
            ("IBAN", ANY_IBAN, valid_iban),
            ("CARD", CARD, valid_card),
            ("ACCOUNT", NRB, valid_nrb),
            ("ID_CARD", ID_CARD, valid_id_card),
            ("PASSPORT", PASSPORT, valid_passport),
        ]
        if "@" in text:
            checks.append(("EMAIL", EMAIL, self._is_personal_email))
        if DOCUMENT_CONTEXT.search(text):
            checks.append(("DOCUMENT", DOCUMENT, self._is_free_document_number))
        folded = fold(text)  # same length: spans are the same in both
        found = [Finding("IBAN", *span) for span in iban_spans(folded, text)]
        for kind, pattern, check in checks:
            for match in pattern.finditer(folded):
                if check(text[match.start() : match.end()]):
                    found.append(Finding(kind, *match.span()))
        for start, end in phone_spans(text):
            value = text[start:end]
            if DATE_OR_TIME.fullmatch(value.strip()):
                continue
            if _national_number(value) not in self.allowed_phones:
                found.append(Finding("PHONE", start, end))
        return _resolve_overlaps(found)

    def redact(self, text: str) -> str:
        """`text` with each finding replaced by its placeholder."""
        return apply(text, self.find(text))

    def _is_personal_email(self, value: str) -> bool:
        return valid_email(value) and value.strip().lower() not in self.allowed_emails

    def _is_free_document_number(self, value: str) -> bool:
        # A year range or a directory phone next to "dokument" is not a document.
        return _national_number(value) not in self.allowed_phones


def phone_spans(text: str) -> set[tuple[int, int]]:
    """Valid phone numbers (python-phonenumbers, VALID leniency) in `text`."""
    spans: set[tuple[int, int]] = set()
    for candidate in PHONE_CANDIDATE.finditer(text):
        window = candidate.group()
        for region in PHONE_REGIONS:
            for match in phonenumbers.PhoneNumberMatcher(
                window, region, leniency=phonenumbers.Leniency.VALID
            ):
                offset = candidate.start()
                spans.add((offset + match.start, offset + match.end))
    return spans


def _resolve_overlaps(found: list[Finding]) -> list[Finding]:
    ordered = sorted(found, key=lambda f: (PRIORITY[f.kind], f.start, -f.end))
    kept: list[Finding] = []
    for finding in ordered:
        if all(finding.end <= k.start or finding.start >= k.end for k in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)


def apply(text: str, findings: Iterable[Finding]) -> str:
    """Replace the findings (non-overlapping) in `text` with placeholders."""
    parts: list[str] = []
    position = 0
    for finding in sorted(findings, key=lambda f: f.start):
        parts.append(text[position : finding.start])
        parts.append(finding.placeholder)
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


def overlaps(start: int, end: int, findings: Iterable[Finding]) -> bool:
    """Whether the span [start, end) touches any finding."""
    return any(start < f.end and f.start < end for f in findings)


def directory_contacts(path: Path = DIRECTORY) -> tuple[list[str], list[str]]:
    """The phone numbers and e-mail addresses the bot gives (knowledge/contacts.yml)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    phones: list[str] = []
    emails: list[str] = []
    for contact in data.get("contacts", []):
        phones += [str(p.get("number", "")) for p in contact.get("phones") or []]
        emails += [str(e.get("address", "")) for e in contact.get("emails") or []]
    return [p for p in phones if p], [e for e in emails if e]


@lru_cache(maxsize=1)
def default_redactor() -> Redactor:
    """A redactor that keeps the contact directory's own numbers and addresses."""
    phones, emails = directory_contacts()
    return Redactor(allowed_phones=phones, allowed_emails=emails)


def iter_strings(value: object) -> Iterator[str]:
    """Every string inside a JSON-like value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from iter_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from iter_strings(item)
