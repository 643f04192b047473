"""The past-states cache (iom/rasa/past_states.py) gives exactly Rasa's states.

Every call is compared with Rasa 3.6's own `past_states` on the same tracker, on
synthetic conversations (rewinds, restarts, events replaced by equal copies, other
flags) and through a real Agent on the test stories' messages, both as separate
conversations and as one long one; and the stored predictions of that Agent are the
same with and without the cache.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rasa.core.featurizers.tracker_featurizers import TrackerFeaturizer
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    DefinePrevUserUtteredFeaturization,
    EntitiesAdded,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import (
    YAMLStoryReader,
)

from iom.rasa import action_json, past_states
from iom.rasa.past_states import Flags, StatesCache
from iom.rasa.tracker_store import RedactingSQLTrackerStore
from tests.conftest import MODEL, ROOT
from tests.test_tracker_cache import predictions

RASA = past_states._rasa_past_states

# Rasa 3.6.21's loop, which `past_states.step` follows line for line: a Rasa upgrade
# that changes it must be read before this hash is updated.
RASA_SOURCES = {
    "Domain.states_for_tracker_history": (
        Domain.states_for_tracker_history,
        "035111ce73ac",  # pragma: allowlist secret
    ),
    "DialogueStateTracker.generate_all_prior_trackers": (
        DialogueStateTracker.generate_all_prior_trackers,
        "a1f6954347b5",  # pragma: allowlist secret
    ),
    "DialogueStateTracker.past_states": (
        RASA,
        "5463eefb5c69",  # pragma: allowlist secret
    ),
}


def digest(function: Any) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:12]


def test_rasa_still_computes_states_the_way_the_cache_follows() -> None:
    found = {name: digest(function) for name, (function, _) in RASA_SOURCES.items()}
    assert found == {name: known for name, (_, known) in RASA_SOURCES.items()}


@pytest.fixture(scope="module")
def domain() -> Domain:  # type: ignore[override]
    return Domain.load(str(ROOT / "domain.yml"))


def user(text: str, intent: str = "greet") -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 1.0})


def listen() -> ActionExecuted:
    return ActionExecuted("action_listen")


def turns(n: int) -> list[Event]:
    """`n` turns of greet / ask_residence with slots and an utterance each."""
    events: list[Event] = [ActionExecuted("action_session_start"), SessionStarted()]
    events.append(listen())
    for i in range(n):
        intent = "greet" if i % 2 else "ask_residence"
        events += [
            user(f"message {i}", intent),
            SlotSet("language", "pl" if i % 3 else "uk"),
            ActionExecuted("utter_greet", hide_rule_turn=i % 4 == 0),
            listen(),
        ]
    return events


FLAGS = [
    dict(),
    dict(ignore_rule_only_turns=True, rule_only_data={"slots": [], "active_loops": []}),
    dict(
        ignore_rule_only_turns=True,
        rule_only_data={"slots": ["language"], "active_loops": []},
    ),
    dict(omit_unset_slots=True),
]


def check(
    cache: StatesCache, tracker: DialogueStateTracker, domain: Domain, **kw: Any
) -> list[Any]:
    flags = Flags(
        kw.get("omit_unset_slots", False),
        kw.get("ignore_rule_only_turns", False),
        kw.get("rule_only_data"),
    )
    got = cache.states(tracker, domain, flags)
    assert got == RASA(tracker, domain, **kw)
    return got


@pytest.mark.parametrize("kw", FLAGS)
def test_a_growing_conversation_replays_only_its_new_events(
    domain: Domain, kw: dict[str, Any]
) -> None:
    cache = StatesCache(8)
    events = turns(60)
    tracker = DialogueStateTracker.from_events("a", [], domain.slots)
    for event in events:
        tracker.update(event)
        check(cache, tracker, domain, **kw)
    assert cache.replayed <= len(tracker.events)  # each event once (or never)


def test_a_reloaded_last_turn_goes_back_to_a_checkpoint(domain: Domain) -> None:
    """As the tracker store's cache does: the older turns the same objects, the last
    turn's events equal copies (deserialised from the stored rows)."""
    cache = StatesCache(8)
    events = turns(40)
    tracker = DialogueStateTracker.from_events("a", events, domain.slots)
    check(cache, tracker, domain)
    for i in range(40, 60):
        copies = [Event.from_parameters(e.as_dict()) for e in tracker.events]
        kept = list(tracker.events)[:-4] + copies[-4:]  # the last turn reloaded
        tracker = DialogueStateTracker.from_events("a", kept, domain.slots)
        before = cache.replayed
        tracker.update(user(f"more {i}"))
        check(cache, tracker, domain)
        for event in (SlotSet("language", "en"), ActionExecuted("utter_greet")):
            tracker.update(event)
            check(cache, tracker, domain)
        tracker.update(listen())
        check(cache, tracker, domain)
        # about two turns replayed per turn, however long the conversation
        assert cache.replayed - before <= 16


