"""Polish city names in every form people write them, for the contact lookup.

Polish cases come from Morfeusz2 (generated once, when first needed), English
names ("Warsaw", "Cracow"), and Ukrainian and Russian stems in Cyrillic with their
case endings ("Варшаві", "Кракове"). :func:`canonical_city` resolves a message's
city; :func:`looks_like_city` tells the language detector that a word is a name.
"""

from __future__ import annotations

from functools import lru_cache

from iom.core.language import (
    CYRILLIC,
    EN_WORDS,
    PL_WORDS,
    RU_WORDS,
    UK_WORDS,
    WORD,
    _words,
    fold,
)

# --- city names ----------------------------------------------------------------
CITIES: tuple[str, ...] = (
    "Warszawa",
    "Kraków",
    "Wrocław",
    "Poznań",
    "Gdańsk",
    "Gdynia",
    "Sopot",
    "Lublin",
    "Łódź",
    "Katowice",
    "Rzeszów",
    "Szczecin",
    "Białystok",
    "Bydgoszcz",
    "Toruń",
    "Kielce",
    "Olsztyn",
    "Opole",
    "Przemyśl",
    "Chełm",
    "Radom",
    "Częstochowa",
    "Sosnowiec",
    "Gliwice",
    "Zabrze",
    "Bytom",
    "Rybnik",
    "Tychy",
    "Elbląg",
    "Płock",
    "Wałbrzych",
    "Włocławek",
    "Tarnów",
    "Legnica",
    "Koszalin",
    "Kalisz",
    "Słupsk",
    "Zamość",
    "Siedlce",
    "Piła",
)
ENGLISH_NAMES = {"warsaw": "Warszawa", "cracow": "Kraków", "lodz": "Łódź"}
# Ukrainian and Russian stems (folded); a word is the city when it is the stem
# plus a case ending of at most three letters ("Варшаві", "Кракове", "Гданську").
CYRILLIC_STEMS: dict[str, tuple[str, ...]] = {
    "Warszawa": ("варшав",),
    "Kraków": ("краків", "краков"),
    "Wrocław": ("вроцлав",),
    "Poznań": ("познан",),
    "Gdańsk": ("гданськ", "гданьск", "гданск"),
    "Gdynia": ("гдин", "гдын"),
    "Sopot": ("сопот",),
    "Lublin": ("люблін", "люблин"),
    "Łódź": ("лодз",),
    "Katowice": ("катовіц", "катовиц"),
    "Rzeszów": ("жешув", "жешов", "ряшів", "ряшев"),
    "Szczecin": ("щецін", "щецин"),
    "Białystok": ("білосто", "белосто"),
    "Bydgoszcz": ("бидгощ", "быдгощ"),
    "Toruń": ("торун",),
    "Kielce": ("кельц",),
    "Olsztyn": ("ольштин", "ольштын"),
    "Opole": ("ополе", "опол"),
    "Przemyśl": ("перемишл", "перемышл", "пшемисл", "пшемысл"),
    "Chełm": ("хелм", "холм"),
    "Radom": ("радом",),
    "Częstochowa": ("ченстохов",),
    "Sosnowiec": ("сосновець", "сосновц", "сосновец"),
    "Gliwice": ("гливіц", "гливиц", "глівіц"),
    "Zabrze": ("забже",),
    "Bytom": ("битом", "бытом"),
    "Rybnik": ("рибник", "рыбник"),
    "Tychy": ("тихи", "тихах", "тыхы"),
    "Elbląg": ("ельблонг", "эльблонг"),
    "Płock": ("плоцк", "плоцьк"),
    "Wałbrzych": ("валбжих", "вальбжих"),
    "Włocławek": ("влоцлав",),
    "Tarnów": ("тарнув", "тарнов"),
    "Legnica": ("легниц", "легніц"),
    "Koszalin": ("кошалін", "кошалин"),
    "Kalisz": ("каліш", "калиш"),
    "Słupsk": ("слупськ", "слупск"),
    "Zamość": ("замость", "замосць", "замосьц", "замостя", "замостье"),
    "Siedlce": ("седльц", "сєдльц", "седлец"),
    "Piła": ("піла", "пила", "пілі", "пиле"),
}
_CYRILLIC_ENDING_MAX = 3
PREPOSITIONS = _words(
    """w we z ze do na pod od kolo obok blisko niedaleko okolice okolicach
    in near from to at around у в з із зі до на біля поруч під від із во со
    около возле рядом под от"""
)


