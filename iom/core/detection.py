"""Decide the language of one message: Polish, English, Ukrainian, Russian or other.

Pure functions over :mod:`iom.core.language`. In order:

1. an explicit request ("по-українськи", "на русском", "in English") wins;
2. the script: Cyrillic text is Ukrainian or Russian (letters only one of them
   uses, і ї є ґ vs ы э ъ ё, then the word lists, then lingua restricted to the
   two); Belarusian ў and the letters of other Cyrillic alphabets mean another
   language, and so does a message mostly in another script (Georgian, Arabic,
   Devanagari, Chinese, …);
3. Latin text: transliterated Ukrainian or Russian ("pratsiuiu na fabrytsi ne
   zaplatyly", "chem zanimaetsya MOM"): most of its words of three letters or
   more are Ukrainian or Russian words once written back in Cyrillic (pymorphy3's
   dictionaries, through :mod:`iom.core.transliteration`), clearly more than are
   Polish or English words (the word lists and simplemma's dictionaries, Polish
   diacritics put back: "moja karta pobytu" stays Polish), or the transliteration
   word lists say so; which of the two by the words only one dictionary knows,
   then the word lists, then lingua on the message written back in Cyrillic.
   Then the Polish/English word lists, then lingua restricted to the four
   languages; a message with few Polish or English words (by the word lists and
   by the dictionaries) that lingua, in its low-accuracy mode over other
   languages migrants in Poland write, places elsewhere (Spanish, Vietnamese,
   Tagalog, …) is "other".

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
from iom.core.transliteration import back_transliterate, knowledge

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
    """Load lingua's models and the dictionaries now, not on the first message."""
    _lingua().compute_language_confidence_values("warm up rozgrzewka привіт")
    _lingua_wide().detect_language_of("hola necesito ayuda")
    knowledge("rozgrzewka")  # pymorphy3's and simplemma's Polish/English data


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


# The organisation's names, however typed ("iom", "mom").
_NAMES = frozenset({"iom", "mom", "oim"})
# Letters of a word that alone makes a message transliterated ("konechno").
MIN_LONE_WORD = 7
# Letters of a word only Ukrainian or Russian knows that, with no Polish or
# English word beside it, makes a message transliterated ("hej bot" is not).
MIN_UNOPPOSED_WORD = 4


def _counted(words: list[str]) -> list[str]:
    """Words that may tell a language by dictionary: 3+ letters, not a name.

    "na", "ne", "za", "do", "ty" are Polish, Ukrainian and Russian alike; "IOM",
    "MOM", "UKR" are acronyms, and a capitalised word after the first ("Messi",
    "Everest") is most likely a name that any dictionary may happen to know.
    """
    return [
        w
        for i, w in enumerate(words)
        if len(w) >= 3
        and not w.isupper()
        and (i == 0 or not w[0].isupper())
        and fold(w) not in _NAMES
    ]


