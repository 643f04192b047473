"""The policies' view of a conversation, extended turn by turn instead of replayed.

For every prediction, Rasa 3.6's RulePolicy (twice) and MemoizationPolicy ask the
tracker for its past states (`DialogueStateTracker.past_states`): Rasa replays every
applied event of the session into a fresh tracker and describes the dialogue before
each action (`Domain.states_for_tracker_history`). That replay is what makes a late
turn dearer than an early one (at turn 95, 44 % of a turn's CPU time:
docs/performance.md, "Conversation length").

The states of a prefix of the applied events never change when events are appended.
`StatesCache` therefore keeps, per conversation, Rasa's loop stopped where the last
call ended (the replayed tracker, the states so far and the loop's two variables),
with checkpoints before each of the last user messages. A call compares the applied
events with the cached ones (by identity: events are never changed once in a
tracker), goes back to the newest checkpoint before the first difference, and
replays only the events after it. The tracker store's cache gives every turn the
same event objects for the older turns, but new objects for the last turn's
(deserialised from the stored, redacted rows), so a turn replays about two turns of
events, however long the conversation. Nothing is guessed: a difference anywhere
means a replay from an earlier checkpoint, or from the start, exactly as Rasa
would. `tests/test_past_states.py` checks every call against Rasa's own function on
the test stories and on long conversations, and the predictions with and without
the cache.

`install` (called where the channels start, like `action_response.install`) puts the
cache behind `DialogueStateTracker.past_states` for the trackers the server predicts
on; training (`rasa train`, with its own trackers and caches) never calls it.
`STATES_CACHE_SIZE` conversations are kept per model (default 256; 0 turns the cache
off; `.env.example`).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, cast

import rasa.shared.core.constants as core
from rasa.shared.core.domain import Domain, State, SubState
from rasa.shared.core.events import (
    ActionExecuted,
    DefinePrevUserUtteredFeaturization,
    EntitiesAdded,
    Event,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from iom.core import settings
from iom.rasa.tracker_cache import clone_tracker

DEFAULT_SIZE = 256
CHANGE_LAST_MESSAGE = (DefinePrevUserUtteredFeaturization, EntitiesAdded)
CHECKPOINTS = 4
_rasa_past_states = DialogueStateTracker.past_states
_size = DEFAULT_SIZE  # set by `install`


@dataclass
class Walk:
    """Rasa's loop over a tracker's prior trackers, stopped after `consumed` events.

    The fields are the loop's: the tracker replayed so far, the states appended so
    far, the previous action of the last turn not hidden from ML policies, and
    whether the current turn is hidden.
    """

    consumed: int
    tracker: DialogueStateTracker
    states: list[State]
    last_ml_action: SubState | None = None
    turn_was_hidden: bool = False

    def copy(self) -> Walk:
        """An independent copy (the states themselves are shared, never changed)."""
        return Walk(
            self.consumed,
            clone_tracker(self.tracker),
            list(self.states),
            self.last_ml_action,
            self.turn_was_hidden,
        )


@dataclass(frozen=True)
class Flags:
    """The arguments of a `past_states` call besides the domain."""

    omit_unset_slots: bool
    ignore_rule_only_turns: bool
    rule_only_data: dict[str, Any] | None

    def same(self, other: Flags) -> bool:
        """Whether `other` asks for the same states."""
        return (
            self.omit_unset_slots == other.omit_unset_slots
            and self.ignore_rule_only_turns == other.ignore_rule_only_turns
            and self.rule_only_data == other.rule_only_data
        )

    def key(self) -> tuple[bool, bool, str]:
        """The flags as a key.

        By value: the graph may pass equal `rule_only_data` dicts that are not the
        same object.
        """
        data = json.dumps(self.rule_only_data, sort_keys=True, default=str)
        return (self.omit_unset_slots, self.ignore_rule_only_turns, data)


@dataclass
class Entry:
    """One conversation's walk for one set of flags, with its checkpoints."""

    flags: Flags
    events: list[Event]  # the applied events the walk has consumed, in order
    walk: Walk
    checkpoints: list[Walk] = field(default_factory=list)  # oldest first


