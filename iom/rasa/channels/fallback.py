"""A turn never ends in silence: the static answer the channels send instead.

If processing a message produced no bot message at all (the action server is down, a
custom action failed, an unexpected error), the channel sends the domain response
`utter_service_unavailable` in the user's language: a short apology plus 112, KCIK and
the Migrant Info line. The text lives in domain.yml like every other answer.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa.core.channels.channel import UserMessage

from iom.core import settings
from iom.core.cities import ANYWHERE, CITIES
from iom.core.detection import detect_language
from iom.core.language import SUPPORTED, texts_by_language

logger = logging.getLogger(__name__)

ROOT = settings.ROOT
RESPONSE = "utter_service_unavailable"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:[{@].*)?$", re.DOTALL)


def _button_choice(
    stripped: str, intent: str, key: str, allowed: Callable[[Any], bool]
) -> str | None:
    """A button's ``/intent{"key": value}`` payload in canonical form, or None.

    None unless the entity part is exactly ``key`` and ``allowed(value)``; the
    caller then drops the entity part.
    """
    prefix = f"/{intent}"
    if not stripped.startswith(prefix + "{"):
        return None
    try:
        entities = json.loads(stripped[len(prefix) :])
    except ValueError:
        return None
    if not isinstance(entities, dict) or set(entities) != {key}:
        return None
    if not allowed(entities[key]):
        return None
    return prefix + json.dumps({key: entities[key]}, ensure_ascii=False)


def language_choice(stripped: str) -> str | None:
    """The canonical payload of a language-question button, if ``stripped`` is one.

    `/switch_language{"language": "uk"}` with one of the four codes and nothing else:
    it can set nothing but the conversation's language.
    """
    return _button_choice(
        stripped, "switch_language", "language", lambda code: code in SUPPORTED
    )


def city_choice(stripped: str) -> str | None:
    """The canonical payload of a city-question button, if ``stripped`` is one.

    `/ask_info_line{"city": "Kraków"}` with one of the assistant's cities (or
    ANYWHERE, anywhere in Poland) and nothing else: it can set nothing but the city.
    """
    return _button_choice(
        stripped,
        "ask_info_line",
        "city",
        lambda city: city == ANYWHERE or city in CITIES,
    )


def clean_text(text: str) -> str:
    """User text as the bot should see it.

    Control characters are removed. A typed `/intent{...}` command keeps only its
    `/intent` part, so nobody can set slots or confidences from the chat box; buttons
    send plain `/intent` payloads, which pass unchanged, and so do the language
    question's buttons `/switch_language{"language": "uk"}` (:func:`language_choice`)
    and the city question's `/ask_info_line{"city": "Kraków"}` (:func:`city_choice`).
    """
    text = _CONTROL.sub("", text)
    stripped = text.strip()
    if not stripped.startswith("/"):
        return text
    choice = language_choice(stripped) or city_choice(stripped)
    if choice:
        return choice
    command = _COMMAND.match(stripped)
    return f"/{command.group(1)}" if command else text


@lru_cache(maxsize=8)
def _variations(domain_file: str, response: str = RESPONSE) -> dict[str, str]:
    domain = yaml.safe_load(Path(domain_file).read_text("utf-8"))
    return texts_by_language(domain["responses"][response])


def language_for(text: str, metadata: Any) -> str:
    """The message's language: explicit metadata, else detection, else Polish."""
    if isinstance(metadata, dict) and metadata.get("language") in SUPPORTED:
        return str(metadata["language"])
    detected = detect_language(text if isinstance(text, str) else "").language
    return detected if detected in SUPPORTED else "pl"


def domain_text(response: str, text: str, metadata: Any = None) -> str:
    """A static domain response's text in the language of the user's message."""
    texts = _variations(str(settings.current().domain_file), response)
    return texts.get(language_for(text, metadata)) or texts["pl"]


def fallback_text(text: str, metadata: Any = None) -> str:
    """The static answer for a silent turn, in the user's language."""
    return domain_text(RESPONSE, text, metadata)


def _answers(output: Any) -> int:
    """How many messages an output channel has sent so far."""
    messages = getattr(output, "messages", None)
    return (
        len(messages) if isinstance(messages, list) else int(getattr(output, "sent", 0))
    )


async def _never_held(sender_id: str) -> bool:
    return False


def never_silent(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    held: Callable[[str], Awaitable[bool]] = _never_held,
) -> Callable[[UserMessage], Awaitable[Any]]:
    """Wrap the agent's handler: a turn without any bot message gets the fallback.

    The output channel must count what it sends: Rasa's `CollectingOutputChannel`
    (`messages`) or an output with a `sent` counter (iom/rasa/channels/socketio.py).
    A silent turn is expected while a person from the team holds the conversation
    (`held`, asked only when the turn was silent).
    """

    async def handle(message: UserMessage) -> None:
        before = _answers(message.output_channel)
        try:
            await on_new_message(message)
        except Exception:  # the user still gets an answer; the error is logged
            logger.exception("processing failed (%s channel)", message.input_channel)
        if _answers(message.output_channel) == before and not await held(
            message.sender_id
        ):
            logger.warning(
                "no answer (%s channel): static fallback", message.input_channel
            )
            await message.output_channel.send_text_message(
                message.sender_id, fallback_text(message.text or "", message.metadata)
            )

    return handle
