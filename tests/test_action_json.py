"""orjson for the action server's requests (iom/rasa/action_json.py): same JSON."""

from __future__ import annotations

import hashlib
import inspect
import json
import math
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

from iom.rasa import action_json
from tests.conftest import ROOT


def test_rasa_sessions_are_still_made_the_way_this_follows() -> None:
    source = inspect.getsource(action_json.RASA_SESSION)
    known = "e55aa13d9d4f"  # pragma: allowlist secret
    assert hashlib.sha256(source.encode()).hexdigest()[:12] == known


def tracker_body() -> dict[str, Any]:
    """What Rasa sends the action server: a conversation in four languages."""
    domain = Domain.load(str(ROOT / "domain.yml"))
    tracker = DialogueStateTracker.from_events("a", [], domain.slots)
    for text, intent in [
        ("Dzień dobry, gdzie jest urząd w Łodzi?", "ask_residence"),
        ("Роботодавець забрав мій паспорт", "report_trafficking"),
        ("меня заперли в комнате", "immediate_danger"),
        ('quotes " and \\ and \n newline and emoji 🙂', "greet"),
    ]:
        ranking = [{"name": intent, "confidence": 0.87654321}]
        tracker.update(
            UserUttered(
                text,
                {"name": intent, "confidence": 0.87654321},
                [{"entity": "city", "value": "Łódź", "start": 27, "end": 33}],
                {"intent_ranking": ranking, "text": text},
            )
        )
        tracker.update(SlotSet("city", "Łódź"))
        tracker.update(ActionExecuted("utter_greet", confidence=1e-7))
    return {
        "next_action": "action_contact",
        "sender_id": "a",
        "tracker": tracker.current_state(EventVerbosity.ALL),
        "domain": domain.as_dict(),
        "version": "3.6.21",
    }


@pytest.mark.parametrize(
    "value",
    [
        tracker_body(),
        {"x": [1, 2.5, -0.0, 1e300, 5e-324, True, None, "ą"]},
        {"big": 2**70},  # beyond orjson's 64 bits: json.dumps
        {1: "int key"},  # json.dumps turns it into "1"
        {"t": (1, 2)},
    ],
    ids=["tracker", "numbers", "big int", "int key", "tuple"],
)
def test_dumps_reads_back_as_json_dumps_does(value: Any) -> None:
    ours = json.loads(action_json.dumps(value))
    theirs = json.loads(json.dumps(value))
    assert json.dumps(ours, sort_keys=True) == json.dumps(theirs, sort_keys=True)


def test_nan_and_infinity_become_null() -> None:
    """`json.dumps` writes NaN / Infinity (not JSON); orjson null (documented)."""
    assert json.loads(action_json.dumps({"c": [math.nan, math.inf]})) == {
        "c": [None, None]
    }


def test_unknown_types_fail_as_json_dumps_fails() -> None:
    with pytest.raises(TypeError):
        action_json.dumps({"x": object()})


def test_install_gives_rasa_sessions_the_encoder() -> None:
    action_json.install()
    try:

        async def made() -> Any:
            async with EndpointConfig("http://127.0.0.1:1").session() as session:
                return session._json_serialize

        import asyncio

        assert asyncio.run(made()) is action_json.dumps
    finally:
        action_json.uninstall()
    assert EndpointConfig.session is action_json.RASA_SESSION
