"""Language detection: short messages, no diacritics, requests, other languages."""

from __future__ import annotations

import pytest

from iom_nlu.language import detect_language, normalise, requested_language


@pytest.mark.parametrize(
    "text",
    [
        "dzień dobry",
        "dzien dobry",
        "cześć",
        "dzieki",
        "tak",
        "nie",
        "pomocy",
        "karta pobytu",
        "pracodawca zabral mi paszport",
        "gdzie moge sie nauczyc polskiego",
        "potrzebuje help z residence card",
        "gdzie w Krakowie pomogą cudzoziemcom",
        "numer do biura IOM",
    ],
)
def test_polish_messages_are_detected_as_polish(text: str) -> None:
    assert detect_language(text).language == "pl"


@pytest.mark.parametrize(
    "text",
    [
        "hi",
        "hello",
        "thanks",
        "thx",
        "yes",
        "help",
        "residence card",
        "my boss took my passport",
        "where can i learn polish",
        "where can I get help in Wrocław",
        "is the trafficking hotline open now?",
        "I need help in Gdańsk",
    ],
)
def test_english_messages_are_detected_as_english(text: str) -> None:
    assert detect_language(text).language == "en"


@pytest.mark.parametrize(
    "text", ["ok", "OK", "123", "👍", "?", "", "   ", "/greet", "Kraków"]
)
def test_ambiguous_messages_have_no_language(text: str) -> None:
    assert detect_language(text).language is None


@pytest.mark.parametrize(
    "text",
    [
        "Привіт, мені потрібна допомога",
        "Здравствуйте, где получить карту побыту?",
        "privet mne nuzhna pomoshch",
        "dopomozhit bud laska",
        "zdravstvuyte gde mozhno poluchit rabotu",
    ],
)
def test_ukrainian_and_russian_are_other_languages(text: str) -> None:
    assert detect_language(text).language == "other"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("po polsku proszę", "pl"),
        ("po polsku prosze", "pl"),
        ("in English please", "en"),
        ("możesz pisać po angielsku?", "en"),
        ("can you speak polish", "pl"),
        ("English?", "en"),
        ("switch to english", "en"),
    ],
)
def test_explicit_switch_requests_win(text: str, code: str) -> None:
    detection = detect_language(text)
    assert (detection.language, detection.requested) == (code, True)


@pytest.mark.parametrize(
    ("text", "code"),
    [("I don't speak Polish", "en"), ("nie mówię po angielsku", "pl")],
)
def test_negated_requests_are_not_switches(text: str, code: str) -> None:
    assert requested_language(text) is None
    assert detect_language(text).language == code


def test_normalise_strips_polish_diacritics() -> None:
    assert normalise("Źdźbło Łódź Gdańsk") == "zdzblo lodz gdansk"
