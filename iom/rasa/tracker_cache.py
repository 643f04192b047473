"""Recent conversations kept in memory, as the tracker store would load them.

`RedactingSQLTrackerStore` (iom/rasa/tracker_store.py) keeps here, per process, the
tracker that a load from the database would give (the events as stored, so
redacted), with the id of the newest stored event of the conversation. On the next
turn it then reads only the events with a higher id (written by another instance,
or appended through Rasa's HTTP API) instead of loading and replaying the whole
session, and on saving it writes the new events without counting the stored ones.

The cache is bounded (the conversation whose last turn is oldest goes first: every
turn stores a new entry) and forgets a conversation after `ttl` seconds without a
turn. Entries are never changed in place: a turn
builds a new entry and `put` stores it only if nobody replaced the old one
meanwhile (else the conversation is dropped and the next turn loads it afresh).
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker

# What a tracker holds besides its events, as of Rasa 3.6 (a test checks the list,
# so that a Rasa upgrade that adds state is noticed).
TRACKER_ATTRIBUTES = frozenset(
    {
        "_max_event_history",
        "events",
        "sender_id",
        "slots",
        "sender_source",
        "is_rule_tracker",
        "_paused",
        "followup_action",
        "latest_action",
        "latest_message",
        "latest_bot_utterance",
        "active_loop",
        "model_id",
        "assistant_id",
    }
)


def clone_tracker(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """A copy of `tracker` that can be changed without changing the original.

    Rasa's own `tracker.copy()` replays every event (its cost grows with the
    conversation). This copies the containers and shares the events, which nothing
    changes once they are in a tracker; slots are copied as Rasa's constructor does.
    """
    copied = copy.copy(tracker)
    copied.events = deque(tracker.events, tracker.events.maxlen)
    copied.slots = {name: copy.copy(slot) for name, slot in tracker.slots.items()}
    copied.active_loop = copy.deepcopy(tracker.active_loop)
    copied.latest_action = copy.copy(tracker.latest_action)
    return copied


@dataclass(frozen=True)
class StoredRow:
    """One row of Rasa's `events` table, as far as the cache needs it."""

    id: int
    type_name: str
    timestamp: float | None
    data: dict[str, Any]


def session_start(
    rows: Iterable[StoredRow], start: float | None = None
) -> float | None:
    """The latest session start once `rows` are stored too (SQL's max: NULLs ignored).

    `start`: the latest before them.
    """
    for row in rows:
        if row.type_name == SessionStarted.type_name and row.timestamp is not None:
            if start is None or row.timestamp > start:
                start = row.timestamp
    return start


def in_session(timestamp: float | None, start: float | None) -> bool:
    """Rasa's filter: `timestamp >= session_start OR session_start IS NULL`."""
    return start is None or (timestamp is not None and timestamp >= start)


@dataclass(frozen=True)
class CachedTracker:
    """A conversation as a load of its latest session would give it."""

    tracker: DialogueStateTracker  # never handed out: callers get clones
    last_id: int | None  # newest stored event id of the conversation (None: none)
    last_timestamp: float | None  # its timestamp (ids may be reused after erasure)
    session_start: float | None  # latest stored session start (None: none)
    stored: int  # rows of the session in the database (what Rasa's save counts)
    used: float = field(default_factory=time.monotonic)

    def advanced(self, rows: list[StoredRow]) -> CachedTracker:
        """The entry once `rows` (newer than `last_id`, in id order) are stored."""
        if not rows:
            return self
        start = session_start(rows, self.session_start)
        new = [row.data for row in rows if in_session(row.timestamp, start)]
        if start == self.session_start:
            tracker = clone_tracker(self.tracker)
            for event in deserialise_events(new):
                tracker.update(event)
            stored = self.stored + len(new) if self.stored >= 0 else -1
        else:  # a new session: Rasa's load keeps only the events from its start on
            events: list[Event] = [
                event
                for event in self.tracker.events
                if in_session(event.timestamp, start)
            ]
            tracker = DialogueStateTracker.from_events(
                self.tracker.sender_id,
                [*events, *deserialise_events(new)],
                self.tracker.slots.values(),
                self.tracker._max_event_history,
            )
            # one row per cached event, unless a row could not be read as an event
            known = self.stored == len(self.tracker.events)
            stored = len(events) + len(new) if known else -1
        return CachedTracker(tracker, rows[-1].id, rows[-1].timestamp, start, stored)

    def handed_out(self) -> DialogueStateTracker | None:
        """What the store's `retrieve` returns: a clone, or None without stored rows."""
        return None if self.stored == 0 else clone_tracker(self.tracker)


class TrackerCache:
    """A bounded, thread-safe map of sender id to `CachedTracker`, oldest turn out."""

    def __init__(self, size: int, ttl: float) -> None:
        self.size = size
        self.ttl = ttl
        self._entries: OrderedDict[str, CachedTracker] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, sender_id: str) -> CachedTracker | None:
        """The entry of a conversation, if cached and used within `ttl` seconds."""
        with self._lock:
            self._expire(time.monotonic())
            return self._entries.get(sender_id)

    def put(
        self, sender_id: str, entry: CachedTracker, replacing: CachedTracker | None
    ) -> None:
        """Store `entry` if the conversation's entry is still `replacing`, else drop it.

        Two calls for one conversation at once (which Rasa's lock store prevents for
        turns) thus never leave an entry that misses the other's events.
        """
        if self.size <= 0:
            return
        with self._lock:
            if self._entries.get(sender_id) is not replacing:
                self._entries.pop(sender_id, None)
                return
            self._entries[sender_id] = entry
            self._entries.move_to_end(sender_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def drop(self, sender_id: str) -> None:
        """Forget a conversation (the next load reads it from the database)."""
        with self._lock:
            self._entries.pop(sender_id, None)

    def _expire(self, now: float) -> None:
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if now - oldest.used <= self.ttl:
                return
            self._entries.popitem(last=False)