@pytest.mark.parametrize(
    "rewind",
    [
        [UserUtteranceReverted()],
        [Restarted()],
        [ActionExecuted("action_session_start"), SessionStarted(), listen()],
        [ActiveLoop("city_form"), ActionExecuted("city_form"), ActiveLoop(None)],
    ],
    ids=["reverted", "restarted", "new session", "loop"],
)
def test_rewinds_and_loops_give_rasa_states(
    domain: Domain, rewind: list[Event]
) -> None:
    cache = StatesCache(8)
    tracker = DialogueStateTracker.from_events("a", turns(12), domain.slots)
    check(cache, tracker, domain)
    for event in [*rewind, user("after"), ActionExecuted("utter_greet"), listen()]:
        tracker.update(event)
        for kw in FLAGS:
            check(cache, tracker, domain, **kw)


@pytest.mark.parametrize("kw", FLAGS)
@pytest.mark.parametrize("by_text", [True, False])
def test_events_that_change_the_last_user_message_are_seen(
    domain: Domain, kw: dict[str, Any], by_text: bool
) -> None:
    """`DefinePrevUserUtteredFeaturization` and `EntitiesAdded` change the user
    message before them in place: the states from it on are computed again."""
    cache = StatesCache(8)
    tracker = DialogueStateTracker.from_events("a", turns(6), domain.slots)
    check(cache, tracker, domain, **kw)
    for i in range(6):
        for event in [
            user(f"to Kraków {i}", "ask_residence"),
            DefinePrevUserUtteredFeaturization(by_text),
            EntitiesAdded([{"entity": "city", "value": "Kraków"}]),
            ActionExecuted("utter_greet"),
            listen(),
        ]:
            tracker.update(event)
            states = check(cache, tracker, domain, **kw)
            # what Rasa's featurizer does to the states it is given
            TrackerFeaturizer._remove_user_text_if_intent([states])
        check(cache, tracker, domain, **kw)


def test_another_conversation_history_under_the_same_id_is_replayed(
    domain: Domain,
) -> None:
    cache = StatesCache(8)
    one = DialogueStateTracker.from_events("a", turns(10), domain.slots)
    check(cache, one, domain)
    other = DialogueStateTracker.from_events("a", turns(3), domain.slots)
    check(cache, other, domain)  # fresh objects: nothing in common, replayed anew
    check(cache, one, domain)


def test_the_cache_keeps_at_most_size_conversations(domain: Domain) -> None:
    cache = StatesCache(3)
    for sender in "abcdef":
        check(
            cache,
            DialogueStateTracker.from_events(sender, turns(2), domain.slots),
            domain,
        )
    assert len(cache) == 3


