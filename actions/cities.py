"""Resolve a Polish city name in any case form to its canonical name.

"w Krakowie", "z Wrocławia", "we Wroclawiu", "do Gdańska", "Lublinie", "Gdansk"
→ "Kraków", "Wrocław", "Wrocław", "Gdańsk", "Lublin", "Gdańsk".

The table of forms is generated once, lazily, with Morfeusz2 (the SGJP morphological
dictionary for Polish, from PyPI, offline): every singular and plural form of each
city, keyed without diacritics so that "Wroclawiu" finds "Wrocławiu". English names
("Warsaw", "Cracow") are added by hand.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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
PREPOSITIONS = frozenset(
    "w we z ze do na pod od koło kolo obok blisko niedaleko okolice okolicach "
    "in near from to at around".split()
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def fold(text: str) -> str:
    """Lowercase without diacritics ("Łodzi" -> "lodzi")."""
    text = text.lower().replace("ł", "l")
    return "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )


@lru_cache(maxsize=1)
def form_table() -> dict[str, str]:
    """Folded form -> canonical city, generated with Morfeusz2."""
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


def canonical_city(text: str) -> str | None:
    """The canonical city named in ``text`` (a phrase or a whole message), if any."""
    table = form_table()
    for word in _WORD.findall(text):
        folded = fold(word)
        if folded in PREPOSITIONS:
            continue
        if folded in table:
            return table[folded]
    return None
