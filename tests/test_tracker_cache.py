"""The cached tracker store gives what Rasa's SQLTrackerStore gives, turn after turn.

Every conversation of the test stories is replayed turn by turn (load, the turn's
events, save, as Rasa's processor does) through the store with its cache and through
the same store with `cache_size: 0` (Rasa's own load and save, with redaction): the
stored rows must be the same, and every load must equal a load by Rasa's own
`SQLTrackerStore` from the same database. Then two store instances on one database
(one instance handles a turn, the other must see it), conversations at once on both,
erasure, and a new session. The model-driven test sends the test stories' messages
through a real Agent, once with the cache and once without, and compares the
predictions and the stored events.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.core.training_data.story_reader.yaml_story_reader import (
    YAMLStoryReader,
)

from iom.core.retention import erase
from iom.rasa.tracker_cache import TRACKER_ATTRIBUTES, clone_tracker
from iom.rasa.tracker_store import RedactingSQLTrackerStore
from tests.conftest import MODEL, ROOT

Turn = list[Event]
PHONE_TEXT = "mój numer 512 345 678, mail olena@gmail.com"


@pytest.fixture(scope="module")
def domain() -> Domain:  # type: ignore[override]
    """The real domain (Rasa's object, not the YAML dict of conftest)."""
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(scope="module")
def stories(domain: Domain) -> dict[str, list[Turn]]:
    """Every test story as turns: a user message and the events up to the next."""
    conversations: dict[str, list[Turn]] = {}
    for path in sorted((ROOT / "tests" / "stories").glob("*.yml")):
        for step in YAMLStoryReader(domain).read_from_file(str(path)):
            turns: list[Turn] = []
            for event in step.events:
                if isinstance(event, UserUttered) or not turns:
                    turns.append([])
                turns[-1].append(event)
            conversations[step.block_name] = turns
    return conversations


def url(database: Path) -> str:
    return f"sqlite:///{database}"


def store(database: Path, domain: Domain, **kwargs: Any) -> RedactingSQLTrackerStore:
    return RedactingSQLTrackerStore(domain=domain, host=url(database), **kwargs)


def state(tracker: DialogueStateTracker | None) -> dict[str, Any] | None:
    """All a tracker holds, comparable (events, slots, active loop, latest …)."""
    if tracker is None:
        return None
    current = tracker.current_state(EventVerbosity.ALL)
    current["slots"] = {name: slot.value for name, slot in tracker.slots.items()}
    current["followup_action"] = tracker.followup_action
    current["latest_action"] = tracker.latest_action
    return current


def rows(database: Path) -> list[tuple]:
    """Every stored row but its id, in id order."""
    with sa.create_engine(url(database)).connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                sa.text(
                    "select sender_id, type_name, timestamp, intent_name, action_name,"
                    " data from events order by id"
                )
            )
        ]


def fresh(event: Event, clock: list[float]) -> Event:
    """A copy of a story event with the next timestamp (as a live turn gives)."""
    copied = Event.from_parameters(event.as_dict())
    clock[0] += 1.0
    copied.timestamp = clock[0]
    return copied


def session_start_events(clock: list[float]) -> list[Event]:
    events: list[Event] = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
    ]
    for event in events:
        clock[0] += 1.0
        event.timestamp = clock[0]
    return events


async def turn(
    tracker_store: RedactingSQLTrackerStore, sender: str, events: list[Event]
) -> DialogueStateTracker:
    """One turn as Rasa's processor runs it: load (or create), update, save."""
    tracker = await tracker_store.get_or_create_tracker(
        sender, append_action_listen=False
    )
    for event in events:
        tracker.update(event)
    await tracker_store.save(tracker)
    return tracker


async def replay(
    database: Path,
    domain: Domain,
    conversations: dict[str, list[Turn]],
    cache_size: int,
    check: bool,
) -> None:
    """Replay conversations turn by turn; with `check`, compare every load with Rasa's."""
    tracker_store = store(database, domain, cache_size=cache_size, off_loop=False)
    rasa_store = SQLTrackerStore(domain=domain, host=url(database))
    clock = [1_700_000_000.0]
    for sender, turns in conversations.items():
        for number, events in enumerate(turns):
            new = [fresh(event, clock) for event in events]
            if number == 0:
                new = session_start_events(clock) + new
            elif number == len(turns) // 2:  # a second session, slots carried over
                before = await tracker_store.retrieve(sender)
                assert before is not None
                slots = [
                    SlotSet(name, slot.value)
                    for name, slot in before.slots.items()
                    if slot.value is not None
                ]
                starts = session_start_events(clock)
                for event in slots:
                    clock[0] += 1.0
                    event.timestamp = clock[0]
                new = [*starts[:2], *slots, *starts[2:], *new]
            await turn(tracker_store, sender, new)
            if check:
                mine = await tracker_store.retrieve(sender)
                assert state(mine) == state(await rasa_store.retrieve(sender))
                assert state(
                    await tracker_store.retrieve_full_tracker(sender)
                ) == state(await rasa_store.retrieve_full_tracker(sender))