def test_installed_only_plain_trackers_use_it_and_size_0_turns_it_off(
    domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    past_states.install()
    try:
        tracker = DialogueStateTracker.from_events("a", turns(3), domain.slots)
        assert tracker.past_states(domain) == RASA(tracker, domain)
        assert len(past_states.cache_of(domain, 8)) == 1
        rule = DialogueStateTracker("r", domain.slots, is_rule_tracker=True)
        for event in turns(3):
            rule.update(event)
        assert rule.past_states(domain) == RASA(rule, domain)
        assert len(past_states.cache_of(domain, 8)) == 1
        monkeypatch.setenv("STATES_CACHE_SIZE", "0")
        past_states.install()  # the size is read when the server starts
        other = DialogueStateTracker.from_events("b", turns(3), domain.slots)
        assert other.past_states(domain) == RASA(other, domain)
        assert len(past_states.cache_of(domain, 8)) == 1
    finally:
        past_states.uninstall()
    assert DialogueStateTracker.past_states is RASA


# ---- through a real Agent ------------------------------------------------------
@pytest.fixture(scope="module")
def story_messages(domain: Domain) -> list[list[str]]:
    """The user texts of every test story."""
    found = []
    for path in sorted((ROOT / "tests" / "stories").glob("*.yml")):
        for step in YAMLStoryReader(domain).read_from_file(str(path)):
            texts = [e.text for e in step.events if isinstance(e, UserUttered)]
            found.append([t for t in texts if t])
    return found


@dataclass
class Calls:
    """Every call: the events Rasa replays and whether the cache gave Rasa's states."""

    calls: list[tuple[int, bool]] = field(default_factory=list)
    domains: set[Domain] = field(default_factory=set)


@pytest.fixture
def checked() -> Iterator[Calls]:
    """Install the cache behind a check of every call against Rasa's function."""
    seen = Calls()

    def checking(
        self: DialogueStateTracker,
        domain: Domain,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: dict[str, Any] | None = None,
    ) -> list[Any]:
        args = (domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        want = RASA(self, *args)
        got = past_states.past_states(self, *args)
        seen.calls.append((len(self.applied_events()), got == want))
        seen.domains.add(domain)
        return got

    DialogueStateTracker.past_states = checking  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        past_states.uninstall()


def run_agent(
    agent: Any, database: Path, conversations: dict[str, list[str]]
) -> list[tuple]:
    store = RedactingSQLTrackerStore(
        domain=agent.domain, host=f"sqlite:///{database}", cache_size=256
    )
    agent.tracker_store = store
    agent.processor.tracker_store = store

    async def go() -> None:
        for sender, texts in conversations.items():
            for text in texts:
                await agent.handle_text(text, sender_id=sender)

    asyncio.run(go())
    return predictions(database)


def load_agent(live_bot: Any) -> Any:
    """The trained model in an `Agent` of its own (its own domain: its own cache)."""
    from rasa.core.agent import Agent
    from rasa.core.lock_store import InMemoryLockStore
    from rasa.utils.endpoints import EndpointConfig

    action_endpoint = EndpointConfig(f"http://127.0.0.1:{live_bot.action_port}/webhook")
    return Agent.load(
        str(MODEL), lock_store=InMemoryLockStore(), action_endpoint=action_endpoint
    )


def test_the_agent_predicts_exactly_as_rasa_does(
    tmp_path: Path,
    live_bot: Any,
    story_messages: list[list[str]],
    checked: Calls,
) -> None:
    """Test stories as conversations, and all of them as one long conversation (with
    a restart in the middle): every past-states call equals Rasa's, and every stored
    prediction (policy and confidence included) equals Rasa's own (no states cache,
    `json.dumps` for the action server's requests)."""
    agent = load_agent(live_bot)
    every = [text for texts in story_messages for text in texts]
    half = len(every) // 2
    conversations = {f"story-{i}": texts for i, texts in enumerate(story_messages)}
    conversations["long"] = [*every[:half], "/restart", *every[half:], *every]

    action_json.install()  # as the server runs (channels install both)
    try:
        cached = run_agent(agent, tmp_path / "cached.db", conversations)
    finally:
        action_json.uninstall()
    assert len(checked.calls) > 1000
    assert all(same for _, same in checked.calls)
    (domain,) = checked.domains  # the model's (the graph's own Domain object)
    replayed = past_states.cache_of(domain, 0).replayed

    past_states.uninstall()
    plain = run_agent(agent, tmp_path / "plain.db", conversations)
    assert len(cached) > 1000
    assert cached == plain
    # Rasa replays the whole session on every call; the cache about two turns
    assert replayed < 0.2 * sum(n for n, _ in checked.calls)


def test_two_instances_taking_turns_on_concurrent_conversations(
    tmp_path: Path,
    live_bot: Any,
    story_messages: list[list[str]],
    checked: Calls,
) -> None:
    """Two agents on one database, each with its own tracker and states caches, take
    turns in every conversation (each sees the other's turns as new objects read from
    the database), the conversations running concurrently: every call equals Rasa's,
    and the stored predictions equal one agent's with Rasa's own states."""
    one, two = load_agent(live_bot), load_agent(live_bot)
    database = tmp_path / "two.db"
    for agent in (one, two):
        store = RedactingSQLTrackerStore(
            domain=agent.domain, host=f"sqlite:///{database}", cache_size=256
        )
        agent.tracker_store = store
        agent.processor.tracker_store = store
    conversations = {
        f"story-{i}": [*texts, *story_messages[(i + 1) % len(story_messages)]]
        for i, texts in enumerate(story_messages)
    }

    async def talk(sender: str, texts: list[str]) -> None:
        for n, text in enumerate(texts):
            agent = (one, two)[(n // 2 + len(sender)) % 2]  # two turns each, in turn
            await agent.handle_text(text, sender_id=sender)

    async def go() -> None:
        await asyncio.gather(*(talk(s, t) for s, t in conversations.items()))

    action_json.install()
    try:
        asyncio.run(go())
    finally:
        action_json.uninstall()
    assert len(checked.calls) > 500
    assert all(same for _, same in checked.calls)
    assert len(checked.domains) == 2
    shared = by_conversation(predictions(database))

    past_states.uninstall()
    plain = by_conversation(run_agent(one, tmp_path / "plain.db", conversations))
    assert sum(map(len, shared.values())) > 500
    assert shared == plain


def by_conversation(said: list[tuple]) -> dict[str, list[tuple]]:
    """Stored predictions per conversation, in order (conversations interleave)."""
    grouped: dict[str, list[tuple]] = {}
    for row in said:
        grouped.setdefault(row[0], []).append(row)
    return grouped
