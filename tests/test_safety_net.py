"""The safety net: danger, crisis and trafficking cues in every language win over the
classifier's doubt, and leave other intents alone."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from iom.core.safety import CRISIS, DANGER, TRAFFICKING, safety_cue
from iom.rasa.nlu.components import SAFETY_NET_KEY, SafetyNet


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("pomocy zamknęli mnie w pokoju", DANGER),
        ("they locked me in the basement", DANGER),
        ("мене зачинили в кімнаті", DANGER),
        ("меня заперли и бьют", DANGER),
        ("chcę się zabić", CRISIS),
        ("I want to kill myself", CRISIS),
        ("не хочу більше жити", CRISIS),
        ("хочу покончить с собой", CRISIS),
        ("is there a hotline for trafficking victims?", TRAFFICKING),
        ("telefon zaufania dla ofiar handlu ludźmi", TRAFFICKING),
        ("szef zabrał mi paszport", TRAFFICKING),
        ("роботодавець забрав мій паспорт", TRAFFICKING),
        ("гаряча лінія для жертв торгівлі людьми", TRAFFICKING),
        ("заставляют отрабатывать долг", TRAFFICKING),
        ("ZABRALI MI PASZPORT!!!", TRAFFICKING),
    ],
)
def test_cues_in_every_language(text: str, intent: str) -> None:
    assert safety_cue(text) == intent


@pytest.mark.parametrize(
    "text",
    [
        "jak przedłużyć paszport",
        "how do I renew my passport",
        "де зробити паспорт",
        "где получить загранпаспорт",
        "I lost my documents",
        "szukam pracy w Krakowie",
        "дякую, до побачення",
    ],
)
def test_no_cue_in_ordinary_questions(text: str) -> None:
    assert safety_cue(text) is None


def _net() -> SafetyNet:
    return SafetyNet.create(
        {}, LocalModelStorage("."), Resource("net"), ExecutionContext(GraphSchema({}))
    )


def _message(text: str, intent: str, confidence: float) -> Message:
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": confidence})
    message.set(
        INTENT_RANKING_KEY,
        [
            {"name": intent, "confidence": confidence},
            {"name": "greet", "confidence": 0.1},
        ],
    )
    return message


def test_net_overrides_an_unsure_or_unrelated_intent() -> None:
    message = _message(
        "is there a hotline for trafficking victims?", "ask_info_line", 0.41
    )
    (out,) = _net().process([message])
    assert out.get(INTENT) == {"name": TRAFFICKING, "confidence": 1.0}
    assert out.get(INTENT_RANKING_KEY)[0]["name"] == TRAFFICKING
    assert out.get(SAFETY_NET_KEY) == {"from": "ask_info_line", "to": TRAFFICKING}


@pytest.mark.parametrize("kept", ["immediate_danger", "request_human", "contact_iom"])
def test_net_keeps_safety_handoff_and_contact_intents(kept: str) -> None:
    message = _message("szef zabrał mi paszport", kept, 0.9)
    (out,) = _net().process([message])
    assert out.get(INTENT)["name"] == kept
    assert out.get(SAFETY_NET_KEY) is None


def test_net_leaves_messages_without_cues() -> None:
    message = _message("jak przedłużyć paszport", "ask_residence", 0.5)
    (out,) = _net().process([message])
    assert out.get(INTENT)["name"] == "ask_residence"


def test_trafficking_hotline_asked_as_a_trust_line_gets_the_trafficking_answer() -> None:
    """The crisis answer has no trafficking lines: a trafficking cue replaces it."""
    message = _message(
        "телефон довіри для постраждалих від торгівлі людьми", "emotional_crisis", 0.99
    )
    (out,) = _net().process([message])
    assert out.get(INTENT)["name"] == TRAFFICKING


def test_a_kept_safety_intent_becomes_certain_and_unambiguous() -> None:
    """A low-confidence safety intent must not end in the clarification menu."""
    message = _message("мене зачинили в кімнаті", "immediate_danger", 0.3)
    message.set(
        INTENT_RANKING_KEY,
        [
            {"name": "immediate_danger", "confidence": 0.3},
            {"name": "greet", "confidence": 0.29},
        ],
    )
    (out,) = _net().process([message])
    assert out.get(INTENT) == {"name": DANGER, "confidence": 1.0}
    ranking = out.get(INTENT_RANKING_KEY)
    assert ranking[0]["confidence"] - ranking[1]["confidence"] > 0.1


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("муж с ножом и орет", DANGER),
        ("за мною їде машина від самої роботи", DANGER),
        ("I'm afraid for my life", DANGER),
        ("nie wiem gdzie jestem, zabrali telefony", DANGER),
        ("назбирала таблеток", CRISIS),
        ("I saved all my pills", CRISIS),
        ("chcę coś sobie zrobić", CRISIS),
    ],
)
def test_general_danger_and_crisis_phrases(text: str, intent: str) -> None:
    assert safety_cue(text) == intent


@pytest.mark.parametrize(
    "text",
    [
        "надо что-то сделать с документами",
        "треба щось зробити з документами",
        "where is the office, I don't know where to go",
        "I take pills for my back, where is a doctor",
    ],
)
def test_general_phrases_do_not_fire_on_ordinary_messages(text: str) -> None:
    assert safety_cue(text) is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("net smysla zhit", CRISIS),
        ("ne khochu zhyty", CRISIS),
        ("spasite nas zaperli", DANGER),
        ("zabrali pasport i zastavlyayut otrabotat dolg", TRAFFICKING),
        ("shef zabrav pasport i kazhe vidpratsiuvaty borh", TRAFFICKING),
    ],
)
def test_transliterated_ukrainian_and_russian_cues(text: str, intent: str) -> None:
    assert safety_cue(text) == intent


def test_contact_lookup_about_trafficking_gets_the_trafficking_topic() -> None:
    message = _message("is the trafficking hotline open now?", "contact_iom", 0.7)
    (out,) = _net().process([message])
    assert out.get(INTENT) == {"name": "contact_iom", "confidence": 1.0}
    assert [e["value"] for e in out.get("entities")] == ["trafficking"]


# Issue 17: the net is the part of safety recognition that does not change between
# retrains, so it carries the phrasings of danger, crisis and trafficking people use
# (stems and word orders, every language) and the gate's verdicts stay steady.
@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # danger: threats in the future tense, strangling, weapons, being driven off,
        # chased, held by force, a door broken in, not safe, rape
        ("powiedział że mnie dziś zabije", DANGER),
        ("szef mowi ze mnie zakopie w lesie", DANGER),
        ("on mnie dusil", DANGER),
        ("nie wypuszczają mnie z mieszkania", DANGER),
        ("oni maja bron", DANGER),
        ("ktoś mnie goni", DANGER),
        ("zamykają nas na klucz na noc", DANGER),
        ("nie jestem tu bezpieczna", DANGER),
        ("my partner is choking me", DANGER),
        ("they say they kill me today", DANGER),
        ("the guard has a gun", DANGER),
        ("i escaped and they chased us", DANGER),
        ("we're not safe here", DANGER),
        ("please call the police", DANGER),
        ("він мене душить", DANGER),
        ("у нього ніж", DANGER),
        ("мене везуть в машині не знаю куди", DANGER),
        ("він мене бє при дітях", DANGER),
        ("погрожує спалити хату", DANGER),
        ("муж бегает с топором", DANGER),
        ("за мной гонятся", DANGER),
        ("меня преследует машина", DANGER),
        ("он сказал что убьет", DANGER),
        ("pomozhit, vin mene bye", DANGER),
        ("szef mnie uderzył w twarz", DANGER),
        ("бригадир вдарив мене", DANGER),
        ("меня ударил сожитель", DANGER),
        ("they are attacking my friend", DANGER),
        # crisis: methods, farewells, "no point in living", better off without me
        ("mysle zeby sie powiesic", CRISIS),
        ("chce skoczyc z mostu", CRISIS),
        ("tne sie od tygodnia", CRISIS),
        ("lepiej by było gdyby mnie nie było", CRISIS),
        ("I keep thinking about killing myself", CRISIS),
        ("everyone would be better off without me", CRISIS),
        ("life isnt worth living", CRISIS),
        ("i wrote a suicide note", CRISIS),
        ("не бачу сенсу жити", CRISIS),
        ("думаю повіситись", CRISIS),
        ("без меня всем станет легче", CRISIS),
        ("хочу уснуть и не проснуться", CRISIS),
        ("стою на крыше", CRISIS),
        ("już się pożegnałam ze wszystkimi", CRISIS),
        ("i already said my goodbyes", CRISIS),
        ("вже попрощався з сином", CRISIS),
        # trafficking: documents held, people sold, a debt that grows or was made
        # for the journey, not allowed out, work for food, deportation threatened
        ("pracodawca trzyma nasze paszporty", TRAFFICKING),
        ("paszport u szefa, pieniedzy nie ma", TRAFFICKING),
        ("dziewczyny sprzedali innemu pracodawcy", TRAFFICKING),
        ("dług rośnie co tydzień", TRAFFICKING),
        ("nie wolno nam nigdzie wychodzić", TRAFFICKING),
        ("cały czas jej pilnują", TRAFFICKING),
        ("boss keeps all passports in his office", TRAFFICKING),
        ("i was sold to another employer", TRAFFICKING),
        ("they say I owe them for the trip", TRAFFICKING),
        ("we work for food only", TRAFFICKING),
        ("роботодавець тримає наші паспорти", TRAFFICKING),
        ("паспорт у шефа", TRAFFICKING),
        ("забрали довуд і карту побиту", TRAFFICKING),
        ("винна за дорогу і маю відпрацювати", TRAFFICKING),
        ("работодатель держит наши паспорта", TRAFFICKING),
        ("девчонок продали другому працодавцу", TRAFFICKING),
        ("шеф угрожает депортацией", TRAFFICKING),
        ("долг растет каждую неделю", TRAFFICKING),
    ],
)
def test_wider_cues_in_every_language(text: str, intent: str) -> None:
    assert safety_cue(text) == intent


@pytest.mark.parametrize(
    "text",
    [
        # figures of speech, questions about rights, documents and ordinary life
        "gramatyka polska mnie zabija",
        "ta praca mnie wykończy, ile mam urlopu",
        "zabrałem dokumenty do urzędu wojewódzkiego",
        "jak odejdę z pracy to dostanę świadectwo pracy?",
        "szef nie płaci od dwóch miesięcy, gdzie to zgłosić",
        "sprzedali nam mieszkanie z wadami",
        "ktoś w internecie grozi mojej rodzinie",
        "this heat is killing me",
        "I cut myself while cooking, where is a clinic",
        "how do I call the police to report a stolen bike",
        "my employer has not paid me for two months",
        "I have my passport, which documents do I need",
        "they threaten my family online because we are from Belarus",
        "не платять зарплату вже місяць",
        "де можна купити сокирку для дров",
        "треба повісити полицю",
        "хочу все закончить с документами до пятницы",
        "у меня долг за квартиру, что делать",
        "как вызвать полицию если украли велосипед",
        "ich war wczoraj w urzędzie",
        "pożegnałam się z córką na dworcu i przyjechałam do Polski",
        "попрощалась з родиною і поїхала в Польщу, де шукати роботу",
    ],
)
def test_wider_cues_leave_ordinary_messages_alone(text: str) -> None:
    assert safety_cue(text) is None


def _ranked(text: str, *ranking: tuple[str, float]) -> Message:
    message = Message(data={TEXT: text})
    entries = [{"name": name, "confidence": c} for name, c in ranking]
    message.set(INTENT, entries[0])
    message.set(INTENT_RANKING_KEY, entries)
    return message


def test_unsure_classifier_with_a_safety_intent_second_answers_with_it() -> None:
    """Top two closer than the ambiguity margin: the safety candidate wins."""
    message = _ranked("what do I do now", ("ask_capabilities", 0.32), (DANGER, 0.30))
    (out,) = _net().process([message])
    assert out.get(INTENT) == {"name": DANGER, "confidence": 1.0}
    assert out.get(SAFETY_NET_KEY) == {
        "from": "ask_capabilities",
        "to": DANGER,
        "reason": "doubt",
    }


def test_unsure_safety_intent_on_top_is_kept_and_made_certain() -> None:
    message = _ranked("nothing matters anymore", (CRISIS, 0.25), ("deny", 0.2))
    (out,) = _net().process([message])
    assert out.get(INTENT) == {"name": CRISIS, "confidence": 1.0}
    assert out.get(SAFETY_NET_KEY) is None


@pytest.mark.parametrize(
    "ranking",
    [
        # sure of a non-safety intent
        (("ask_housing", 0.8), (TRAFFICKING, 0.15)),
        # unsure, but no safety intent in the top two
        (("ask_housing", 0.25), ("ask_residence", 0.24), (DANGER, 0.2)),
        # unsure, the safety candidate too weak
        (("ask_housing", 0.22), (TRAFFICKING, 0.19)),
    ],
)
def test_doubt_leaves_other_messages_for_the_clarification(
    ranking: tuple[tuple[str, float], ...]
) -> None:
    message = _ranked("where can I find a flat", *ranking)
    (out,) = _net().process([message])
    assert out.get(INTENT)["name"] == ranking[0][0]
    assert out.get(SAFETY_NET_KEY) is None


def test_doubt_settings_come_from_the_config() -> None:
    strict = SafetyNet.create(
        {"doubt_minimum": 0.5},
        LocalModelStorage("."),
        Resource("net"),
        ExecutionContext(GraphSchema({})),
    )
    message = _ranked("what do I do now", ("ask_capabilities", 0.32), (DANGER, 0.30))
    (out,) = strict.process([message])
    assert out.get(INTENT)["name"] == "ask_capabilities"


@pytest.mark.parametrize("text", ["Kutno", "Nowy Targ"])
def test_doubt_leaves_one_or_two_words_alone(text: str) -> None:
    """A town typed as the answer to the city question must not become a crisis."""
    message = _ranked(text, (CRISIS, 0.25), ("deny", 0.2))
    (out,) = _net().process([message])
    assert out.get(INTENT) == {"name": CRISIS, "confidence": 0.25}
    assert out.get(SAFETY_NET_KEY) is None


def test_doubt_means_what_the_fallback_classifier_means_in_config() -> None:
    """The doubt rule answers exactly the messages that would get the clarification."""
    import yaml

    from tests.conftest import ROOT

    pipeline = yaml.safe_load((ROOT / "config.yml").read_text("utf-8"))["pipeline"]
    by_name = {component["name"]: component for component in pipeline}
    net = by_name["iom.rasa.nlu.components.SafetyNet"]
    fallback = by_name["FallbackClassifier"]
    assert net["doubt_threshold"] == fallback["threshold"]
    assert net["doubt_ambiguity"] == fallback["ambiguity_threshold"]


@pytest.mark.parametrize("text", ["xqzt vbnm kjhg", "asdf qwer zxcv 3000"])
def test_doubt_leaves_gibberish_for_the_clarification(text: str) -> None:
    """No word a dictionary knows: the ranking is the classifier's prior, not a hint."""
    message = _ranked(text, (DANGER, 0.3), ("out_of_scope", 0.1))
    (out,) = _net().process([message])
    assert out.get(INTENT) == {"name": DANGER, "confidence": 0.3}
    assert out.get(SAFETY_NET_KEY) is None


@pytest.mark.parametrize(
    "text", ["tut cholovik z nozhem", "він вже під дверима", "he is here nowww xqzt"]
)
def test_doubt_needs_only_one_known_word(text: str) -> None:
    assert safety_cue(text) is None
    message = _ranked(text, ("ask_capabilities", 0.3), (DANGER, 0.28))
    (out,) = _net().process([message])
    assert out.get(INTENT) == {"name": DANGER, "confidence": 1.0}
    assert out.get(SAFETY_NET_KEY)["reason"] == "doubt"


def test_known_words_in_every_script() -> None:
    from iom.core.transliteration import is_known_word

    known = ["pomocy", "help", "ножем", "навіщо", "nozhem", "pryvit"]
    assert all(is_known_word(w) for w in known)
    assert not any(is_known_word(w) for w in ["xqzt", "vbnm", "3000", "—"])
