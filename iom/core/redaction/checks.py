"""Check digits of the numbers the redactor looks for.

python-stdnum does the arithmetic where it has it: ISO 7064 mod 97-10 (IBAN and the
Polish NRB, which is an IBAN without "PL"), the PESEL check digit and Luhn (payment
cards); its IBAN registry gives each country's account format. Hand-written, because
stdnum has no module for them: the Polish ID card and passport check digits.
"""

from __future__ import annotations

import re
from functools import lru_cache

from stdnum import luhn, numdb
from stdnum.iso7064 import mod_97_10
from stdnum.pl import pesel

# stdnum's IBAN registry: each country's account format, e.g. PL: 8!n16!n.
_IBAN_REGISTRY = numdb.get("iban")
# The countries of presidio-analyzer 2.2.360's IBAN table, which the IBAN pattern
# with groups of 3-5 was limited to. The other 19 countries of stdnum's registry
# (UA, RU, EG, ...) are found in groups of four (`valid_iban`), as before.
PRESIDIO_IBAN_COUNTRIES = frozenset(
    "AD AE AL AT AZ BA BE BG BH BR BY CH CR CY CZ DE DK DO EE ES FI FO FR GB GE GI "
    "GL GR GT HR HU IE IL IS IT JO KW KZ LB LI LT LU LV MC MD ME MK MR MT MU NL NO "
    "PK PL PS PT QA RO RS SA SE SI SK SM TL TN TR VA VG XK".split()
)


def _ascii_digits(value: str) -> str:
    # `\d` also matches other scripts' digits (Arabic-Indic, ...); stdnum wants 0-9.
    return "".join(str(int(c)) if c.isdecimal() else c for c in value)


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
    """PESEL: 11 digits and the right check digit (`stdnum.pl.pesel`).

    The birth date is not checked (`pesel.is_valid` would): a mistyped date with the
    right check digit is still someone's PESEL.
    """
    if not re.fullmatch(r"\d{11}", value):
        return False
    digits = _ascii_digits(value)
    return pesel.calc_check_digit(digits[:10]) == digits[10]


def _mod97(compact: str) -> bool:
    """ISO 13616: mod 97-10 over the account part, the country and check digits."""
    return mod_97_10.is_valid(_ascii_digits(compact[4:] + compact[:4]))


def valid_iban(value: str) -> bool:
    """Any country's IBAN (mod 97-10), including Ukraine's."""
    compact = re.sub(r"[\s-]", "", value).upper()
    return bool(re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact)) and _mod97(
        compact
    )


@lru_cache(maxsize=1024)  # two capital letters: 676 at most
def _account_format(country: str) -> re.Pattern[str] | None:
    """How `country`'s account part starts (stdnum's IBAN registry), if it has IBANs."""
    structure = _IBAN_REGISTRY.info(country + "00")[0][1].get("bban", "")
    kinds = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Za-z0-9]"}
    parts = re.findall(r"(\d+)!([nac])", structure)
    if not parts:
        return None
    return re.compile("".join(f"{kinds[kind]}{{{n}}}" for n, kind in parts))


def valid_iban_start(value: str) -> bool:
    """An IBAN of one of presidio's countries, perhaps with more after it.

    As presidio checked: the country's format at the start of the value (its table
    was matched against the start only) and the whole value mod 97.
    """
    compact = value.replace("-", "").replace(" ", "")
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+", compact):
        return False
    if compact[:2] not in PRESIDIO_IBAN_COUNTRIES:
        return False
    account = _account_format(compact[:2])
    return account is not None and bool(account.match(compact[4:])) and _mod97(compact)


def valid_nrb(value: str) -> bool:
    """Polish bank account number (NRB, 26 digits): the IBAN check with "PL"."""
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"\d{26}", digits):
        return False
    digits = _ascii_digits(digits)
    return mod_97_10.is_valid(digits[2:] + "PL" + digits[:2])


def valid_card(value: str) -> bool:
    """Payment card number: digits, spaces and dashes, and the Luhn check (stdnum)."""
    digits = value.replace("-", "").replace(" ", "")
    return digits.isdecimal() and luhn.is_valid(_ascii_digits(digits))


def valid_email(value: str) -> bool:
    """An address the e-mail pattern found: a dot in the domain, nothing looked up.

    presidio's check used tldextract, which downloads the public suffix list.
    """
    return "." in value.rsplit("@", 1)[-1]
