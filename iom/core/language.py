"""Language knowledge of the assistant: codes, folding, word lists, requests.

The one owner of what the project knows about its four languages (Polish, English,
Ukrainian, Russian): the codes and their names, text folding, the word lists that
tell the languages apart and the phrases that ask for a language. City names in
every language and case are in :mod:`iom.core.cities`. Pure Python: no Rasa, no web
framework. :mod:`iom.core.detection` decides a message's language from this knowledge.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, Literal

LanguageCode = Literal["pl", "en", "uk", "ru"]
SUPPORTED: tuple[LanguageCode, ...] = ("pl", "en", "uk", "ru")
DEFAULT_LANGUAGE: LanguageCode = "pl"
# Each language's name in itself: the language question's button titles.
NATIVE_NAMES: dict[str, str] = {
    "pl": "Polski",
    "en": "English",
    "uk": "Українська",
    "ru": "Русский",
}

WORD = re.compile(r"[^\W\d_]+(?:['’ʼ][^\W\d_]+)?", re.UNICODE)


def fold(text: str) -> str:
    """Lowercase without diacritics ("Dzień" -> "dzien", "Łódź" -> "lodz").

    Cyrillic loses its combining marks too ("й" -> "и", "ї" -> "і", "ё" -> "е"),
    so that word lists match however a person typed the word.
    """
    text = text.lower().replace("ł", "l").replace("’", "'").replace("ʼ", "'")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(block: str) -> frozenset[str]:
    return frozenset(fold(w) for w in block.split())


# --- letters ------------------------------------------------------------------
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")
POLISH_LETTERS = frozenset("ąćęłńśźżó")
UKRAINIAN_LETTERS = frozenset("іїєґ")
RUSSIAN_LETTERS = frozenset("ыэъё")
# Cyrillic letters of languages the assistant does not speak (Belarusian ў;
# Serbian/Macedonian; Kazakh, Kyrgyz, Tajik, Uzbek Cyrillic, Mongolian).
OTHER_CYRILLIC_LETTERS = frozenset("ўђјљњћџѓќѕәғқңөұүһӣӯҳҷ")

# --- word lists (folded; a word in two lists is dropped from both) -------------
_PL = """
    z ze w u czesc dzien dobry dobra dobrze dobranoc witam witaj siema siemka elo hejka
    dziekuje dziekuja dzieki dziekujemy tak nie prosze jak gdzie czy jest sa mam
    mamy mnie mi sie jestem chce chcialbym chcialabym potrzebuje pomoc pomocy
    pomoz pomozcie praca pracy pracuje pracodawca pracodawcy szef cudzoziemiec
    cudzoziemcow cudzoziemcy karta karte karty pobyt pobytu pobytowa wiza wizy
    paszport paszportu zabral zabrali zabrala boje grozi groza bija zamkneli
    polsku polski polskiego polskim angielsku angielski jezyk jezyka uczyc
    moge mozesz mozna czym kto co jaki jaka jakie moj moja moje dlaczego kiedy
    ile jesli jezeli albo ale lub ktory ktora gdzies tutaj teraz juz jeszcze
    bardzo troche dla przez przy oraz sprawie numer numeru telefon biuro biura
    mieszkam mieszkanie dokumenty dokumentow zglosic zgloszenie handel ludzmi
    ludzie czlowiekiem konsultantem rozmawiac napisac pisac mowic mowie
    dowidzenia widzenia nara pa zegnam okej spoko jasne zgadza rowniez tez
    wrocic powrot kraju domu ukrainy ukraina ukrainiec ukrainka infolinia
    informacje informacji pracowac legalnie umowa umowy pensja wyplata wyplaty
    placi zaplacil pieniadze dlug dlugu ktos kogos kolega kolezanka przyjaciel
    zle smutno samotny samotna daje rady sensu zycia kurs kursy nauczyc nauka
    jakiej jakim czego komu robic zrobic robotem czlowiek