def step(
    domain: Domain, walk: Walk, hide_rule_turn: bool, flags: Flags
) -> State | None:
    """One iteration of Rasa 3.6's `Domain.states_for_tracker_history` loop.

    Reads `walk.tracker` and updates the walk's loop variables; returns the state to
    append, or None where Rasa skips a hidden turn. The loop is Rasa's line for line
    (a test checks Rasa's source is still the one this follows).
    """
    tracker = walk.tracker
    if flags.ignore_rule_only_turns:
        if not walk.turn_was_hidden:
            walk.last_ml_action = domain._get_prev_action_sub_state(tracker)
        if (
            not tracker.followup_action
            and not tracker.latest_action_name == tracker.active_loop_name
        ):
            walk.turn_was_hidden = hide_rule_turn
        if walk.turn_was_hidden:
            return None
    state = domain.get_active_state(tracker, omit_unset_slots=flags.omit_unset_slots)
    if flags.ignore_rule_only_turns:
        domain._remove_rule_only_features(state, flags.rule_only_data)
        if walk.states:
            domain._substitute_rule_only_user_input(state, walk.states[-1])
        if walk.last_ml_action:
            state[core.PREVIOUS_ACTION] = cast(SubState, walk.last_ml_action)
    return domain._clean_state(state)


def advance(
    domain: Domain,
    walk: Walk,
    events: list[Event],
    flags: Flags,
    checkpoints: list[Walk],
) -> None:
    """Replay `events[walk.consumed:]` into the walk (the states before each action).

    A copy of the walk goes to `checkpoints` before each user message (the last
    `CHECKPOINTS` are kept): the events of a turn are what the tracker store hands
    back as new objects on the next turn.
    """
    for i in range(walk.consumed, len(events)):
        event = events[i]
        if isinstance(event, UserUttered) and (
            not checkpoints or checkpoints[-1].consumed < i
        ):
            walk.consumed = i
            checkpoints.append(walk.copy())
            del checkpoints[:-CHECKPOINTS]
        if isinstance(event, ActionExecuted):
            state = step(domain, walk, event.hide_rule_turn, flags)
            if state is not None:
                walk.states.append(state)
        walk.tracker.update(event)
    walk.consumed = len(events)


def finish(domain: Domain, walk: Walk, flags: Flags) -> list[State]:
    """The states of the whole tracker: the walk's, and the state after the last event.

    Rasa's loop ends with the tracker after every event (never hidden). The walk is
    left as it was, so that the next call can go on from it.
    """
    last = Walk(
        walk.consumed,
        walk.tracker,
        walk.states,
        walk.last_ml_action,
        walk.turn_was_hidden,
    )
    state = step(domain, last, False, flags)
    states = [*walk.states, state] if state is not None else list(walk.states)
    # Rasa's featurizer deletes keys from the user part of the states it is given
    # (`_choose_last_user_input`, `_remove_user_text_if_intent`): callers get their
    # own user parts, so that the cached states stay as computed.
    return [
        {**state, core.USER: dict(state[core.USER])} if core.USER in state else state
        for state in states
    ]


def unchanged_until(events: list[Event], consumed: list[Event]) -> int:
    """Up to where the consumed events still give the same states.

    Two events change an earlier one in place: `DefinePrevUserUtteredFeaturization`
    (whether the last user message is featurised by its text or its intent) and
    `EntitiesAdded` (more entities on it). States computed before such an event,
    from the user message before it on, must be computed again.
    """
    for i in range(len(consumed), len(events)):
        if isinstance(events[i], CHANGE_LAST_MESSAGE):
            for j in range(i - 1, -1, -1):
                if isinstance(events[j], UserUttered):
                    return j
            return 0
    return len(events)