@lru_cache(maxsize=1)
def form_table() -> dict[str, str]:
    """Folded Latin-script form -> canonical city (Polish cases from Morfeusz2)."""
    import morfeusz2

    morfeusz = morfeusz2.Morfeusz()
    table: dict[str, str] = {}
    for city in CITIES:
        table[fold(city)] = city
        for form, _lemma, tag, names, _quals in morfeusz.generate(city):
            if tag.startswith("subst") and "nazwa_geograficzna" in names:
                table.setdefault(fold(form), city)
    table.update(ENGLISH_NAMES)
    return table


@lru_cache(maxsize=1)
def _cyrillic_stems() -> tuple[tuple[str, str], ...]:
    """(folded stem, city), longest stems first so "гдин" never shadows a longer one."""
    pairs = [(fold(s), city) for city, stems in CYRILLIC_STEMS.items() for s in stems]
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


def _cyrillic_city(folded: str) -> str | None:
    for stem, city in _cyrillic_stems():
        if folded.startswith(stem) and len(folded) - len(stem) <= _CYRILLIC_ENDING_MAX:
            return city
    return None


def city_of_word(word: str) -> str | None:
    """The canonical city this one word names, in any script and case form."""
    folded = fold(word)
    if folded in PREPOSITIONS:
        return None
    if CYRILLIC.search(folded):
        return _cyrillic_city(folded)
    return form_table().get(folded)


def canonical_city(text: str) -> str | None:
    """The canonical city named in ``text`` (a phrase or a whole message), if any."""
    for word in WORD.findall(text):
        city = city_of_word(word)
        if city is not None:
            return city
    return None


_CITY_PREFIXES = tuple(sorted({fold(city)[:5] for city in CITIES} | set(ENGLISH_NAMES)))


def looks_like_city(word: str) -> bool:
    """Tell language detection whether this word is a city name, cheaply.

    City names carry Polish diacritics into English or Cyrillic sentences ("help in
    Gdańsk"), so they must not count as Polish words. No dictionary is loaded.
    """
    folded = fold(word)
    if CYRILLIC.search(folded):
        return _cyrillic_city(folded) is not None
    return len(folded) >= 4 and folded.startswith(_CITY_PREFIXES)


# The city question's "anywhere in Poland" answer: the nationwide lines only.
ANYWHERE = "*"
# An answer to "which city?" longer than this is a sentence, not a town.
MAX_TOWN_WORDS = 3
# Short replies that are not towns and that the word lists leave out (a word two
# languages share is in neither list).
REPLY_WORDS = frozenset({"no", "nope", "ok", "okay", "so", "так", "да", "ні", "нет"})


def could_be_a_town(text: str) -> bool:
    """Whether an answer to "which city?" may name a town the resolver does not know.

    One to three words, letters only, none of them a word of the four languages'
    word lists or a short reply ("nie", "no", "так"): "Zyrardow", "Nowy Targ".
    """
    words = WORD.findall(text)
    if not 0 < len(words) <= MAX_TOWN_WORDS or any(c.isdigit() for c in text):
        return False
    if len("".join(words)) < len("".join(text.split())) - 2:  # mostly not letters
        return False
    known = PL_WORDS | EN_WORDS | UK_WORDS | RU_WORDS | REPLY_WORDS
    return not any(fold(w) in known for w in words)