"""
_EN = """
    hi hello hey hiya thanks thank thx you your yours yes yeah yep yup nope
    please pls plz what whats where how when who why which is are am was were
    my me mine i'm the can could would should need want help work job jobs
    boss employer passport documents bye goodbye cya good morning evening
    afternoon night english polish speak with for of and it its this that they
    them have has had not don't dont doesn't cant can't get got going from
    about there here someone somebody friend legal learn language course courses
    number phone office contact call
    report trafficking forced labour labor debt money pay paid salary wages
    locked scared afraid hurt kill danger dangerous feel alone sad hopeless
    return home country back ukraine ukrainian refugee human person talk real
    chat information line hotline helpline right rights
    does did will just also very much sure correct nothing anything
"""
_UK = """
    що шо як де є мені мене мій моя моє мої ви вас вам будь ласка дякую дякуємо
    дуже допоможіть допоможи допомога допомогу допомоги потрібна потрібно
    потрібен треба хочу можна можу роботу робота роботі роботодавець працюю
    працювати забрав забрала забрали зарплату платить платять привіт
    вечір ранку доброго добрий ні немає нема коли чому хто який яка яке які
    зараз ще вже також або але після від його її їх свій своє мову
    українською польською англійською російською торгівля торгівлі гаряча
    лінія житло картку чи бо щось нічого вибачте скажіть підкажіть будь-ласка
    людей мною йому тобі себе батьки дитина діти школа лікар лікарня отримати
    зробити знайти живу мешкаю квартиру гроші борг погрожують боюся
"""
_RU = """
    что чё че как где есть мне меня мой моё мое мои вы вас вам пожалуйста
    спасибо очень помогите помоги помощь помощи нужна нужно нужен надо хочу
    можно могу работу работа работе работодатель работаю работать забрал
    забрала забрали зарплату платит платят привет здравствуйте вечер утра
    доброе добрый нет когда почему кто какой какая какое какие сейчас щас еще
    ещё уже тоже или после его ее её их свой свое язык языке русском
    польском английском торговля торговли горячая линия жилье жильё карту ли
    что-то ничего извините скажите подскажите людей мной ему тебе себя
    родители ребенок ребёнок дети школа врач больница получить сделать найти
    живу квартиру деньги долг угрожают боюсь это
"""
# Ukrainian and Russian typed in Latin letters ("pryvit, meni potribna dopomoha",
# "privet mne nuzhna pomoshch"). Words Polish, English or other Latin-script
# languages also use ("de", "ye", "tak", "net") are left out.
_UK_TRANSLIT = """
    pryvit privit pryvet dyakuyu dyakuju diakuiu dyakuiu dyakuemo meni mene
    potribna potribno potriben dopomoha dopomoga dopomohy dopomogy dopomozhit
    dopomozhitʹ dopomozhite dopomozhy bud laska budlaska shcho shcho scho shco
    yak mozhna mozhu robota robotu roboti robotodavets robotodavecʹ platyt
    khochu dobryi dobryy dobrij dobroho zaraz takozh vzhe ukrainskoyu ukrainskoiu
    movoyu zabrav zabraly zarplatu koly chomu yakyi yaka treba nemaye nema
    pratsyuyu pratsiuiu pratsyuvaty pratsia pratsiu pratsi chy liudyna liudy
    liudmy liudey vmiiesh vmiyesh mozhesh dopomohty dopomohy dopomih torhivlia
    torhivli torhivlya prymusova prymusovoi oznaky rozumiiesh rozumiyu spasybi
    harazd nichoho rozkazhy vitaiu vitayu pryvitannia tse yakshcho kudy
    dzvonyty telefonuvaty zhyty khochu hochu pohoda zavtra dobre ukrainets
    ukrainka zhytlo kvartyru hroshi borh pohrozhuyut boyusya boiusia zakryly
    vybachte skazhit pidkazhit dopomozhy potriben lyudyna liudyni tut shchos
    nichoho mozhu mozhete budu bude dyakuiu zhyttia zhyty vbyty sebe samohubstvo
    torhivlia torhivli liudmy vidpratsiuvaty zabraly pasporty vykhid robotodavtsia
    pratsiuiu pratsiuvaty vyplaty zarplaty hroshei ukraintsiv ukraintsiam
    tymchasovyi tymchasovoho zakhyst zakhystu vid yakyi yaki yakshcho vzhe
    movu movy vyvchyty vyvchaty vchyty kursy polskoi
