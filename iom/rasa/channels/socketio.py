"""Rasa's socket.io channel with the session-room bug fixed and the input checked.

Rasa 3.6's `SocketIOInput` calls python-socketio's `AsyncServer.enter_room` without
`await` (it became a coroutine in python-socketio 5.x; RasaHQ/rasa#13027), so with
`session_persistence: true` the socket never joins its session room and bot replies are
never delivered. This subclass replaces the two affected handlers:

- `session_request` awaits `enter_room` and binds the session id to the socket
  (an id the client proposes is kept only if it looks like one we issue).
- `user_uttered` takes the sender id from that binding, never from the message, so a
  client cannot write into another conversation; only a string message and the
  `language` metadata key (`pl`, `en`, `uk`, `ru`) are passed on.
- Only the widget's origins (`CORS_ORIGIN`) may open a socket from a browser.
- Too many messages a minute (iom/rasa/channels/ratelimit.py) get the polite
  `utter_rate_limited` answer instead of being processed.
- A turn that ends without any bot message gets the static
  `utter_service_unavailable` answer (iom/rasa/channels/fallback.py), unless a person
  from the team holds the conversation (then silence is expected: they answer).
- Live operators (docs/console.md): a bot message whose metadata names an `operator`
  reaches the widget as one message with that name (`get_output_channel`, used by
  Rasa's HTTP API when the console appends the operator's message). The open widget
  sockets are recorded (iom.core.takeover) so the console knows who can be joined.
  With `SOCKETIO_REDIS_URL`, every Rasa instance shares its rooms through Redis
  pub/sub (python-socketio's `AsyncRedisManager`), so a message emitted by one
  instance reaches a widget connected to another.

Configured in `credentials.yml` as `iom.rasa.channels.socketio.SocketIOInput`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from rasa.core.channels.socketio import SocketIOOutput
from sanic import Blueprint
from socketio import AsyncRedisManager, AsyncServer

from iom.core import db, settings, takeover
from iom.core.language import SUPPORTED
from iom.rasa import action_json, action_response, past_states
from iom.rasa.channels.fallback import clean_text, domain_text, never_silent
from iom.rasa.channels.ratelimit import RESPONSE as RATE_LIMITED
from iom.rasa.channels.ratelimit import RateLimiter

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def allowed_origins() -> list[str]:
    """Browser origins allowed to open a socket: CORS_ORIGIN, space or comma separated.

    Empty or `*` keeps Rasa's behaviour (no origin check). Clients that send no
    Origin header (servers, tests) are not browsers and are not checked.
    """
    return list(settings.current().cors_origins)


def session_id_from(data: Any) -> str:
    """The client's proposed session id if it is well formed, else a new one."""
    proposed = data.get("session_id") if isinstance(data, dict) else None
    if isinstance(proposed, str) and SESSION_ID.match(proposed):
        return proposed
    return uuid.uuid4().hex


def clean_metadata(data: dict[str, Any], key: str) -> dict[str, Any]:
    """Keep only the metadata the bot uses: `language` when the bot speaks it."""
    metadata = data.get(key)
    if isinstance(metadata, dict) and metadata.get("language") in SUPPORTED:
        return {"language": metadata["language"]}
    return {}


OPERATOR_KEY = "operator"  # bot message metadata: who from the team wrote it
# Sent to the widget when its message got no bot answer because a person from the
# team holds the chat: the message arrived (the widget need not send it again).
RECEIVED = "user_received"


class CountingSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output that counts what it sends and names operators.

    A message with an `operator` key (a bot event's metadata, merged into the message
    by Rasa) is sent whole, as `{"text": ..., "operator": name}`, so the widget shows
    it as written by a person from the team.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent = 0

    async def _send_message(self, socket_id: str, response: Any) -> None:
        self.sent += 1
        await super()._send_message(socket_id, response)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Operator messages as one message with the name; the rest as Rasa does."""
        operator = message.get(OPERATOR_KEY)
        if isinstance(operator, str) and isinstance(message.get("text"), str):
            await self._send_message(
                recipient_id, {"text": message["text"], OPERATOR_KEY: operator}
            )
            return
        await super().send_response(recipient_id, message)


def live_engine() -> Any:
    """The tracker store's database, with the live-operator tables migrated."""
    return db.migrated_engine(settings.current().tracker_url)


