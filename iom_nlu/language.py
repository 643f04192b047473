"""Detect whether a user message is Polish, English or another language.

Pure functions, no Rasa imports: the NLU component and the tests call
:func:`detect_language`. Short messages are decided by small lexicons of words
that only occur in one of the two languages; longer ones by lingua
(``lingua-language-detector``, offline n-gram models). Messages with no
language signal ("ok", "123", an emoji) return ``None`` so the caller keeps the
conversation's current language.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pragma: no cover
    from lingua import LanguageDetector

LanguageCode = Literal["pl", "en", "other"]
SUPPORTED = ("pl", "en")

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_POLISH_LETTERS = set("ąćęłńśźżó")

# Words that, normalised (lowercase, no diacritics), belong to one language only.
# Words shared or ambiguous between the two ("ok", "no", "do", "to", "a", "i",
# "we", "na", "problem") are deliberately absent.
_PL_WORDS = frozenset(
    """
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
    """.split()
)
_EN_WORDS = frozenset(
    """
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
    """.split()
)
# Frequent words of transliterated Russian and Ukrainian (Latin script).
_TRANSLIT_RU_UK = frozenset(
    """
    privet privit zdravstvuyte zdravstvuite dobryy dobriy den dyakuyu dyakuju
    spasibo pozhaluysta pozhaluista bud laska mne meni nuzhna nuzhno potribna
    potribno pomoshch pomosch pomoshh pomogite dopomoga dopomoha dopomozhit
    dopomozhite rabota robota rabotu robotu gde de kak yak chto shcho shto
    mozhno mozhna ya vy vi tut zdes ochen duzhe pomogi hochu khochu hotel
    dokumenty pasporta poluchit otrimati otrymaty
    """.split()
)
# City names carry Polish diacritics into English sentences ("help in Gdańsk"),
# so place-name tokens are ignored when deciding the language.
_CITY_STEMS = (
    "warszaw",
    "warsaw",
    "krakow",
    "cracow",
    "wroclaw",
    "gdansk",
    "gdyni",
    "gdynia",
    "poznan",
    "lodz",
    "lublin",
    "katowic",
    "rzeszow",
    "szczecin",
    "bialyst",
    "przemysl",
    "chelm",
    "sopot",
    "torun",
    "bydgoszcz",
    "kielc",
    "olsztyn",
    "opol",
)

_NEGATION = r"(?:not|don'?t|do not|can'?t|cannot|doesn'?t|nie|no)"
_REQUEST_PATTERNS: dict[str, list[re.Pattern[str]]] = {
    "en": [
        re.compile(
            r"\b(?:in|po|na)\s+(?:english|angielsk\w*|angliysk\w*)\b", re.IGNORECASE
        ),
        re.compile(r"\benglish\s+(?:please|pls|plz|prosze|proszę)\b", re.IGNORECASE),
        re.compile(
            r"\b(?:speak|write|talk|answer|switch\s+to|change\s+to)\s+"
            r"(?:in\s+)?english\b",
            re.IGNORECASE,
        ),
        re.compile(r"^\s*(?:english|angielski|eng|en)\s*[?!.]*\s*$", re.IGNORECASE),
    ],
    "pl": [
        re.compile(r"\b(?:in|po|na)\s+(?:polish|polsk\w*)\b", re.IGNORECASE),
        re.compile(r"\bpolish\s+(?:please|pls|plz|prosze|proszę)\b", re.IGNORECASE),
        re.compile(
            r"\b(?:speak|write|talk|answer|switch\s+to|change\s+to)\s+"
            r"(?:in\s+)?polish\b",
            re.IGNORECASE,
        ),
        re.compile(r"^\s*(?:polish|polski|pl)\s*[?!.]*\s*$", re.IGNORECASE),
    ],
}


@dataclass(frozen=True)
class Detection:
    """The language of one message and why it was chosen."""

    language: LanguageCode | None
    reason: str
    requested: bool = False


def normalise(word: str) -> str:
    """Lowercase and strip diacritics ("Dzień" -> "dzien", "ł" -> "l")."""
    word = word.lower().replace("ł", "l")
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def requested_language(text: str) -> str | None:
    """Return "pl"/"en" when the message asks to switch language, else None.

    A negated request ("I don't speak Polish", "nie mówię po angielsku") is not a
    request: the message's own language decides then.
    """
    for code, patterns in _REQUEST_PATTERNS.items():
        for pattern in patterns:
            match = pattern.search(text)
            if not match:
                continue
            before = text[: match.start()].split()[-3:]
            if any(re.fullmatch(_NEGATION, w, re.IGNORECASE) for w in before):
                continue
            return code
    return None


def _is_city(word: str) -> bool:
    return normalise(word).startswith(_CITY_STEMS)


@lru_cache(maxsize=1)
def _lingua() -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(
        Language.POLISH, Language.ENGLISH, Language.UKRAINIAN, Language.RUSSIAN
    ).build()


def warm_up() -> None:
    """Load lingua's models now rather than on the first user message."""
    _lingua().compute_language_confidence_values("warm up rozgrzewka")


def _lingua_vote(text: str) -> tuple[str | None, float]:
    values = _lingua().compute_language_confidence_values(text)
    scores = {v.language.iso_code_639_1.name.lower(): v.value for v in values}
    pl, en = scores.get("pl", 0.0), scores.get("en", 0.0)
    total = pl + en
    if total <= 0:
        return None, 0.0
    return ("pl", pl / total) if pl >= en else ("en", en / total)


def detect_language(text: str, min_confidence: float = 0.75) -> Detection:
    """Decide the language of ``text`` (see the module docstring)."""
    stripped = (text or "").strip()
    if not stripped or stripped.startswith("/"):
        return Detection(None, "empty or command")

    requested = requested_language(stripped)
    if requested:
        return Detection(requested, "explicit request", requested=True)  # type: ignore[arg-type]

    letters = [c for c in stripped if c.isalpha()]
    if not letters:
        return Detection(None, "no letters")
    cyrillic = sum(1 for c in letters if _CYRILLIC.match(c))
    if cyrillic / len(letters) >= 0.3:
        return Detection("other", "cyrillic script")

    words = [w for w in _WORD.findall(stripped) if not _is_city(w)]
    if not words:
        return Detection(None, "only place names")
    normalised = [normalise(w) for w in words]

    translit = sum(1 for w in normalised if w in _TRANSLIT_RU_UK)
    if translit >= 2 and translit * 2 >= len(normalised):
        return Detection("other", "transliterated russian/ukrainian")

    pl_hits = sum(1 for w in normalised if w in _PL_WORDS)
    en_hits = sum(1 for w in normalised if w in _EN_WORDS)
    if any(c in _POLISH_LETTERS for w in words for c in w.lower()):
        pl_hits += 1
    if pl_hits != en_hits:
        return Detection("pl" if pl_hits > en_hits else "en", "lexicon")

    joined = " ".join(words)
    if len(words) < 2 and len(joined) < 5:
        return Detection(None, "too short to tell")
    code, confidence = _lingua_vote(joined)
    if code is None or confidence < min_confidence:
        return Detection(None, f"ambiguous ({confidence:.2f})")
    return Detection(code, f"lingua {confidence:.2f}")  # type: ignore[arg-type]