"""
_RU_TRANSLIT = """
    privet zdravstvuyte zdravstvuite zdrastvuyte spasibo pozhaluysta
    pozhaluista pojaluista pozhalujsta mne menya nuzhna nuzhno nuzhen
    pomoshch pomosch pomoshh pomosh pomogite pomogi chto shto kak gde
    yest mozhno rabota rabotu rabote rabotodatel platyat platit hochu
    dobryy dobriy dobryi seychas sejchas uzhe tozhe po-russki russkom zabral
    zabrali ochen kogda pochemu kakoy kakaya nado netu rabotayu ili chelovek
    chelovekom eto otvechaet umeesh mozhesh pomoch zhit torgovlya torgovlyu
    torgovli lyudmi lyudey priznaki prinuditelnogo prinuditelnyy truda raspoznat
    zastavlyayut zastavili rabotat dolg vse poka svidaniya pogoda zavtra vchera
    kto pomog otlichnyy khochu hochu zvonit pozvonit zhile kvartiru dengi ugrozhayut
    boyus zaperli smysla smysl zhit zhizn ubit sebya samoubiystvo suitsid
    pokonchit soboy spasite pomogite otrabotat otrabatyvat dolg dolgi torgovle
    lyudmi pasporta dokumenty zabrali derzhat vypuskayut rabotayu rabotat
    zarabotnuyu platu deneg net nichego poluchit poluchat skazhite podskazhite
    izvinite chelovek cheloveka operator operatorom ukraintsev vremennaya zashchita
    zashchity kakie kakoe kuda zdes tut
    vyuchit uchit izuchit yazyk yazyka polskiy polskomu kursy
