"""Polish city names in any case form, with or without diacritics."""

from __future__ import annotations

import pytest

from iom.core.cities import CITIES, canonical_city


@pytest.mark.parametrize(
    ("text", "city"),
    [
        ("w Krakowie", "Kraków"),
        ("z Krakowa", "Kraków"),
        ("w krakowie", "Kraków"),
        ("Krakow", "Kraków"),
        ("Cracow", "Kraków"),
        ("z Wrocławia", "Wrocław"),
        ("we Wrocławiu", "Wrocław"),
        ("we Wroclawiu", "Wrocław"),
        ("Wroclaw", "Wrocław"),
        ("do Gdańska", "Gdańsk"),
        ("w Gdańsku", "Gdańsk"),
        ("Gdansk", "Gdańsk"),
        ("w Poznaniu", "Poznań"),
        ("z Poznania", "Poznań"),
        ("Poznan", "Poznań"),
        ("Lublinie", "Lublin"),
        ("do Lublina", "Lublin"),
        ("w Warszawie", "Warszawa"),
        ("do Warszawy", "Warszawa"),
        ("Warsaw", "Warszawa"),
        ("w Łodzi", "Łódź"),
        ("w Lodzi", "Łódź"),
        ("Lodz", "Łódź"),
        ("w Katowicach", "Katowice"),
        ("z Katowic", "Katowice"),
        ("w Rzeszowie", "Rzeszów"),
        ("Rzeszow", "Rzeszów"),
        ("w Białymstoku", "Białystok"),
        ("w Bialymstoku", "Białystok"),
        ("w Gdyni", "Gdynia"),
        ("w Szczecinie", "Szczecin"),
        ("w Przemyślu", "Przemyśl"),
        ("w Chełmie", "Chełm"),
        ("gdzie w Krakowie pomogą cudzoziemcom", "Kraków"),
        ("where can I get help in Wroclaw", "Wrocław"),
        ("w Częstochowie", "Częstochowa"),
        ("z Radomia", "Radom"),
        ("w Elblągu", "Elbląg"),
    ],
)
def test_inflected_and_ascii_forms_resolve_to_the_canonical_city(
    text: str, city: str
) -> None:
    assert canonical_city(text) == city


@pytest.mark.parametrize(
    "text", ["numer do biura IOM", "I need help", "w domu", "", "z pracy do domu"]
)
def test_text_without_a_city_gives_none(text: str) -> None:
    assert canonical_city(text) is None


def test_every_canonical_city_resolves_to_itself() -> None:
    assert all(canonical_city(city) == city for city in CITIES)


@pytest.mark.parametrize(
    ("text", "city"),
    [
        ("у Варшаві", "Warszawa"),
        ("в Варшаве", "Warszawa"),
        ("Варшава", "Warszawa"),
        ("Краків", "Kraków"),
        ("у Кракові", "Kraków"),
        ("в Кракове", "Kraków"),
        ("з Кракова", "Kraków"),
        ("Вроцлав", "Wrocław"),
        ("у Вроцлаві", "Wrocław"),
        ("Познань", "Poznań"),
        ("в Познани", "Poznań"),
        ("Гданськ", "Gdańsk"),
        ("в Гданьске", "Gdańsk"),
        ("у Любліні", "Lublin"),
        ("в Люблине", "Lublin"),
        ("Катовіце", "Katowice"),
        ("в Катовицах", "Katowice"),
        ("у Лодзі", "Łódź"),
        ("Щецин", "Szczecin"),
        ("у Щецині", "Szczecin"),
        ("у Жешуві", "Rzeszów"),
        ("в Белостоке", "Białystok"),
    ],
)
def test_cyrillic_city_forms_resolve_like_polish_ones(text: str, city: str) -> None:
    assert canonical_city(text) == city


def test_cyrillic_words_that_are_not_cities() -> None:
    assert canonical_city("мені потрібна допомога") is None
    assert canonical_city("где получить карту") is None


def test_could_be_a_town_tells_unknown_towns_from_replies() -> None:
    from iom.core.cities import could_be_a_town

    for town in ["Zyrardow", "Żyrardów", "Zakopane", "Кременчук"]:
        assert could_be_a_town(town), town
    for reply in ["nie", "no", "так", "нет", "yes", "tak", "ok", ""]:
        assert not could_be_a_town(reply), reply
    assert not could_be_a_town("I need help with my residence card please")
    assert not could_be_a_town("00-950")