async def _in_thread(call: Callable[..., Any], *args: Any) -> Any:
    """Run a small database call off the event loop; log and swallow its failure."""
    try:
        return await asyncio.to_thread(call, live_engine(), *args)
    except Exception:  # the chat goes on; the console's view may be stale
        logger.exception("socket.io: live-operator table update failed")
        return None


async def held(sender_id: str) -> bool:
    """Whether a person from the team holds the conversation now."""
    return bool(await _in_thread(takeover.holder, sender_id))


def share_rooms(sio: AsyncServer, blueprint: Blueprint, url: str | None) -> None:
    """With a Redis URL, deliver to rooms through Redis pub/sub (every instance)."""
    if not url:
        return
    manager = AsyncRedisManager(url, channel="iom-socketio")
    manager.set_server(sio)
    sio.manager = manager

    @blueprint.listener("after_server_start")
    async def _listen(*_: Any) -> None:
        if not sio.manager_initialized:
            sio.manager_initialized = True
            manager.initialize()


class SocketIOInput(RasaSocketIOInput):
    """socket.io input channel (same name and URL as Rasa's `socketio`)."""

    @classmethod
    def name(cls) -> str:
        """Keep Rasa's channel name, so URLs and tracker events look the same."""
        return "socketio"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Rasa's blueprint with fixed `session_request` and message handlers."""
        action_response.install()  # the server starts: schema checked once
        past_states.install()  # and the policies' states extended, not replayed
        action_json.install()  # and the tracker sent to it encoded by orjson
        on_new_message = never_silent(on_new_message, held)
        blueprint = super().blueprint(on_new_message)
        limiter = RateLimiter()
        sio = self.sio
        assert sio is not None  # set by super().blueprint
        share_rooms(sio, blueprint, settings.current().socketio_redis_url)
        origins = allowed_origins()
        if origins:  # Rasa passes [] (no check); browsers elsewhere are refused
            sio.eio.cors_allowed_origins = origins

        async def session_request(sid: str, data: Any = None) -> None:
            session_id = session_id_from(data)
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.save_session(
                sid, {"session_id": session_id}, namespace=self.namespace
            )
            await _in_thread(takeover.socket_opened, sid, session_id, time.time())
            await sio.emit(
                "session_confirm", session_id, room=sid, namespace=self.namespace
            )

        async def disconnect(sid: str, *_: Any) -> None:
            await _in_thread(takeover.socket_closed, sid)

        async def handle_message(sid: str, data: Any = None) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message"), str):
                logger.warning("socket.io: ignored a malformed message from %s", sid)
                return
            if self.session_persistence:
                session = await sio.get_session(sid, namespace=self.namespace)
                sender_id = session.get("session_id")
                if not sender_id:
                    logger.warning(
                        "socket.io: message before session_request (%s)", sid
                    )
                    return
            else:
                sender_id = sid
            environ = sio.get_environ(sid, namespace=self.namespace) or {}
            if not limiter.allow(sender_id, environ.get("REMOTE_ADDR")):
                await sio.emit(
                    self.bot_message_evt,
                    {
                        "text": domain_text(
                            RATE_LIMITED, data["message"], data.get(self.metadata_key)
                        )
                    },
                    room=sid,
                    namespace=self.namespace,
                )
                return
            output = CountingSocketIOOutput(sio, self.bot_message_evt)
            message = UserMessage(
                clean_text(data["message"]),
                output,
                sender_id,
                input_channel=self.name(),
                metadata=clean_metadata(data, self.metadata_key or "metadata"),
            )
            await on_new_message(message)
            if not output.sent:  # held by a person from the team: tell the widget
                await sio.emit(RECEIVED, {}, room=sid, namespace=self.namespace)

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on("disconnect", disconnect, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        return blueprint

    def get_output_channel(self) -> CountingSocketIOOutput | None:  # type: ignore[override]
        """The output Rasa's HTTP API uses to deliver appended bot messages."""
        if self.sio is None:
            return None
        return CountingSocketIOOutput(self.sio, self.bot_message_evt)