"""


def _exclusive(*blocks: str) -> tuple[frozenset[str], ...]:
    sets = [_words(block) for block in blocks]
    return tuple(
        s - frozenset().union(*(o for j, o in enumerate(sets) if j != i))
        for i, s in enumerate(sets)
    )


PL_WORDS, EN_WORDS = _exclusive(_PL, _EN)
UK_WORDS, RU_WORDS = _exclusive(_UK, _RU)
UK_TRANSLIT, RU_TRANSLIT = _exclusive(_UK_TRANSLIT, _RU_TRANSLIT)
# Words typed in Latin letters in either language ("khochu", "pasport"): they count
# towards "this is transliterated", not towards which of the two it is.
TRANSLIT = (_words(_UK_TRANSLIT) | _words(_RU_TRANSLIT)) - PL_WORDS - EN_WORDS
# Letter groups that transliterated Ukrainian and Russian use and Polish and English
# (almost) never do: ж -> zh, х -> kh, щ -> shch/shh, ы/й -> yy/iy at a word's end.
TRANSLIT_LETTERS = re.compile(r"zh|kh|shch|shh|(?:yy|iy|yi|oy)$")
# Belarusian words (the assistant does not speak Belarusian; without ў its text
# would otherwise pass for Russian or Ukrainian).
BE_WORDS = _words(
    """дзякуй дзякую калі ласка дапамога дапамогу дапамажыце патрэбна патрэбен
    вельмі дрэнна ведаю рабіць працу працы заробак атрымаць дазвол прывітанне
    дзень добры дабры дзе чаму таксама трэба хачу магу плацяць"""
)

# --- asking for a language ---------------------------------------------------
NEGATION = _words(
    "not don't dont do cannot can't cant doesn't nie no не ні нет ne ni net"
)
_ASK = (
    r"(?:speak|write|talk|answer|reply|respond|switch|change|can\s+we|can\s+you"
    r"|пиш\w*|напиш\w*|говор\w*|відповіда\w*|отвеча\w*|розмовля\w*"
    r"|спілкува\w*|общ\w*|можна|можно|давай\w*|перейд\w*|перейт\w*"
    r"|переключ\w*|змін\w*|помен\w*|смен\w*)"
)
_ANY_WORDS = r"(?:\s+[^\s]+){0,3}?\s+"
_REQUESTS: dict[LanguageCode, tuple[str, ...]] = {
    "en": (
        r"\b(?:in|po|na)\s+(?:english|angielsk\w*|angliysk\w*)\b",
        r"\benglish\s+(?:please|pls|plz|prosze|proszę)\b",
        r"\b(?:speak|write|talk|answer|switch\s+to|change\s+to)\s+(?:in\s+)?english\b",
        r"^\s*(?:english|angielski|eng|en)\s*[?!.]*\s*$",
        _ASK + _ANY_WORDS + r"(?:англійською|по-?английски|на\s+английском)",
    ),
    "pl": (
        r"\b(?:in|po|na)\s+(?:polish|polsk\w*)\b",
        r"\bpolish\s+(?:please|pls|plz|prosze|proszę)\b",
        r"\b(?:speak|write|talk|answer|switch\s+to|change\s+to)\s+(?:in\s+)?polish\b",
        r"^\s*(?:polish|polski|pl)\s*[?!.]*\s*$",
        _ASK + _ANY_WORDS + r"(?:польською|по-?польськи|по-?польски|на\s+польском)",
    ),
    "uk": (
        _ASK + _ANY_WORDS + r"(?:українською|по-?українськи|по-?украински"
        r"|на\s+українській|на\s+украинском)",
        r"\b(?:in|po|na)\s+(?:ukrainian|ukrai[nń]sk\w*)\b",
        r"\b(?:speak|write|talk|answer|switch\s+to|change\s+to)\s+(?:in\s+)?ukrainian\b",
        r"\bukrainian\s+(?:please|pls|plz)\b",
        r"\b(?:ukrainskoyu|ukrainskoiu|po-?ukrainsk\w*)\b",
        r"^\s*(?:\S+\s+)?(?:українською|по-?українськи|по-?украински|українська"
        r"|украинский|на\s+українській|на\s+украинском|ukrainian|ukraiński|ua|uk)"
        r"(?:\s+\S+)?\s*[?!.]*\s*$",
    ),
    "ru": (
        _ASK + _ANY_WORDS + r"(?:по-?русски|по-?російськи|на\s+русском|російською"
        r"|на\s+російській)",
        r"\b(?:in|po|na)\s+(?:russian|rosyjsk\w*)\b",
        r"\b(?:speak|write|talk|answer|switch\s+to|change\s+to)\s+(?:in\s+)?russian\b",
        r"\brussian\s+(?:please|pls|plz)\b",
        r"\b(?:po-?russki|na\s+russkom)\b",
        r"^\s*(?:\S+\s+)?(?:по-?русски|на\s+русском|російською|русский|російська"
        r"|russian|rosyjski|ru)(?:\s+\S+)?\s*[?!.]*\s*$",
    ),
}
REQUEST_PATTERNS: dict[LanguageCode, tuple[re.Pattern[str], ...]] = {
    code: tuple(re.compile(p, re.IGNORECASE) for p in patterns)
    for code, patterns in _REQUESTS.items()
}


def requested_language(text: str) -> LanguageCode | None:
    """The language the message asks the assistant to write in, if any.

    A negated request ("I don't speak Polish", "не розумію українською") is not a
    request: the message's own language decides then.
    """
    for code, patterns in REQUEST_PATTERNS.items():
        for pattern in patterns:
            match = pattern.search(text)
            if not match:
                continue
            before = [fold(w) for w in WORD.findall(text[: match.start()])][-3:]
            if any(w in NEGATION for w in before):
                continue
            return code
    return None


def texts_by_language(variations: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """A domain response's texts, keyed by each variation's `language` condition."""
    texts: dict[str, str] = {}
    for variation in variations:
        for condition in variation.get("condition") or []:
            if condition.get("name") == "language":
                texts.setdefault(
                    str(condition.get("value")), str(variation.get("text", ""))
                )
    return texts
