r"""Regular expressions for the redactor (standard library `re` only).

The e-mail, payment-card and IBAN patterns are presidio-analyzer 2.2.360's
(`EmailRecognizer`, `CreditCardRecognizer`, `IbanRecognizer`), rewritten for speed
with the same matches. presidio ran them with the third-party `regex` module, whose
`\w` also takes marks, connector punctuation, joiners and circled letters but not
other numbers such as "²", and whose `\s` leaves out \x1c-\x1f: `fold` rewrites a
text into `re`'s terms, one character for one, so every span stays the same.

Each pattern looks at the character before a match after the match's first
character ("(?<!\w.)" after a letter or digit is "\b" before it), so that `re` can
skip ahead to that first character.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from itertools import chain

from iom.core.redaction.checks import valid_iban_start

# Digit runs that may hold a phone number; only these windows go to phonenumbers,
# which would otherwise take seconds on a 20,000-character message full of digits.
PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d\s().\-/]{5,22}\d(?!\w)")

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

# PESEL: a valid month (+20, +40, ... by century) and day, bounded by non-digits.
PESEL = re.compile(
    r"(?<!\d)\d{2}(?:[02468][1-9]|[13579][012])(?:0[1-9]|[12]\d|3[01])\d{5}(?!\d)"
)
# Polish account number (NRB): 26 digits, grouped 2 + 6 x 4 or not at all.
NRB = re.compile(r"(?<!\d)\d{2}(?:[ -]?\d{4}){6}(?!\d)")
EMAIL = re.compile(
    r"\b[!#$%&'*+\-/=?^_`{|}~\w](?:[!#$%&'*+\-/=?^_`{|}~.\w]*[!#$%&'*+\-/=?^_`{|}~\w])?"
    r"@\w+(?:[-.]\w+)*\.\w+(?:[-.]\w+)*\b"
)
# 4, 5[0-5], 6, 1 or 3 and 12-16 more digits in groups; not 1 and 12 digits.
CARD = re.compile(
    r"(?:[346]|1(?!\d{12}(?!\d))|5(?=[0-5]))(?<!\w.)\d{3}"
    r"[- ]?\d{3,4}[- ]?\d{3,4}[- ]?\d{3,5}\b"
)
# Country, check digits, groups of 3-5: the match is cut after the last group that
# makes it an IBAN (`iban_spans`).
IBAN = re.compile(
    r"([A-Z](?<!\w.)[A-Z][ \-]?[0-9]{2})(?=(?:[ \-]?[A-Z0-9]){9,30})"
    r"((?:[ \-]?[A-Z0-9]{3,5}){2})"
    + r"([ \-]?[A-Z0-9]{3,5})?" * 5
    + r"([ \-]?[A-Z0-9]{1,3})?\b"
)
# Any country's IBAN in groups of four (Ukraine's, which presidio's table lacked).
ANY_IBAN = re.compile(
    r"[A-Z](?<![\w-].)[A-Z]\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}"
    r"(?:[ -]?[A-Z0-9]{1,3})?(?![\w-])"
)
ID_CARD = re.compile(r"[A-Za-z](?<![\w-].)[A-Za-z]{2}\s?\d{6}(?![\w-])")
PASSPORT = re.compile(r"[A-Za-z](?<![\w-].)[A-Za-z]\s?\d{7}(?![\w-])")
# Letters then digits, 7-10 characters in all (passports, ID cards, residence cards,
# Ukrainian ID numbers), or 9-11 digits (a PESEL with a typo); counted only with a
# context word.
DOCUMENT = re.compile(
    r"(?:[A-ZА-ЯІЇЄ](?<![\w-].)[A-ZА-ЯІЇЄ]{0,2}\s?\d{6,9}|\d(?<![\w-].)\d{8,10})(?![\w-])"
)

_AS_LETTER = "ß"  # a word character that no pattern names
_AS_SYMBOL = "§"  # neither a word character nor a space, named by no pattern
# Circled and squared Latin letters (symbols, but alphabetic), and the two joiners.
_OTHER_LETTERS = (
    (0x24B6, 0x24E9),
    (0x1F130, 0x1F149),
    (0x1F150, 0x1F169),
    (0x1F170, 0x1F189),
    (0x200C, 0x200D),
)


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    table = {code: _AS_SYMBOL for code in range(0x1C, 0x20)}
    # Unicode has no marks or other numbers past 0x32000 but E0100-E01EF.
    for code in chain(range(0x32000), range(0xE0100, 0xE01F0)):
        category = unicodedata.category(chr(code))
        if category[0] == "M" or (category == "Pc" and code != ord("_")):
            table[code] = _AS_LETTER
        elif category == "No":
            table[code] = _AS_SYMBOL
    for first, last in _OTHER_LETTERS:
        table.update(dict.fromkeys(range(first, last + 1), _AS_LETTER))
    return table


def fold(text: str) -> str:
    """`text` with the word characters and spaces of the `regex` module, for `re`."""
    return text.translate(_fold_table())


def iban_spans(folded: str, text: str) -> Iterator[tuple[int, int]]:
    """IBANs as presidio's IbanRecognizer cut them: the longest valid group prefix."""
    for match in IBAN.finditer(folded):
        for group in range(IBAN.groups, 0, -1):
            end = match.end(group) if match.end(group) > 0 else match.end()
            if valid_iban_start(text[match.start() : end]):
                yield match.start(), end
                break
