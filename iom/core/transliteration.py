"""Dictionary knowledge of words: transliterated Ukrainian/Russian, Polish, English.

Ukrainian and Russian are often typed in Latin letters, under no one romanisation
("pratsiuiu" / "pratsyuyu" / "pracuju" for працюю, "pomoshch" / "pomosch" /
"pomoshh" for помощь). Instead of listing such words, :func:`back_transliterate`
turns a folded Latin word back into the Cyrillic spellings that the common
romanisations of one language allow (shch/sch/shh -> щ, zh -> ж, kh -> х, h -> г
in Ukrainian and х in Russian, ts -> ц, ya/ia -> я, y -> и in Ukrainian and
ы/й in Russian, an optional soft sign, …), and keeps those that pymorphy3's
morphological dictionary (OpenCorpora for Russian, VESUM for Ukrainian, the
offline ``pymorphy3-dicts-*`` packages) knows. The search walks the dictionary's
DAWG letter by letter, so a spelling no dictionary word starts with is dropped at
once; the number of spellings tried and kept is bounded.

Polish typed without diacritics shares roots with both ("moja karta", "robota"),
so :func:`knowledge` also says whether the word is Polish (the lexicon of
:mod:`iom.core.language`, or simplemma's Polish dictionary, trying the word's
diacritics back: "zaplacili" -> "zapłacili") or English (the lexicon or
simplemma's English dictionary). :mod:`iom.core.detection` weighs these per message.

Every dictionary is loaded once per process and shared with the lemmatizers of
:mod:`iom.rasa.nlu.lemmatizers`; per-word answers are cached.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from iom.core.language import EN_WORDS, PL_WORDS, fold

Slavic = Literal["uk", "ru"]

# Most Cyrillic spellings kept per word, and most dictionary steps one word may
# take (each step follows one Cyrillic piece in the DAWG: a few microseconds).
MAX_SPELLINGS = 16
MAX_STEPS = 600
# Most diacritic restorations of one folded Polish word looked up in simplemma.
MAX_POLISH_SPELLINGS = 64

_SOFT = "ь"
# Consonants a soft sign may follow unwritten ("povernutys" -> повернутись).
_SOFTENED = frozenset("тдсзлнцрмвбпчшщж")
_VOWELS = frozenset("aeiouy")

# Latin pieces -> Cyrillic pieces, per language; every piece that matches at a
# position is tried, the longer and likelier first.
_COMMON: dict[str, tuple[str, ...]] = {
    "shch": ("щ",),
    "sch": ("щ",),
    "shh": ("щ",),
    "zh": ("ж",),
    "kh": ("х",),
    "ch": ("ч",),
    "sh": ("ш",),
    "ts": ("ц",),
    "tz": ("ц",),
    "ya": ("я",),
    "ja": ("я",),
    "ia": ("я",),
    "yu": ("ю",),
    "ju": ("ю",),
    "iu": ("ю",),
    "a": ("а",),
    "b": ("б",),
    "v": ("в",),
    "w": ("в",),
    "d": ("д",),
    "z": ("з",),
    "k": ("к",),
    "q": ("к",),
    "l": ("л",),
    "m": ("м",),
    "n": ("н",),
    "o": ("о",),
    "p": ("п",),
    "r": ("р",),
    "s": ("с",),
    "t": ("т",),
    "u": ("у",),
    "f": ("ф",),
    "c": ("ц", "ч"),
    "x": ("кс", "х"),
    "j": ("й",),
    "'": (_SOFT,),
}
_RULES: dict[Slavic, dict[str, tuple[str, ...]]] = {
    "uk": _COMMON
    | {
        "ye": ("є", "е"),
        "ie": ("є", "іе"),
        "je": ("є",),
        "yi": ("ї", "ий", "иї"),
        "ji": ("ї",),
        "yo": ("йо", "ьо"),
        "io": ("ьо", "йо", "іо"),
        "h": ("г", "х"),
        "g": ("г", "ґ"),
        "e": ("е", "є"),
        "y": ("и", "й"),
        "i": ("і", "и", "й", "ї"),
        "'": (_SOFT, "'"),
    },
    "ru": _COMMON
    | {
        "ye": ("е", "э", "ье"),
        "je": ("е", "э", "ье"),
        "ie": ("ие", "ье"),
        "yo": ("ё", "йо", "ьо"),
        "jo": ("ё", "йо"),
        "io": ("ио", "ьо", "ё"),
        "yy": ("ый", "ий"),
        "iy": ("ий", "ый"),
        "ij": ("ий",),
        "h": ("х", "г"),
        "g": ("г",),
        "e": ("е", "э", "ё"),
        "y": ("ы", "й", "и"),
        "i": ("и", "й", "ы"),
        "'": (_SOFT, "ъ"),
    },
}
_LONGEST = max(len(piece) for rules in _RULES.values() for piece in rules)


@lru_cache(maxsize=2)
def morph(language: Slavic) -> Any:
    """pymorphy3's analyzer of ``language``, loaded once per process."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang=language)