def common_prefix(a: list[Event], b: list[Event]) -> int:
    """How many leading events of `a` and `b` are the same objects."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] is not b[i]:
            return i
    return n


class StatesCache:
    """Per conversation and flags, the walk of its latest call (bounded, LRU)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, bool, bool, str], Entry] = OrderedDict()
        self._applied: OrderedDict[
            str, tuple[deque[Event], int, Event | None, list[Event]]
        ] = OrderedDict()
        self._lock = threading.Lock()
        self.replayed = 0  # events replayed (for tests and the benchmark)

    def __len__(self) -> int:
        return len(self._entries)

    def states(
        self, tracker: DialogueStateTracker, domain: Domain, flags: Flags
    ) -> list[State]:
        """What `domain.states_for_tracker_history(tracker, …flags)` returns."""
        events = self.applied_events(tracker)
        key = (tracker.sender_id, *flags.key())
        with self._lock:
            entry = self._entries.pop(key, None)
        if entry is not None and not entry.flags.same(flags):
            entry = None
        if entry is None:
            entry = Entry(flags, events, Walk(0, tracker.init_copy(), []))
        else:
            entry.walk = self._start(tracker, events, entry)
            entry.events = events
        walk = entry.walk
        before = walk.consumed
        advance(domain, walk, events, flags, entry.checkpoints)
        self.replayed += walk.consumed - before
        result = finish(domain, walk, flags)
        with self._lock:
            self._entries[key] = entry
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return result

    def applied_events(self, tracker: DialogueStateTracker) -> list[Event]:
        """`tracker.applied_events()`, computed once while the tracker is unchanged.

        One prediction asks for the past states three times (RulePolicy twice,
        MemoizationPolicy once) with no event in between. A tracker's events only
        ever grow at the end (or lose their oldest, with a maximum history), so the
        same deque with the same length and the same last event has the same events.
        """
        raw = tracker.events
        last = raw[-1] if raw else None
        with self._lock:
            known = self._applied.get(tracker.sender_id)
        if known is not None and known[0] is raw and known[1] == len(raw):
            if known[2] is last:
                return known[3]
        events = tracker.applied_events()
        with self._lock:
            self._applied[tracker.sender_id] = (raw, len(raw), last, events)
            self._applied.move_to_end(tracker.sender_id)
            while len(self._applied) > self.size:
                self._applied.popitem(last=False)
        return events

    @staticmethod
    def _start(
        tracker: DialogueStateTracker, events: list[Event], entry: Entry
    ) -> Walk:
        """The walk to go on from: the entry's, a checkpoint's, or a new one."""
        same = min(
            common_prefix(entry.events, events), unchanged_until(events, entry.events)
        )
        if same == len(entry.events):
            return entry.walk  # everything consumed is still there
        entry.checkpoints = [c for c in entry.checkpoints if c.consumed <= same]
        if entry.checkpoints:
            return entry.checkpoints[-1].copy()
        return Walk(0, tracker.init_copy(), [])


def cache_of(domain: Domain, size: int) -> StatesCache:
    """The cache of `domain`'s model (a new model, a new domain: a new cache)."""
    cache: StatesCache | None = domain.__dict__.get("_iom_states_cache")
    if cache is None:
        cache = StatesCache(size)
        domain.__dict__["_iom_states_cache"] = cache
    return cache


def past_states(
    self: DialogueStateTracker,
    domain: Domain,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """`DialogueStateTracker.past_states`, from the conversation's cached walk."""
    size = _size
    if size <= 0 or type(self) is not DialogueStateTracker or self.is_rule_tracker:
        return _rasa_past_states(
            self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data
        )
    flags = Flags(omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    return cache_of(domain, size).states(self, domain, flags)


def configured_size() -> int:
    """`STATES_CACHE_SIZE` (conversations per model, default 256; 0: off)."""
    return settings.current().states_cache_size


def install() -> None:
    """Serve `past_states` from the cache, of `STATES_CACHE_SIZE` (idempotent)."""
    global _size
    _size = configured_size()
    DialogueStateTracker.past_states = past_states  # type: ignore[method-assign]


def uninstall() -> None:
    """Rasa's own `past_states` again (tests, benchmarks)."""
    DialogueStateTracker.past_states = _rasa_past_states  # type: ignore[method-assign]