def test_test_stories_store_the_same_rows_and_load_as_rasa_does(
    tmp_path: Path, domain: Domain, stories: dict[str, list[Turn]]
) -> None:
    cached, plain = tmp_path / "cached.db", tmp_path / "plain.db"
    asyncio.run(replay(cached, domain, stories, cache_size=256, check=True))
    asyncio.run(replay(plain, domain, stories, cache_size=0, check=False))
    stored = rows(cached)
    assert len(stored) > 400
    assert stored == rows(plain)


def test_a_tiny_cache_evicts_and_still_loads_as_rasa_does(
    tmp_path: Path, domain: Domain, stories: dict[str, list[Turn]]
) -> None:
    some = dict(list(stories.items())[:6])
    asyncio.run(replay(tmp_path / "a.db", domain, some, cache_size=2, check=True))
    asyncio.run(replay(tmp_path / "b.db", domain, some, cache_size=0, check=False))
    assert rows(tmp_path / "a.db") == rows(tmp_path / "b.db")


def user(text: str, intent: str = "greet") -> UserUttered:
    return UserUttered(text, intent={"name": intent, "confidence": 0.9})


def test_another_instance_turn_is_seen_by_the_first(
    tmp_path: Path, domain: Domain
) -> None:
    database = tmp_path / "shared.db"
    first, second = store(database, domain), store(database, domain)
    rasa_store = SQLTrackerStore(domain=domain, host=url(database))

    async def go() -> None:
        clock = [1_700_000_000.0]
        await turn(first, "s", session_start_events(clock) + [user("hello")])
        await turn(first, "s", [ActionExecuted("utter_greet"), user("thanks")])
        # the next turn reaches the second instance (nginx), then the first again
        await turn(second, "s", [ActionExecuted("utter_thanks"), user("bye")])
        seen = await first.retrieve("s")
        assert seen is not None and seen.latest_message.text == "bye"
        assert state(seen) == state(await rasa_store.retrieve("s"))
        # events appended through the HTTP API on the second instance
        appended = await second.retrieve("s")
        assert appended is not None
        appended.update(BotUttered("an operator writes", metadata={"operator": "x"}))
        await second.save(appended)
        seen = await first.retrieve("s")
        assert (
            seen is not None and seen.latest_bot_utterance.text == "an operator writes"
        )
        await turn(first, "s", [ActionExecuted("utter_goodbye")])
        assert state(await first.retrieve("s")) == state(await rasa_store.retrieve("s"))

    asyncio.run(go())
    texts = [
        json.loads(row[5]).get("text")
        for row in rows(database)
        if row[1] in ("user", "bot")
    ]
    assert texts == ["hello", "thanks", "bye", "an operator writes"]


def test_an_erased_conversation_is_not_served_from_the_cache(
    tmp_path: Path, domain: Domain
) -> None:
    database = tmp_path / "erase.db"
    tracker_store = store(database, domain)

    async def go() -> None:
        clock = [1_700_000_000.0]
        await turn(tracker_store, "gone", session_start_events(clock) + [user("hi")])
        assert await tracker_store.retrieve("gone") is not None
        erase(sa.create_engine(url(database)), "gone")
        assert await tracker_store.retrieve("gone") is None
        # the conversation starts again, with nothing of the old one
        tracker = await turn(tracker_store, "gone", [user("again")])
        assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == [
            "again"
        ]

    asyncio.run(go())


def test_the_cache_holds_the_redacted_events_as_stored(
    tmp_path: Path, domain: Domain
) -> None:
    database = tmp_path / "redacted.db"
    tracker_store = store(database, domain)
    rasa_store = SQLTrackerStore(domain=domain, host=url(database))

    async def go() -> None:
        clock = [1_700_000_000.0]
        tracker = await turn(
            tracker_store,
            "pii",
            session_start_events(clock)
            + [user(PHONE_TEXT, "ask_contact"), SlotSet("city", "512 345 678")],
        )
        # the turn's own tracker keeps the text: NLU and actions saw it
        assert tracker.latest_message.text == PHONE_TEXT
        loaded = await tracker_store.retrieve("pii")
        assert loaded is not None
        assert "512" not in json.dumps(state(loaded))
        assert "olena@" not in json.dumps(state(loaded))
        assert state(loaded) == state(await rasa_store.retrieve("pii"))

    asyncio.run(go())
    stored = json.dumps([json.loads(row[5]) for row in rows(database)])
    assert "512 345 678" not in stored and "olena@gmail.com" not in stored


