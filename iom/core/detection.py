"""Decide the language of one message: Polish, English, Ukrainian, Russian or other.

Pure functions over :mod:`iom.core.language`. In order:

1. an explicit request ("по-українськи", "на русском", "in English") wins;
2. the script: Cyrillic text is Ukrainian or Russian (letters only one of them
   uses, і ї є ґ vs ы э ъ ё, then the word lists, then lingua restricted to the
   two); Belarusian ў and the letters of other Cyrillic alphabets mean another
   language, and so does a message mostly in another script (Georgian, Arabic,
   Devanagari, Chinese, …);
3. Latin text: transliterated Ukrainian or Russian ("pryvit, meni potribna
   dopomoha"), then the Polish/English word lists, then lingua restricted to the
   four languages; a message with no Polish or English word that lingua, in its
   low-accuracy mode over other languages migrants in Poland write, places
   elsewhere (Spanish, Vietnamese, Tagalog, …) is "other".

Messages with no language signal ("ok", "123", an emoji) return ``None`` so that
the caller keeps the conversation's language; ``reason`` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from iom.core.cities import looks_like_city
from iom.core.language import (
    BE_WORDS,
    CYRILLIC,
    EN_WORDS,
    LATIN,
    OTHER_CYRILLIC_LETTERS,
    PL_WORDS,
    POLISH_LETTERS,
    RU_TRANSLIT,
    RU_WORDS,
    RUSSIAN_LETTERS,
    TRANSLIT,
    TRANSLIT_LETTERS,
    UK_TRANSLIT,
    UK_WORDS,
    UKRAINIAN_LETTERS,
    WORD,
    fold,
    requested_language,
)

if TYPE_CHECKING:  # pragma: no cover
    from lingua import LanguageDetector

Detected = Literal["pl", "en", "uk", "ru", "other"]
# Reasons that mean "this text has words, but which language is unclear": the
# assistant asks which language to use when nothing else tells it.
UNCLEAR_PREFIX = "ambiguous"


@dataclass(frozen=True)
class Detection:
    """The language of one message and why it was chosen."""

    language: Detected | None
    reason: str
    requested: bool = False

    @property
    def unclear(self) -> bool:
        """Words were there, but no language could be told."""
        return self.language is None and self.reason.startswith(UNCLEAR_PREFIX)


@lru_cache(maxsize=1)
def _lingua() -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(
        Language.POLISH, Language.ENGLISH, Language.UKRAINIAN, Language.RUSSIAN
    ).build()


# Languages migrants in Poland write that the assistant does not speak, in Latin
# letters. Czech and Slovak are left out: Polish typed without diacritics looks
# like them. Low-accuracy mode: trigram models only, little memory.
_OTHER_LATIN = (
    "SPANISH PORTUGUESE FRENCH GERMAN ITALIAN ROMANIAN TURKISH VIETNAMESE TAGALOG "
    "INDONESIAN AZERBAIJANI LITHUANIAN LATVIAN HUNGARIAN DUTCH SOMALI SWAHILI"
).split()


@lru_cache(maxsize=1)
def _lingua_wide() -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder

    languages = [Language.POLISH, Language.ENGLISH]
    languages += [getattr(Language, name) for name in _OTHER_LATIN]
    return (
        LanguageDetectorBuilder.from_languages(*languages)
        .with_low_accuracy_mode()
        .build()
    )


def warm_up() -> None:
    """Load lingua's models now rather than on the first user message."""
    _lingua().compute_language_confidence_values("warm up rozgrzewka привіт")
    _lingua_wide().detect_language_of("hola necesito ayuda")


def _lingua_vote(text: str, codes: tuple[str, ...]) -> tuple[str | None, float]:
    values = _lingua().compute_language_confidence_values(text)
    scores = {v.language.iso_code_639_1.name.lower(): v.value for v in values}
    chosen = {code: scores.get(code, 0.0) for code in codes}
    total = sum(chosen.values())
    if total <= 0:
        return None, 0.0
    best = max(chosen, key=lambda code: chosen[code])
    return best, chosen[best] / total


def _is_other_latin(text: str, min_confidence: float = 0.8) -> bool:
    values = _lingua_wide().compute_language_confidence_values(text)
    if not values:
        return False
    top = values[0]
    code = top.language.iso_code_639_1.name.lower()
    return code not in ("pl", "en") and top.value >= min_confidence


