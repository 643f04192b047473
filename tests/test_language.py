"""Language detection: short messages, no diacritics, requests, other languages."""

from __future__ import annotations

import pytest

from iom.core.detection import detect_language
from iom.core.language import fold as normalise
from iom.core.language import requested_language


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
    ("text", "code"),
    [
        # letters only one of the two uses
        ("Привіт, мені потрібна допомога", "uk"),
        ("Роботодавець забрав мій паспорт", "uk"),
        ("Здравствуйте, где получить карту побыту?", "ru"),
        ("меня заперли в комнате", "ru"),
        # no distinguishing letters: the word lists decide
        ("шо мені робити з karta pobytu", "uk"),
        ("де вивчити польську мову", "uk"),
        ("помогите пожалуйста", "ru"),
        ("мне не платят зарплату", "ru"),
        # transliterated in Latin letters
        ("pryvit, meni potribna dopomoha", "uk"),
        ("dopomozhit bud laska", "uk"),
        ("privet mne nuzhna pomoshch", "ru"),
        ("zdravstvuyte gde mozhno poluchit rabotu", "ru"),
        ("spasibo", "ru"),
        ("dyakuyu", "uk"),
    ],
)
def test_ukrainian_and_russian_are_told_apart(text: str, code: str) -> None:
    assert detect_language(text).language == code


@pytest.mark.parametrize(
    "text",
    [
        "Дабры дзень, мне патрэбна дапамога",  # Belarusian, no ў
        "Прывітанне, як справы ў вас",  # Belarusian ў
        "გამარჯობა, დახმარება მჭირდება",  # Georgian
        "hola necesito ayuda con mi trabajo",  # Spanish (one Polish-looking word)
        "Xin chào, tôi cần giúp đỡ",  # Vietnamese
        "kailangan ko ng tulong sa trabaho",  # Tagalog
        "मुझे मदद चाहिए",  # Hindi
        "Guten Tag, ich brauche Hilfe bei der Arbeit",
        "Сәлеметсіз бе, маған көмек керек",  # Kazakh
    ],
)
def test_languages_the_assistant_does_not_speak_are_other(text: str) -> None:
    assert detect_language(text).language == "other"


def test_unclear_text_is_marked_unclear_and_short_text_is_not() -> None:
    assert detect_language("я не говорю по-русски").language in ("ru", None)
    assert detect_language("ok").unclear is False
    assert detect_language("Kraków").unclear is False


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
        ("по-українськи", "uk"),
        ("можна українською?", "uk"),
        ("пишіть українською будь ласка", "uk"),
        ("на русском", "ru"),
        ("можно по-русски?", "ru"),
        ("in Ukrainian please", "uk"),
        ("po ukraińsku", "uk"),
        ("можна польською?", "pl"),
        ("in Russian", "ru"),
    ],
)
def test_explicit_switch_requests_win(text: str, code: str) -> None:
    detection = detect_language(text)
    assert (detection.language, detection.requested) == (code, True)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("I don't speak Polish", "en"),
        ("nie mówię po angielsku", "pl"),
        ("я не розумію англійською, допоможіть", "uk"),
    ],
)
def test_negated_requests_are_not_switches(text: str, code: str) -> None:
    assert requested_language(text) is None
    assert detect_language(text).language == code


def test_normalise_strips_polish_diacritics() -> None:
    assert normalise("Źdźbło Łódź Gdańsk") == "zdzblo lodz gdansk"


@pytest.mark.parametrize(
    "text",
    [
        # a language named inside a longer sentence is not a request
        "дали підписати папери польською а тепер кажуть що я винна гроші",
        "заставили подписать бумаги на польском, теперь говорят я должна",
    ],
)
def test_a_language_named_in_passing_is_not_a_request(text: str) -> None:
    assert requested_language(text) is None


# --- transliterated Ukrainian and Russian, by dictionary ------------------------
@pytest.mark.parametrize(
    ("text", "code"),
    [
        # Ukrainian: national romanisation, informal "h"/"y", Polish-style letters
        ("skilky treba chekaty na vidpovid z urzedu", "uk"),
        ("meni ne vyplatyly hroshi za ostanniy misiats", "uk"),
        ("de mozhna znaity bezkoshtovnoho advokata", "uk"),
        ("pratsiuiu na skladi i shef krychyt na mene", "uk"),
        ("ya ne rozumiyu shcho pyshe v lysti", "uk"),
        ("dzvonyla vam vchora ale nikhto ne vidpoviv", "uk"),
        ("de vchyty kartu pobytu", "uk"),
        # Russian: shch / sch / shh, kh / h, y for ы, ' for ь
        ("ya ne znayu kuda obratitsya za pomoshchyu", "ru"),
        ("mne nuzhna pomosch s dokumentami dlya raboty", "ru"),
        ("gde nayti besplatnogo yurista v gorode", "ru"),
        ("khozyain ne otdayet moi dengi uzhe dva mesyatsa", "ru"),
        ("pochemu mne ne otvechayut na pis'mo", "ru"),
        ("skol'ko zhdat' kartu pobytu", "ru"),
        ("vy rabotaete v subbotu", "ru"),
    ],
)
def test_transliterated_ukrainian_and_russian_are_found_by_dictionary(
    text: str, code: str
) -> None:
    assert detect_language(text).language == code


