"""Redaction of personal data before storage (iom/core/redaction.py): 60 realistic messages.

Each row is what a user might type and what may be stored. The second table holds
false positives that must stay: years, dates, times, money, street numbers, postal
codes, and the hotline numbers and addresses the bot itself gives.
"""

from __future__ import annotations

import subprocess
import sys
import unicodedata

import pytest

from iom.core.redaction import (
    Redactor,
    default_redactor,
    directory_contacts,
    valid_card,
    valid_iban,
    valid_id_card,
    valid_nrb,
    valid_passport,
    valid_pesel,
)
from tests.conftest import ROOT

REDACT = [
    # phones, Polish and foreign, in the forms people type them
    (
        "Mój numer to 512 345 678, proszę oddzwonić",
        "Mój numer to [PHONE], proszę oddzwonić",
    ),
    ("call me at +48 600-100-200", "call me at [PHONE]"),
    ("my Ukrainian number is +380 67 123 4567", "my Ukrainian number is [PHONE]"),
    ("tel. 601234567", "tel. [PHONE]"),
    ("zadzwoń do mnie 0048 501 234 567", "zadzwoń do mnie [PHONE]"),
    ("numer stacjonarny (22) 123 45 67", "numer stacjonarny [PHONE]"),
    ("my wife's phone: +375 29 123-45-67", "my wife's phone: [PHONE]"),
    (
        "он забрал телефон, мой номер +7 912 345-67-89",
        "он забрал телефон, мой номер [PHONE]",
    ),
    ("szef dzwoni z 733 222 111 i grozi", "szef dzwoni z [PHONE] i grozi"),
    ("WhatsApp +995 555 12 34 56", "WhatsApp [PHONE]"),
    (
        "My number +91 98765 43210, I am from India",
        "My number [PHONE], I am from India",
    ),
    ("oddzwońcie: 512-345-678 lub 22 123 45 67", "oddzwońcie: [PHONE] lub [PHONE]"),
    # e-mail addresses
    ("my email is anna.kowalska@gmail.com", "my email is [EMAIL]"),
    ("napisz na jan_nowak85@wp.pl proszę", "napisz na [EMAIL] proszę"),
    ("Email: OLENA.SHEVCHENKO@ukr.net", "Email: [EMAIL]"),
    ("kontakt: m.kowalczyk+praca@o2.pl, dziękuję", "kontakt: [EMAIL], dziękuję"),
    # PESEL (check digit right; with a typo only next to the word PESEL)
    ("PESEL: 44051401458", "PESEL: [PESEL]"),
    ("mój pesel 02070803628 a dziecka nie ma", "mój pesel [PESEL] a dziecka nie ma"),
    ("urodzony 44051401458", "urodzony [PESEL]"),
    ("PESEL 90010112345", "PESEL [DOCUMENT]"),
    # bank accounts
    ("konto PL61 1090 1014 0000 0712 1981 2874", "konto [ACCOUNT]"),
    ("nr konta 61 1090 1014 0000 0712 1981 2874", "nr konta [ACCOUNT]"),
    ("przelej na 61109010140000071219812874", "przelej na [ACCOUNT]"),
    ("IBAN: DE89 3704 0044 0532 0130 00", "IBAN: [ACCOUNT]"),
    ("my salary goes to UA213223130000026007233566001", "my salary goes to [ACCOUNT]"),
    # payment cards (Luhn)
    ("card 4111 1111 1111 1111", "card [CARD]"),
    ("karta 5500-0000-0000-0004 zablokowana", "karta [CARD] zablokowana"),
    # Polish ID cards and passports (check digits), other documents with context
    ("dowód ABS123456", "dowód [ID_CARD]"),
    ("my ID card number is ABS 123456", "my ID card number is [ID_CARD]"),
    ("seria i numer ABA300000", "seria i numer [ID_CARD]"),
    ("paszport ZS0000177", "paszport [PASSPORT]"),
    ("passport number FE123456", "passport number [DOCUMENT]"),
    ("karta pobytu RP1234567", "karta pobytu [DOCUMENT]"),
    ("numer paszportu: EK 123456", "numer paszportu: [DOCUMENT]"),
    ("паспорт КН123456", "паспорт [DOCUMENT]"),
    (
        "Pracodawca zabrał mi paszport, numer AB1234567, i nie płaci",
        "Pracodawca zabrał mi paszport, numer [DOCUMENT], i nie płaci",
    ),
    ("my residence permit no. 001234567", "my residence permit no. [DOCUMENT]"),
    # several at once
    (
        "I'm Olena, phone 512 345 678, email olena@gmail.com",
        "I'm Olena, phone [PHONE], email [EMAIL]",
    ),
    (
        "PESEL 44051401458, tel 600100200, paszport ZS0000177",
        "PESEL [PESEL], tel [PHONE], paszport [PASSPORT]",
    ),
]

