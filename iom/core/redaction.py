"""Find and mask personal data in what users type, before it is stored.

Detection is python-phonenumbers for phone numbers (on digit windows only) and
presidio-analyzer's recognizers used on their own (no NLP engine, so no spaCy model
and nothing downloaded): presidio's e-mail, IBAN, PESEL and payment-card recognizers
(with their checksums), and pattern recognizers written here for Polish bank
accounts (NRB, mod 97), Polish ID cards and passports (their check digits) and other
document numbers next to a word such as "paszport", "passport", "dowód" or
"karta pobytu".

Numbers and addresses that the bot itself gives (the contact directory) are kept, so
"I called 22 628 01 20" stays readable for operators.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import phonenumbers
import yaml
from presidio_analyzer import (
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    PlPeselRecognizer,
)

from iom.core import settings

ROOT = settings.ROOT
DIRECTORY = ROOT / "knowledge" / "contacts.yml"

# National formats (without +CC) of Poland and Ukraine; any country's number written
# with "+" or "00" is recognised whatever the region.
PHONE_REGIONS = ("PL", "UA")
# Digit runs that may hold a phone number; only these windows go to phonenumbers,
# which would otherwise take seconds on a 20,000-character message full of digits.
PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d\s().\-/]{5,22}\d(?!\w)")

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

# phonenumbers' lenient matcher also accepts dates such as 12.03.2024.
DATE_OR_TIME = re.compile(
    r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}(?:\s+\d{1,2}[:.]\d{2})?|\d{1,2}[:.]\d{2}(?:\s*-\s*\d{1,2}[:.]\d{2})?"
)

# A document number counts without a check digit only next to one of these words.
DOCUMENT_CONTEXT = re.compile(
    r"paszport|passport|dow[oó]d|id[ -]?card|identity card|karta pobytu|kart[ayę] "
    r"pobytu|residence card|residence permit|document|dokument|legitymacj|visa|wiz[ay]"
    r"|numer seri|serial number|nr seri|pesel|паспорт|посвідк|документ",
    re.IGNORECASE,
)


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


def _letter_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char.upper()) - ord("A") + 10


def _weighted_check(value: str, weights: tuple[int, ...]) -> bool:
    """Polish document check: the weighted sum, check digit included, ends in 0."""
    if len(value) != len(weights):
        return False
    return (
        sum(_letter_value(c) * w for c, w in zip(value, weights, strict=False)) % 10
        == 0
    )


def valid_id_card(value: str) -> bool:
    """Polish ID card (dowód osobisty): ABC + check digit + 5 digits."""
    value = value.replace(" ", "").upper()
    return bool(re.fullmatch(r"[A-Z]{3}\d{6}", value)) and _weighted_check(
        value, (7, 3, 1, 9, 7, 3, 1, 7, 3)
    )


def valid_passport(value: str) -> bool:
    """Polish passport: AB + check digit + 6 digits."""
    value = value.replace(" ", "").upper()
    return bool(re.fullmatch(r"[A-Z]{2}\d{7}", value)) and _weighted_check(
        value, (7, 3, 9, 1, 7, 3, 1, 7, 3)
    )


def valid_pesel(value: str) -> bool:
    """PESEL: 11 digits, check digit (10 - weighted sum mod 10) mod 10."""
    if not re.fullmatch(r"\d{11}", value):
        return False
    weights = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    total = sum(int(d) * w for d, w in zip(value, weights, strict=False))
    return (10 - total % 10) % 10 == int(value[10])


def valid_iban(value: str) -> bool:
    """Any country's IBAN (ISO 13616 mod 97).

    Covers countries presidio's per-country table lacks, such as Ukraine.
    """
    compact = re.sub(r"[\s-]", "", value).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def valid_nrb(value: str) -> bool:
    """Polish bank account number (NRB, 26 digits): the IBAN mod-97 check."""
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"\d{26}", digits):
        return False
    return int(digits[2:] + "2521" + digits[:2]) % 97 == 1  # "PL" = 25 21


class _CheckedPattern(PatternRecognizer):
    """A pattern recognizer whose matches must pass `check`."""

    def __init__(self, entity: str, regex: str, check, name: str) -> None:
        super().__init__(
            supported_entity=entity,
            patterns=[Pattern(name, regex, 0.5)],
            name=name,
            supported_language="pl",
            global_regex_flags=re.DOTALL | re.MULTILINE,
        )
        self._check = check

    def validate_result(self, pattern_text: str) -> bool | None:
        return bool(self._check(pattern_text))


class _PeselRecognizer(PlPeselRecognizer):
    """presidio's PESEL pattern, bounded by non-digits, with the right check digit.

    presidio-analyzer 2.2.360 compares `sum % 10` with the check digit and so
    rejects real PESELs such as 44051401458; fixed upstream in
    data-privacy-stack/presidio#1998 (after the last release that installs beside
    Rasa 3.6's spaCy 3.4).
    """

    PATTERNS = [
        Pattern(
            "PESEL",
            r"(?<!\d)\d{2}(?:[02468][1-9]|[13579][012])(?:0[1-9]|[12]\d|3[01])\d{5}(?!\d)",
            0.5,
        )
    ]

    def validate_result(self, pattern_text: str) -> bool:
        return valid_pesel(pattern_text)


class _OfflineEmailRecognizer(EmailRecognizer):
    """presidio's e-mail pattern without its tldextract check.

    tldextract would fetch the public suffix list over the network.
    """

    def validate_result(self, pattern_text: str) -> bool | None:
        return "." in pattern_text.rsplit("@", 1)[-1]


def _document_recognizer() -> PatternRecognizer:
    # Letters then digits, 7-10 characters in all (passports, ID cards, residence
    # cards, Ukrainian ID numbers), or 9-11 digits (a PESEL with a typo); counted only
    # with a context word.
    return PatternRecognizer(
        supported_entity="DOCUMENT",
        patterns=[
            Pattern(
                "document",
                r"(?<![\w-])(?:[A-ZА-ЯІЇЄ]{1,3}\s?\d{6,9}|\d{9,11})(?![\w-])",
                0.3,
            )
        ],
        name="DocumentNumberRecognizer",
        supported_language="pl",
        global_regex_flags=re.DOTALL | re.MULTILINE,  # series letters: capitals
    )


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
        self._recognizers: list[tuple[str, EntityRecognizer]] = [
            ("PESEL", _PeselRecognizer()),
            ("IBAN", IbanRecognizer()),
            (
                "IBAN",
                _CheckedPattern(
                    "IBAN",
                    r"(?<![\w-])[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}"
                    r"(?:[ -]?[A-Z0-9]{1,3})?(?![\w-])",
                    valid_iban,
                    "AnyIbanRecognizer",
                ),
            ),
            ("CARD", CreditCardRecognizer()),
            ("EMAIL", _OfflineEmailRecognizer()),
            (
                "ACCOUNT",
                _CheckedPattern(
                    "ACCOUNT",
                    r"(?<!\d)\d{2}(?:[ -]?\d{4}){6}(?!\d)",
                    valid_nrb,
                    "PlNrbRecognizer",
                ),
            ),
            (
                "ID_CARD",
                _CheckedPattern(
                    "ID_CARD",
                    r"(?<![\w-])[A-Za-z]{3}\s?\d{6}(?![\w-])",
                    valid_id_card,
                    "PlIdCardRecognizer",
                ),
            ),
            (
                "PASSPORT",
                _CheckedPattern(
                    "PASSPORT",
                    r"(?<![\w-])[A-Za-z]{2}\s?\d{7}(?![\w-])",
                    valid_passport,
                    "PlPassportRecognizer",
                ),
            ),
        ]
        self._document = _document_recognizer()

    def find(self, text: str) -> list[Finding]:
        """Personal data in `text`, left to right, overlaps resolved."""
        if not text or not any(c.isdigit() or c == "@" for c in text):
            return []
        found: list[Finding] = []
        for kind, recognizer in self._recognizers:
            for result in _analyze(recognizer, text, recognizer.supported_entities):
                if kind == "EMAIL" and self._allowed_email(
                    text[result.start : result.end]
                ):
                    continue
                found.append(Finding(kind, result.start, result.end))
        for start, end in phone_spans(text):
            value = text[start:end]
            if DATE_OR_TIME.fullmatch(value.strip()):
                continue
            if _national_number(value) not in self.allowed_phones:
                found.append(Finding("PHONE", start, end))
        if DOCUMENT_CONTEXT.search(text):
            for result in _analyze(self._document, text, ["DOCUMENT"]):
                if self._is_free_document_number(text[result.start : result.end]):
                    found.append(Finding("DOCUMENT", result.start, result.end))
        return _resolve_overlaps(found)

    def redact(self, text: str) -> str:
        """`text` with each finding replaced by its placeholder."""
        return apply(text, self.find(text))

    def _allowed_email(self, value: str) -> bool:
        return value.strip().lower() in self.allowed_emails

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


def _analyze(
    recognizer: EntityRecognizer, text: str, entities: list[str]
) -> list[RecognizerResult]:
    # Recognizers only, no NLP engine: there are no NLP artifacts to pass.
    return recognizer.analyze(text, entities, None)  # type: ignore[arg-type]


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
