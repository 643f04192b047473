"""Live operator conversations, the console's side: join, write, hand back, time out.

The rules live here, the HTTP handling in routes/live.py:

- Only a conversation whose widget is open can be joined (a socket in its room,
  recorded by the socket.io channel), and one operator holds it at a time (the
  takeover table's primary key); a second operator is told who holds it.
- Joining records the takeover first, then asks Rasa to stop answering (the
  `operator` slot, read by iom.rasa.policy.OperatorPolicy) and to tell the person.
  If Rasa cannot be reached the takeover is undone, so nobody waits on a dead chat.
- The person sees a first name the operator chose, or "IOM" (the widget says
  "IOM team" in the person's language); never the account name.
- Handing back, or a console that went away (`gone_after` seconds without its live
  stream) or sat idle (`idle_after` seconds without writing), gives the chat back
  to the bot and tells the person (HandBackJob, jobs.py).
- Joining takes the chat's open handoff requests (`in_progress`, by the operator).
- Every join, message and hand-back is in the audit log (never the message text).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from iom.console import auth, masking
from iom.console.auth import User
from iom.console.rasa_api import RasaApi, RasaApiError
from iom.core import db, handoff, takeover
from iom.core.safety import SAFETY_INTENTS

logger = logging.getLogger("console.live")
MAX_MESSAGE = 2000
SYSTEM = "system"


class LiveError(Exception):
    """A live-chat action refused; `status` is the HTTP status, the message is safe."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class LiveEvent:
    """One line of the live view (user text masked as in the transcript)."""

    id: int
    kind: str  # user | bot | operator
    text: str
    at: float
    intent: str | None = None
    safety: bool = False
    operator: str | None = None

    def as_json(self) -> str:
        """The SSE `data:` payload."""
        return json.dumps(self.__dict__, ensure_ascii=False)


@dataclass
class Live:
    """Live chats on one database, talking to Rasa through `api`."""

    engine: sa.engine.Engine
    api: RasaApi
    gone_after: float
    idle_after: float
    clock: Callable[[], float] = time.time

    def join(self, user: User, conversation_id: str, name: str | None) -> str:
        """Take over the conversation; the name the person sees."""
        holder = takeover.holder(self.engine, conversation_id)
        if holder is not None and holder.username != user.username:
            raise LiveError(409, f"{holder.username} is already in this chat.")
        if holder is not None:
            return holder.display_name
        if not takeover.widget_open(self.engine, conversation_id):
            raise LiveError(
                409, "The person's chat window is closed: there is nobody to join."
            )
        shown = takeover.shown_name(name)
        taken, row = takeover.join(
            self.engine, conversation_id, user.username, shown, self.clock()
        )
        if not taken:
            raise LiveError(409, f"{row.username} is already in this chat.")
        try:
            self.api.join(conversation_id, shown)
        except RasaApiError as error:
            takeover.release(self.engine, conversation_id, user.username)
            raise LiveError(502, str(error)) from error
        handoff.take_requests(self.engine, conversation_id, user.username)
        auth.record(self.engine, user.username, "live_join", conversation_id, shown)
        return shown

    def _held_by(self, user: User, conversation_id: str) -> takeover.Takeover:
        holder = takeover.holder(self.engine, conversation_id)
        if holder is None:
            raise LiveError(409, "You are not in this chat (it went back to the bot).")
        if holder.username != user.username:
            raise LiveError(409, f"{holder.username} is in this chat, not you.")
        return holder

    def say(self, user: User, conversation_id: str, text: str) -> None:
        """Send what the operator wrote to the person's widget (and store it)."""
        text = text.strip()
        if not text:
            raise LiveError(400, "The message is empty.")
        if len(text) > MAX_MESSAGE:
            raise LiveError(400, f"Messages are at most {MAX_MESSAGE} characters.")
        holder = self._held_by(user, conversation_id)
        try:
            self.api.say(conversation_id, text, holder.display_name, user.username)
        except RasaApiError as error:
            raise LiveError(502, str(error)) from error
        takeover.touch(
            self.engine, conversation_id, user.username, self.clock(), active=True
        )
        auth.record(self.engine, user.username, "live_message", conversation_id)

    def leave(self, user: User, conversation_id: str) -> None:
        """Hand the conversation back to the bot."""
        self._held_by(user, conversation_id)
        self._hand_back(conversation_id, user.username, "handed back")

    def _hand_back(self, conversation_id: str, username: str, why: str) -> None:
        takeover.release(self.engine, conversation_id, username)
        try:
            self.api.hand_back(conversation_id)
        except RasaApiError:
            # The bot still answers again once the operator policy's timeout passes.
            logger.exception("hand-back of %s not delivered", conversation_id)
        auth.record(self.engine, username, "live_leave", conversation_id, why)

    def hand_back_expired(self) -> list[str]:
        """Give back every chat whose operator went away or sat idle."""
        now = self.clock()
        ended = []
        for row in takeover.expired(self.engine, now, self.gone_after, self.idle_after):
            gone = row.seen_at < now - self.gone_after
            why = "console disconnected" if gone else "operator idle"
            self._hand_back(row.conversation_id, row.username, why)
            auth.record(self.engine, SYSTEM, "live_timeout", row.conversation_id, why)
            ended.append(row.conversation_id)
        return ended

    def heartbeat(self, user: User, conversation_id: str | None = None) -> None:
        """The operator's console is open (and still watching this chat)."""
        now = self.clock()
        takeover.present(self.engine, user.username, now)
        if conversation_id is not None:
            takeover.touch(self.engine, conversation_id, user.username, now)

    def events_after(self, conversation_id: str, after: int) -> list[LiveEvent]:
        """The conversation's messages after event `after`, for the live view."""
        table = db.events
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(table.c.id, table.c.type_name, table.c.timestamp)
                .add_columns(table.c.data)
                .where(table.c.sender_id == conversation_id)
                .where(table.c.id > after)
                .where(table.c.type_name.in_(("user", "bot")))
                .order_by(table.c.id)
                .limit(200)
            ).all()
        return [event for row in rows if (event := _live_event(row)) is not None]

    def last_event_id(self, conversation_id: str) -> int:
        """The newest event's id (the live view starts after it)."""
        table = db.events
        with self.engine.connect() as connection:
            value = connection.execute(
                sa.select(sa.func.max(table.c.id)).where(
                    table.c.sender_id == conversation_id
                )
            ).scalar()
        return int(value or 0)


def _live_event(row: Any) -> LiveEvent | None:
    try:
        data = json.loads(row.data or "{}")
    except ValueError:
        return None
    text = str(data.get("text") or "")
    at = float(row.timestamp or 0.0)
    if row.type_name == "user":
        intent = ((data.get("parse_data") or {}).get("intent") or {}).get("name")
        return LiveEvent(
            row.id,
            "user",
            masking.mask(text),
            at,
            intent=intent,
            safety=intent in SAFETY_INTENTS,
        )
    operator = (data.get("metadata") or {}).get("operator")
    if operator:
        return LiveEvent(row.id, "operator", text, at, operator=str(operator))
    return LiveEvent(row.id, "bot", text, at) if text else None


def queue_state(engine: sa.engine.Engine) -> dict[str, int]:
    """Open handoff requests: how many, and the newest one's id (for the badge)."""
    table = db.handoff_requests
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(sa.func.count(), sa.func.max(table.c.id)).where(
                table.c.status == "open"
            )
        ).one()
    return {"open": int(row[0]), "newest": int(row[1] or 0)}