@lru_cache(maxsize=1)
def simplemma_dictionaries() -> Any:
    """The stream-read dictionaries of simplemma (front-coded, decoded on demand).

    One factory per process: the lemmatizers use it too. Four languages fit its
    cache, so Polish/English detection and a Cyrillic lemmatizer do not evict
    each other's dictionaries.
    """
    from simplemma.strategies.dictionaries.stream_dictionary_factory import (
        StreamDictionaryFactory,
    )

    return StreamDictionaryFactory(cache_max_size=4)


def _simplemma_knows(word: str, language: str) -> bool:
    """``word`` (lowercase) is in simplemma's ``language`` dictionary.

    As a common word or capitalised ("Polsce", "Ukraińcy").
    """
    dictionary = simplemma_dictionaries().get_dictionary(language)
    return word in dictionary or word.capitalize() in dictionary


def _may_soften(word: str, end: int) -> bool:
    """An unwritten soft sign may stand before ``word[end:]``.

    At the end or before a consonant ("povernutys", "pomoshch"), or before an
    iotated vowel ("byut", "semia"); not before a plain vowel ("zhyty" is not
    житьи).
    """
    following = word[end : end + 2]
    if not following or following[0] not in _VOWELS:
        return True
    return following[0] in "iy" and following[1:] in _VOWELS - {"i", "y"}


@lru_cache(maxsize=65536)
def back_transliterate(word: str, language: Slavic) -> tuple[str, ...]:
    """Cyrillic spellings of the folded Latin ``word`` that ``language`` knows.

    At most :data:`MAX_SPELLINGS`, in the order the rules reach them; empty when
    none of the romanisations gives a dictionary word (or the search runs out of
    its :data:`MAX_STEPS`).
    """
    word = word.lower().replace("’", "'").replace("ʼ", "'")
    if not word or not word.isascii():
        return ()
    rules = _RULES[language]
    analyzer = morph(language)
    dawg = analyzer.dictionary.words.dct
    found: list[str] = []
    steps = 0
    # (position in the Latin word, Cyrillic so far, DAWG state after it)
    stack: list[tuple[int, str, int]] = [(0, "", dawg.ROOT)]
    while stack and len(found) < MAX_SPELLINGS and steps < MAX_STEPS:
        position, spelled, state = stack.pop()
        if position == len(word):
            if spelled not in found and analyzer.word_is_known(spelled):
                found.append(spelled)
            continue
        extensions: list[tuple[int, str]] = []
        for size in range(min(_LONGEST, len(word) - position), 0, -1):
            for piece in rules.get(word[position : position + size], ()):
                end = position + size
                extensions.append((end, piece))
                if piece[-1] in _SOFTENED and _may_soften(word, end):
                    extensions.append((end, piece + _SOFT))
        children = []
        for end, piece in extensions:
            steps += 1
            following = dawg.follow_bytes(piece.encode("utf-8"), state)
            if following is not None:
                children.append((end, spelled + piece, following))
        stack.extend(reversed(children))  # the likeliest piece is tried first
    return tuple(found)