def test_concurrent_conversations_on_two_instances_lose_and_repeat_nothing(
    tmp_path: Path, domain: Domain, stories: dict[str, list[Turn]]
) -> None:
    database = tmp_path / "two.db"
    instances = [store(database, domain), store(database, domain)]
    rasa_store = SQLTrackerStore(domain=domain, host=url(database))
    conversations = {
        f"c{n}-{uuid.uuid4().hex[:6]}": turns
        for n, turns in enumerate(list(stories.values())[:12])
    }
    picks = random.Random(19)

    async def conversation(sender: str, turns: list[Turn], lock: asyncio.Lock) -> None:
        clock = [time.time()]
        for number, events in enumerate(turns):
            new = [fresh(event, clock) for event in events]
            if number == 0:
                new = session_start_events(clock) + new
            async with lock:  # Rasa's lock store: one turn of a conversation at once
                await turn(instances[picks.randrange(2)], sender, new)
            await asyncio.sleep(0)

    async def go() -> None:
        await asyncio.gather(
            *(conversation(s, t, asyncio.Lock()) for s, t in conversations.items())
        )
        for sender in conversations:
            expected = await rasa_store.retrieve(sender)
            for instance in instances:
                assert state(await instance.retrieve(sender)) == state(expected)

    asyncio.run(go())
    stored = rows(database)
    for sender, turns in conversations.items():
        users = [
            json.loads(row[5])["text"]
            for row in stored
            if row[0] == sender and row[1] == "user"
        ]
        sent = [
            e.text for events in turns for e in events if isinstance(e, UserUttered)
        ]
        assert users == sent


def test_a_handed_out_tracker_changes_nothing_in_the_cache(
    tmp_path: Path, domain: Domain
) -> None:
    database = tmp_path / "clone.db"
    tracker_store = store(database, domain)

    async def go() -> None:
        clock = [1_700_000_000.0]
        await turn(
            tracker_store,
            "c",
            session_start_events(clock)
            + [user("help in Gdansk"), ActiveLoop("city_form"), SlotSet("city", "x")],
        )
        before = state(await tracker_store.retrieve("c"))
        tracker = await tracker_store.retrieve("c")
        assert tracker is not None
        tracker.update(SlotSet("city", "changed"))
        tracker.reject_action("city_form")
        tracker.update(ActiveLoop(None))
        tracker.update(user("not saved"))
        assert state(await tracker_store.retrieve("c")) == before

    asyncio.run(go())


def test_a_clone_copies_every_attribute_rasa_keeps(domain: Domain) -> None:
    tracker = DialogueStateTracker.from_events(
        "a", [user("hi"), ActionExecuted("utter_greet")], domain.slots
    )
    assert set(vars(tracker)) == TRACKER_ATTRIBUTES
    assert state(clone_tracker(tracker)) == state(tracker)


@pytest.fixture(scope="module")
def story_messages(stories: dict[str, list[Turn]]) -> Iterator[list[list[str]]]:
    """The user texts of every test story."""
    yield [
        [e.text for events in turns for e in events if isinstance(e, UserUttered)]
        for turns in stories.values()
    ]


def predictions(database: Path) -> list[tuple]:
    """What each stored event says (policy and confidence too), without times and
    generated text."""
    said: list[tuple] = []
    for sender, type_name, _, intent, action, data in rows(database):
        event = json.loads(data)
        said.append(
            (
                sender,
                type_name,
                intent,
                action,
                event.get("value") if type_name == "slot" else None,
                (event.get("metadata") or {}).get("utter_action"),
                event.get("policy"),
                event.get("confidence"),
            )
        )
    return said


def test_the_agent_predicts_the_same_with_and_without_the_cache(
    tmp_path: Path, live_bot: Any, story_messages: list[list[str]], domain: Domain
) -> None:
    """The test stories' messages through a real Agent: cached store vs Rasa's way.

    Every load of the cached store must equal Rasa's own load, turn after turn.
    """
    from rasa.core.agent import Agent
    from rasa.core.lock_store import InMemoryLockStore
    from rasa.utils.endpoints import EndpointConfig

    action_endpoint = EndpointConfig(f"http://127.0.0.1:{live_bot.action_port}/webhook")
    # one long conversation (where the cache matters most) of every story's messages
    conversations = {"long": [text for texts in story_messages for text in texts]}
    agent = Agent.load(
        str(MODEL), lock_store=InMemoryLockStore(), action_endpoint=action_endpoint
    )

    async def run(database: Path, cache_size: int) -> None:
        tracker_store = store(database, agent.domain, cache_size=cache_size)
        agent.tracker_store = tracker_store
        agent.processor.tracker_store = tracker_store
        rasa_store = SQLTrackerStore(domain=agent.domain, host=url(database))
        for sender, texts in conversations.items():
            for text in texts:
                await agent.handle_text(text, sender_id=sender)
                if cache_size:
                    assert state(await tracker_store.retrieve(sender)) == state(
                        await rasa_store.retrieve(sender)
                    )

    asyncio.run(run(tmp_path / "cached.db", 256))
    asyncio.run(run(tmp_path / "plain.db", 0))
    cached = predictions(tmp_path / "cached.db")
    assert len(cached) > 500
    assert cached == predictions(tmp_path / "plain.db")