@pytest.mark.parametrize(
    "text",
    [
        # Polish without diacritics shares roots with Ukrainian and Russian
        "moja karta pobytu sie skonczyla",
        "szukam pracy na budowie",
        "pracodawca nie zaplacil mi za nadgodziny",
        "gdzie moge zrobic tlumaczenie dokumentow",
        "dobra robota",
        "mam problem z umowa o prace",
    ],
)
def test_polish_without_diacritics_stays_polish(text: str) -> None:
    assert detect_language(text).language == "pl"


@pytest.mark.parametrize(
    "text",
    [
        "how do I bake bread",
        "what is the email of the office",
        "please connect me with an advisor",
        "programs for migrants in poland",
        "my boss shouts at me every day",
    ],
)
def test_english_dictionary_words_are_not_another_language(text: str) -> None:
    assert detect_language(text).language == "en"


@pytest.mark.parametrize(
    "text",
    [
        "donde puedo encontrar un abogado gratis",  # Spanish
        "necesito renovar mi permiso de trabajo",  # Spanish
        "saan ako pwedeng humingi ng tulong",  # Tagalog
        "xin hãy giúp tôi tìm việc làm",  # Vietnamese
        "Ich suche eine Wohnung in der Stadt",  # German
    ],
)
def test_other_latin_languages_stay_other(text: str) -> None:
    assert detect_language(text).language == "other"


def test_back_transliteration_finds_the_cyrillic_word() -> None:
    from iom.core.transliteration import back_transliterate

    assert "працюю" in back_transliterate("pratsiuiu", "uk")
    assert "працюю" in back_transliterate("pratsyuyu", "uk")
    assert "вообще" in back_transliterate("voobshche", "ru")
    assert "помощь" in back_transliterate("pomosch", "ru")
    assert "помощь" in back_transliterate("pomoshh", "ru")
    assert "жить" in back_transliterate("zhit'", "ru")
    assert "скільки" in back_transliterate("skilky", "uk")
    assert "допомога" in back_transliterate("dopomoha", "uk")
    assert "хочу" in back_transliterate("khochu", "ru")
    assert "хочу" in back_transliterate("hochu", "ru")
    # one dictionary only
    assert back_transliterate("voobshche", "uk") == ()
    assert back_transliterate("skilky", "ru") == ()


def test_back_transliteration_is_bounded_and_refuses_non_latin() -> None:
    from iom.core.transliteration import MAX_SPELLINGS, back_transliterate

    assert back_transliterate("", "uk") == ()
    assert back_transliterate("país", "ru") == ()
    assert back_transliterate("працюю", "uk") == ()
    assert back_transliterate("xyzqxyzq", "ru") == ()
    for word in ("sesesese", "iiiiiiii", "yayayaya", "ts'ts'ts'"):
        assert len(back_transliterate(word, "uk")) <= MAX_SPELLINGS
        assert len(back_transliterate(word, "ru")) <= MAX_SPELLINGS


def test_knowledge_tells_which_dictionaries_know_a_word() -> None:
    from iom.core.transliteration import knowledge

    assert knowledge("pratsiuiu").uk and not knowledge("pratsiuiu").ru
    assert knowledge("voobshche").ru and not knowledge("voobshche").uk
    assert knowledge("pratsiuiu").only_slavic
    karta = knowledge("karta")  # Polish, and карта in both
    assert karta.pl and karta.slavic and not karta.only_slavic
    assert knowledge("zaplacili").pl  # zapłacili, diacritics put back
    assert knowledge("pancakes").en and not knowledge("pancakes").slavic
    assert not knowledge("necesito").slavic
    assert not knowledge("chào").slavic  # not plain Latin letters


def test_polish_spellings_put_diacritics_back_within_bounds() -> None:
    from iom.core.transliteration import MAX_POLISH_SPELLINGS, polish_spellings

    assert polish_spellings("zaplacili")[0] == "zaplacili"
    assert "zapłacili" in polish_spellings("zaplacili")
    assert "źdźbło" not in polish_spellings("xyz")
    assert len(polish_spellings("zazolcenie gesla")) <= MAX_POLISH_SPELLINGS