KEEP = [
    "I was born in 1995 and came in 2022",
    "mieszkam na ul. Mokotowskiej 12/4, 00-640 Warszawa",
    "the office at Aleje Ujazdowskie 1/3",
    "kod pocztowy 00-950",
    "spotkanie 12.03.2024 o 10:30",
    "termin w urzędzie: 2024-05-17",
    "urząd czynny 8:00-16:00",
    "mam 25 lat i pracuję 12 godzin dziennie",
    "zarabiam 3500 zł miesięcznie, a obiecali 5 000",
    "I paid 1 500 PLN for the job offer",
    "dokumenty złożyłam 3 miesiące temu",
    "ile kosztuje karta pobytu? 340 zł",
    "sprawa nr WSC-II-P.6151.12345.2023",
    "I have 2 children aged 5 and 7",
    "flight LO 3921 on 15/06",
    # numbers and addresses the bot itself gives (knowledge/contacts.yml)
    "dzwoniłem na 112",
    "I called 22 628 01 20 yesterday",
    "KCIK +48 22 628 01 20 nie odbiera",
    "numer 801 002 006 jest zajęty",
    "dzwoniłam na 800 012 948",
    "116 123 – telefon zaufania",
    "napisałam do iomwarsaw@iom.int",
    "wysłałem maila na info@kcik.pl",
    "no digits at all, just help me please 🙏",
]


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return default_redactor()


@pytest.mark.parametrize(("text", "stored"), REDACT)
def test_personal_data_is_replaced(redactor: Redactor, text: str, stored: str) -> None:
    assert redactor.redact(text) == stored


@pytest.mark.parametrize("text", KEEP)
def test_false_positives_stay(redactor: Redactor, text: str) -> None:
    assert redactor.redact(text) == text


def test_sixty_examples() -> None:
    assert len(REDACT) + len(KEEP) >= 60


def test_directory_numbers_are_the_allow_list() -> None:
    phones, emails = directory_contacts()
    assert "112" in phones and "+48226280120" in phones
    assert "iomwarsaw@iom.int" in emails
    # without the allow list, the bot's own hotline would be masked
    assert Redactor().redact("I called 22 628 01 20") == "I called [PHONE]"


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (valid_pesel, "44051401458", "44051401459"),
        (valid_id_card, "ABS123456", "ABS123457"),
        (valid_passport, "ZS0000177", "ZS0000178"),
        (
            valid_nrb,
            "61 1090 1014 0000 0712 1981 2874",
            "61 1090 1014 0000 0712 1981 2875",
        ),
        (valid_card, "4111 1111 1111 1111", "4111 1111 1111 1112"),
        (valid_card, "5500-0000-0000-0004", "5500-0000-0000-0005"),
        (valid_iban, "DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 01"),
    ],
)
def test_check_digits(check, good: str, bad: str) -> None:
    assert check(good) and not check(bad)


def test_long_message_is_redacted(redactor: Redactor) -> None:
    text = ("praca " * 3000) + "512 345 678"
    assert redactor.redact(text).endswith("[PHONE]")


def test_any_country_iban() -> None:
    from iom.core.redaction import valid_iban

    assert valid_iban("UA213223130000026007233566001")
    assert valid_iban("PL61 1090 1014 0000 0712 1981 2874")
    assert not valid_iban("UA213223130000026007233566002")


# The checks behind each kind (python-stdnum since presidio-analyzer was dropped): a
# wrong check digit is kept, the right one masked.
CHECKED = [
    ("card 4111 1111 1111 1111", "card [CARD]"),
    ("card 4111 1111 1111 1112", "card 4111 1111 1111 1112"),
    (
        "karta 4111-1111-1111-1111 i 4111-1111-1111-1112",
        "karta [CARD] i 4111-1111-1111-1112",
    ),
    ("karta 4111111111111111², ważna do 12/27", "karta [CARD]², ważna do 12/27"),
    ("IBAN DE89 3704 0044 0532 0130 01", "IBAN DE89 3704 0044 0532 0130 01"),
    ("IBAN: DE 89 3704 0044 0532 0130 00", "IBAN: [ACCOUNT]"),
    ("UA21 3223 1300 0002 6007 2335 6600 1", "[ACCOUNT]"),
    ("UA21 3223 1300 0002 6007 2335 6600 2", "UA21 3223 1300 0002 6007 2335 6600 2"),
    ("urodzony 44051401459", "urodzony 44051401459"),
    # 31 February: the check digit is right, the date is not; still someone's PESEL
    ("urodzony 90023112347", "urodzony [PESEL]"),
    # e-mail: any top-level domain, nothing looked up; no dot after "@" is no address
    ("olena@example.museum", "[EMAIL]"),
    ("pisz na x.y@bank.technology", "pisz na [EMAIL]"),
    ("олена@пошта.укр", "[EMAIL]"),
    ("a@localhost 12", "a@localhost 12"),
    # the directory's own addresses, in any case
    ("INFO@KCIK.PL nie odpisuje", "INFO@KCIK.PL nie odpisuje"),
    ("pisałam do IOMWarsaw@iom.int", "pisałam do IOMWarsaw@iom.int"),
]


@pytest.mark.parametrize(("text", "stored"), CHECKED)
def test_check_digits_decide(redactor: Redactor, text: str, stored: str) -> None:
    assert redactor.redact(text) == stored


def test_decomposed_letters_stay_inside_the_address(redactor: Redactor) -> None:
    # "żółw" typed as letters + combining accents (NFD): the accents belong to the
    # word, as they did for presidio's `regex` patterns, so the whole address goes.
    text = "napisz: " + unicodedata.normalize("NFD", "żółw@wp.pl")
    assert redactor.redact(text) == "napisz: [EMAIL]"


def test_redaction_needs_no_presidio_spacy_or_network() -> None:
    # The console's venv must not need any of these; e-mail checks download nothing.
    code = (
        "import sys\n"
        "from iom.core.redaction import default_redactor\n"
        "default_redactor().redact('a@b.pl 600 100 200 DE89370400440532013000')\n"
        "heavy = {'presidio_analyzer', 'spacy', 'tldextract', 'regex', 'numpy'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"