@dataclass(frozen=True)
class _Dictionaries:
    """What the dictionaries know of a Latin message's counted words.

    A word of the transliteration word lists ("yak"; "tak" is left out) counts as
    Ukrainian/Russian only unless Polish knows it ("yak" is English too, "robota"
    is Polish).
    """

    counted: int
    slavic: int  # known back-transliterated to Ukrainian or Russian
    only_slavic: int  # ... and neither Polish nor English
    polish_or_english: int  # known as Polish or English and not only Slavic
    not_slavic: int  # known as Polish or English and not as Ukrainian or Russian
    longest_slavic: int  # letters of the longest word known only transliterated
    # Known in Ukrainian and not in Russian, or the reverse; a Polish word does not
    # tell them apart ("pobytu" is Ukrainian побиту, but means karta pobytu).
    uk: int
    ru: int

    @classmethod
    def of(cls, words: list[str]) -> _Dictionaries:
        # "hej hej", "Mon … mon" are one word each
        unique = list({w.lower(): w for w in reversed(_counted(words))}.values())
        counts = dict.fromkeys(
            ("slavic", "only", "polish_or_english", "not_slavic", "uk", "ru"), 0
        )
        longest = 0
        for word in unique:
            known = knowledge(word)
            listed = fold(word) in TRANSLIT
            slavic = known.slavic or listed
            only = known.only_slavic or (listed and not known.pl)
            foreign = known.pl or known.en
            counts["slavic"] += slavic
            counts["only"] += only
            counts["polish_or_english"] += foreign and not only
            counts["not_slavic"] += foreign and not slavic
            if not known.pl:
                counts["uk"] += known.uk and not known.ru
                counts["ru"] += known.ru and not known.uk
            if only:
                longest = max(longest, len(word))
        return cls(
            counted=len(unique),
            slavic=counts["slavic"],
            only_slavic=counts["only"],
            polish_or_english=counts["polish_or_english"],
            not_slavic=counts["not_slavic"],
            longest_slavic=longest,
            uk=counts["uk"],
            ru=counts["ru"],
        )

    @property
    def transliterated(self) -> bool:
        """Mostly Ukrainian/Russian words, clearly more than Polish or English.

        And two words only these dictionaries know; or one, with no word only
        Polish or English knows ("de zrobyty kartu pobytu"); or one long one in a
        message of one or two words ("blagodaryu", not "hej" or "narka"). "Mon
        employeur a pris mon passeport" has only "pris".
        """
        return (
            self.slavic * 2 > self.counted
            and self.slavic > self.polish_or_english
            and (
                self.only_slavic >= 2
                or (
                    self.counted >= 2
                    and self.longest_slavic >= MIN_UNOPPOSED_WORD
                    and not self.not_slavic
                )
                or (self.counted <= 2 and self.longest_slavic >= MIN_LONE_WORD)
            )
        )


def _transliterated(
    words: list[str], folded: list[str], pl_en_hits: int, min_confidence: float
) -> Detection | None:
    known = _Dictionaries.of(words)
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
    if not (known.transliterated or mostly or alone or some):
        return None
    if known.uk != known.ru:
        return Detection("uk" if known.uk > known.ru else "ru", "transliterated")
    if uk != ru:
        return Detection("uk" if uk > ru else "ru", "transliterated, word lists")
    return _rendered_vote(words, min_confidence)


def _rendered_vote(words: list[str], min_confidence: float) -> Detection:
    """Lingua on the message written back in Cyrillic, both ways.

    Each word is spelled as Ukrainian and as Russian would have it ("konechno":
    конечно both ways); only when both renderings are the same language, surely,
    is it that language ("dobryi den" reads Ukrainian as добрий and Russian as
    добрый: each rendering votes for itself, so it stays undecided).
    """
    votes = []
    for language in ("uk", "ru"):
        spelled = [
            next(iter(back_transliterate(w.lower(), language)), "")
            for w in words
            if w.lower().isascii()
        ]
        text = " ".join(w for w in spelled if w)
        votes.append(_lingua_vote(text, ("uk", "ru")) if text else (None, 0.0))
    (code, first), (again, second) = votes
    confidence = min(first, second)
    if code is None or code != again or confidence < min_confidence:
        return Detection(None, f"{UNCLEAR_PREFIX} transliteration")
    reason = f"transliterated, lingua {confidence:.2f}"
    return Detection(code, reason)  # type: ignore[arg-type]


def _mostly_polish_or_english(words: list[str]) -> bool:
    """Most counted words are English (over 2/3) or Polish or English (4/5).

    Not just half: German and Tagalog share short words and loanwords with them
    ("man", "hat", "mir", "Ich suche"; "residence card"), and Polish restored
    diacritics make more words Polish than are.
    """
    known = [knowledge(w) for w in _counted(words)]
    english = sum(k.en for k in known)
    either = sum(k.pl or k.en for k in known)
    return bool(known) and (
        english * 3 > len(known) * 2 or either * 5 >= len(known) * 4
    )


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
    translit = _transliterated(words, folded, pl_hits + en_hits, min_confidence)
    if translit is not None:
        return translit
    # Few Polish or English words in a longer message ("hola necesito ayuda con
    # mi trabajo" has only "mi"): first ask whether it is another language.
    joined = " ".join(words)
    few_known = (pl_hits + en_hits) * 4 < len(words)
    if (
        len(words) >= 3
        and few_known
        and not _mostly_polish_or_english(words)
        and _is_other_latin(joined)
    ):
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