_POLISH_DIACRITICS = {
    "a": "ą",
    "c": "ć",
    "e": "ę",
    "l": "ł",
    "n": "ń",
    "o": "ó",
    "s": "ś",
    "z": "żź",
}


def polish_spellings(folded: str) -> list[str]:
    """``folded`` with its diacritics put back in ways Polish may have them.

    The word as it is first, then with one letter changed, then two, then three;
    at most :data:`MAX_POLISH_SPELLINGS`.
    """
    places = [i for i, c in enumerate(folded) if c in _POLISH_DIACRITICS]
    spellings = [folded]
    for changed in range(1, min(3, len(places)) + 1):
        for chosen in itertools.combinations(places, changed):
            options = [_POLISH_DIACRITICS[folded[i]] for i in chosen]
            for letters in itertools.product(*options):
                letters_at = dict(zip(chosen, letters, strict=True))
                spellings.append(
                    "".join(letters_at.get(i, c) for i, c in enumerate(folded))
                )
                if len(spellings) >= MAX_POLISH_SPELLINGS:
                    return spellings
    return spellings


@lru_cache(maxsize=65536)
def is_polish(word: str) -> bool:
    """The word (as typed, lowercase) is Polish, with or without its diacritics."""
    folded = fold(word)
    if folded in PL_WORDS:
        return True
    lowered = word.lower()
    if lowered != folded and _simplemma_knows(lowered, "pl"):
        return True
    return any(_simplemma_knows(s, "pl") for s in polish_spellings(folded))


@lru_cache(maxsize=65536)
def is_english(word: str) -> bool:
    """The word (lowercase) is in the English lexicon or simplemma's dictionary."""
    lowered = word.lower().replace("’", "'")
    return fold(lowered) in EN_WORDS or _simplemma_knows(lowered, "en")


@dataclass(frozen=True)
class Knowledge:
    """Which dictionaries know one Latin-letter word."""

    uk: bool
    ru: bool
    pl: bool
    en: bool

    @property
    def slavic(self) -> bool:
        """Known as transliterated Ukrainian or Russian."""
        return self.uk or self.ru

    @property
    def only_slavic(self) -> bool:
        """Known transliterated, and neither as Polish nor as English."""
        return self.slavic and not (self.pl or self.en)


@lru_cache(maxsize=65536)
def knowledge(word: str) -> Knowledge:
    """Which of the four languages' dictionaries know ``word`` (Latin letters).

    Only a word of plain ASCII letters can be transliterated: "mój", "país",
    "chào" are not.
    """
    lowered = word.lower().replace("’", "'").replace("ʼ", "'")
    plain = lowered.isascii()
    return Knowledge(
        uk=plain and bool(back_transliterate(lowered, "uk")),
        ru=plain and bool(back_transliterate(lowered, "ru")),
        pl=is_polish(word),
        en=is_english(word),
    )


_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def is_known_word(word: str) -> bool:
    """A dictionary of Polish, English, Ukrainian or Russian knows ``word``.

    In Cyrillic (pymorphy3's Ukrainian or Russian dictionary, any inflected form) or
    in Latin letters (Polish or English, or Ukrainian/Russian typed in Latin
    letters, see :func:`knowledge`). Digits and gibberish ("xqzt") are unknown.
    """
    lowered = word.lower().replace("’", "'").replace("ʼ", "'")
    if not any(c.isalpha() for c in lowered):
        return False
    if _CYRILLIC.search(lowered):
        return bool(
            morph("uk").word_is_known(lowered) or morph("ru").word_is_known(lowered)
        )
    known = knowledge(word)
    return known.pl or known.en or known.slavic