def _cyrillic(text: str, words: list[str], min_confidence: float) -> Detection:
    lowered = text.lower()
    if any(c in OTHER_CYRILLIC_LETTERS for c in lowered):
        return Detection("other", "letters of another Cyrillic alphabet")
    uk = min(sum(1 for c in lowered if c in UKRAINIAN_LETTERS), 3)
    ru = min(sum(1 for c in lowered if c in RUSSIAN_LETTERS), 3)
    folded = [fold(w) for w in words]
    uk += sum(1 for w in folded if w in UK_WORDS)
    ru += sum(1 for w in folded if w in RU_WORDS)
    belarusian = sum(1 for w in folded if w in BE_WORDS)
    mixed = any(
        set(w.lower()) & UKRAINIAN_LETTERS and set(w.lower()) & RUSSIAN_LETTERS
        for w in words
    )  # "Прывітанне": і and ы in one word is Belarusian, not surzhyk
    if mixed or (belarusian and belarusian >= max(uk, ru)):
        return Detection("other", "belarusian")
    if uk != ru:
        return Detection("uk" if uk > ru else "ru", "cyrillic letters and words")
    code, confidence = _lingua_vote(" ".join(words), ("uk", "ru"))
    if code is None or confidence < min_confidence:
        return Detection(None, f"{UNCLEAR_PREFIX} cyrillic ({confidence:.2f})")
    return Detection(code, f"lingua {confidence:.2f}")  # type: ignore[arg-type]


def _transliterated(folded: list[str], pl_en_hits: int) -> Detection | None:
    uk = sum(1 for w in folded if w in UK_TRANSLIT)
    ru = sum(1 for w in folded if w in RU_TRANSLIT)
    total = sum(
        1
        for w in folded
        if w in TRANSLIT
        or (TRANSLIT_LETTERS.search(w) and w not in PL_WORDS and w not in EN_WORDS)
    )
    mostly = total >= 2 and total * 2 >= len(folded) and total > pl_en_hits
    alone = total >= 1 and len(folded) <= 2 and pl_en_hits == 0
    # "dobryi den ja z Kharkova pracuju na fabrytsi …": a few known words in a long
    # message, and no Polish or English word outnumbers them.
    some = total >= 2 and total >= pl_en_hits
    if not (mostly or alone or some):
        return None
    if uk == ru:
        return Detection(None, f"{UNCLEAR_PREFIX} transliteration")
    return Detection("uk" if uk > ru else "ru", "transliterated")


def detect_language(text: str, min_confidence: float = 0.75) -> Detection:
    """Decide the language of ``text`` (see the module docstring)."""
    stripped = (text or "").strip()
    if not stripped or stripped.startswith("/"):
        return Detection(None, "empty or command")

    requested = requested_language(stripped)
    if requested:
        return Detection(requested, "explicit request", requested=True)

    letters = [c for c in stripped if c.isalpha()]
    if not letters:
        return Detection(None, "no letters")
    cyrillic = sum(1 for c in letters if CYRILLIC.match(c))
    latin = sum(1 for c in letters if LATIN.match(c))
    if cyrillic + latin < len(letters) / 2:
        return Detection("other", "another script")

    words = [w for w in WORD.findall(stripped) if not looks_like_city(w)]
    if not words:
        return Detection(None, "only place names")
    if cyrillic / len(letters) >= 0.3:
        return _cyrillic(stripped, words, min_confidence)

    folded = [fold(w) for w in words]
    pl_hits = sum(1 for w in folded if w in PL_WORDS)
    en_hits = sum(1 for w in folded if w in EN_WORDS)
    if any(c in POLISH_LETTERS for w in words for c in w.lower()):
        pl_hits += 1
    translit = _transliterated(folded, pl_hits + en_hits)
    if translit is not None:
        return translit
    # Few Polish or English words in a longer message ("hola necesito ayuda con
    # mi trabajo" has only "mi"): first ask whether it is another language.
    joined = " ".join(words)
    few_known = (pl_hits + en_hits) * 4 < len(words)
    if len(words) >= 3 and few_known and _is_other_latin(joined):
        return Detection("other", "another language in Latin letters")
    if pl_hits != en_hits:
        return Detection("pl" if pl_hits > en_hits else "en", "lexicon")

    # One word that no word list knows (a town, a name, a typo) is too little for
    # lingua: "Zyrardow" must not switch an English conversation to Polish.
    if len(words) < 2:
        return Detection(None, "too short to tell")
    code, confidence = _lingua_vote(joined, ("pl", "en"))
    if code is None or confidence < min_confidence:
        return Detection(None, f"{UNCLEAR_PREFIX} ({confidence:.2f})")
    return Detection(code, f"lingua {confidence:.2f}")  # type: ignore[arg-type]
