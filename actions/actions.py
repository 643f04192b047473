"""Custom actions: thin classes over the typed modules beside them.

All user-facing text is in domain.yml; these classes only choose responses and fill
their variables with data from the contact directory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from iom.core import clarify
from iom.core.cities import (
    ANYWHERE,
    MAX_TOWN_WORDS,
    canonical_city,
    could_be_a_town,
)
from iom.core.contacts import Contact, DirectoryError
from iom.core.directory_store import shared_store
from iom.core.handoff import STAFF_HOURS, operators_online, record_handoff
from iom.core.language import DEFAULT_LANGUAGE, SUPPORTED, texts_by_language
from iom.core.lookup import find_contacts, topic_for
from iom.core.opening_hours import format_local, open_state
from iom.core.safety import SAFETY_INTENTS

logger = logging.getLogger(__name__)
# Intents whose message city_form reads as a (possibly unknown) town.
ANSWER_INTENTS = frozenset({"nlu_fallback", "ask_info_line", "out_of_scope"})
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time (tests pass a fixed clock instead)."""
    return datetime.now(timezone.utc)


def _language(tracker: Tracker) -> str:
    language = tracker.get_slot("language")
    return language if language in SUPPORTED else DEFAULT_LANGUAGE


def _city(tracker: Tracker) -> str | None:
    """Canonical city from the entity, the text or the slot; else the raw entity.

    A city the resolver does not know (a small town) is returned as written, so the
    user hears that no local office is known there instead of silence about it.
    """
    if tracker.get_slot("city") == ANYWHERE:
        return None
    entities = [str(v) for v in tracker.get_latest_entity_values("city")]
    for candidate in [*entities, tracker.latest_message.get("text") or ""]:
        city = canonical_city(candidate)
        if city:
            return city
    if entities:
        return entities[0]
    slot = str(tracker.get_slot("city") or "")  # e.g. a town city_form kept
    return (canonical_city(slot) or slot) if slot else None


def _asked_topic(tracker: Tracker) -> str | None:
    """The topic of the question that city_form interrupted (its user message)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            topic = topic_for(None, intent.get("name"))
            if topic is not None:
                return topic
    return None


def contact_lines(contact: Contact, language: str) -> str:
    """Verified phones (tel:), e-mails (mailto:), address and website, one per line."""
    lines = []
    for phone in contact.phones:
        if phone.status != "verified":
            continue
        label = f" ({getattr(phone.label, language)})" if phone.label else ""
        lines.append(f"📞 [{phone.display}](tel:{phone.number}){label}")
    for email in contact.emails:
        if email.status == "verified":
            lines.append(f"✉️ [{email.address}](mailto:{email.address})")
    if contact.address and contact.address.status == "verified":
        lines.append(f"📍 {contact.address.value}")
    if contact.website:
        lines.append(f"🌐 {contact.website}")
    return "\n".join(lines)


class ActionLookupContact(Action):
    """Answer with the contacts for the user's topic, city and language."""

    def __init__(self, clock: Clock = utc_now) -> None:
        """``clock`` decides "open now" (fixed in tests)."""
        self.clock = clock

    def name(self) -> str:
        """Action name in the domain."""
        return "action_lookup_contact"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        """Utter a card per contact, with open-now state and caveats."""
        language = _language(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        topic = topic_for(next(tracker.get_latest_entity_values("topic"), None), intent)
        if topic is None and intent != "contact_iom":
            topic = _asked_topic(tracker)
        city = _city(tracker)
        try:
            directory = shared_store().get()
        except DirectoryError as error:
            logger.error("No valid contact directory: %s", error)
            dispatcher.utter_message(response="utter_contact_directory_unavailable")
            return []
        result = find_contacts(directory, topic, city)
        if not result.contacts:  # never answer with nothing: IOM's own lines
            result = find_contacts(directory, None, city)
        if city and not result.local_found:
            dispatcher.utter_message(response="utter_contact_no_local", city=city)
        now = self.clock()
        for contact in result.contacts:
            self._utter_contact(dispatcher, contact, language, now)
        return [SlotSet("city", city)] if city else []

    @staticmethod
    def _utter_contact(
        dispatcher: CollectingDispatcher, contact: Contact, language: str, now: datetime
    ) -> None:
        dispatcher.utter_message(
            response="utter_contact_card",
            name=getattr(contact.name, language),
            help=getattr(contact.help, language),
            contact_lines=contact_lines(contact, language),
        )
        website = contact.verify_at or contact.website or ""
        if contact.status == "unconfirmed":
            dispatcher.utter_message(
                response="utter_contact_unconfirmed", website=website
            )
            return
        if contact.hours is None:
            return
        if contact.hours.status == "unconfirmed":
            dispatcher.utter_message(
                response="utter_contact_hours_unconfirmed", website=website
            )
            return
        state = open_state(contact.hours, now)
        if state.always:
            dispatcher.utter_message(response="utter_contact_always_open")
        elif state.open_now:
            dispatcher.utter_message(response="utter_contact_open_now")
        elif state.next_open is not None:
            dispatcher.utter_message(
                response="utter_contact_closed",
                next_open=format_local(state.next_open),
            )


class ActionRequestHuman(Action):
    """Record a handoff request and say honestly when staff may respond.

    With an operator online (the console open), a person will join this chat;
    otherwise the team's hours and the phone lines.
    """

    def __init__(self, clock: Clock = utc_now, database_url: str | None = None):
        """``clock`` and ``database_url`` are fixed in tests."""
        self.clock = clock
        self.database_url = database_url

    def name(self) -> str:
        """Action name in the domain."""
        return "action_request_human"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        """Insert an `open` row into handoff_requests, then tell the user."""
        now = self.clock()
        try:
            record_handoff(
                tracker.sender_id,
                _language(tracker),
                tracker.get_slot("topic"),
                now=now,
                url=self.database_url,
            )
        except SQLAlchemyError as error:
            logger.error(
                "Could not record handoff for %s: %s", tracker.sender_id, error
            )
            dispatcher.utter_message(response="utter_handoff_not_recorded")
            return []
        if operators_online(self.database_url, now):
            dispatcher.utter_message(response="utter_handoff_operator_online")
            return []
        state = open_state(STAFF_HOURS, now)
        if state.open_now:
            dispatcher.utter_message(response="utter_handoff_recorded_open")
        else:
            next_open = format_local(state.next_open) if state.next_open else ""
            dispatcher.utter_message(
                response="utter_handoff_recorded_closed", next_open=next_open
            )
        return []


def response_text(domain: dict[str, Any], response: str, language: str) -> str:
    """A domain response's text in `language` (its first variation otherwise)."""
    variations = domain.get("responses", {}).get(response) or [{}]
    texts = texts_by_language(variations)
    return texts.get(language) or str(variations[0].get("text", ""))


class ActionClarify(Action):
    """Ask "did you mean…?" with the NLU's top candidates as buttons.

    The candidates come from the message's intent ranking (iom.core.clarify); each
    button's title is the domain response ``utter_title_<intent>`` in the user's
    language, and "none of these" sends ``/deny`` (the rules then ask to rephrase).
    """

    def name(self) -> str:
        """Action name in the domain."""
        return "action_clarify"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        """Utter utter_clarify with a button per candidate intent and "none"."""
        language = _language(tracker)
        responses = domain.get("responses", {})
        offered = [i for i in _intents(domain) if f"utter_title_{i}" in responses]
        ranking = tracker.latest_message.get("intent_ranking") or []
        buttons = [
            {
                "title": response_text(domain, f"utter_title_{intent}", language),
                "payload": f"/{intent}",
            }
            for intent in clarify.candidates(ranking, offered)
        ]
        buttons.append(
            {
                "title": response_text(domain, "utter_title_none", language),
                "payload": "/deny",
            }
        )
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        return []


def _intents(domain: dict[str, Any]) -> list[str]:
    return [
        i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", [])
    ]


class ValidateCityForm(FormValidationAction):
    """city_form's answer: a known city in any case form, "anywhere", or a town.

    A known city becomes its canonical name ("we Wrocławiu" -> Wrocław); a short
    answer the resolver does not know is kept as written, so the lookup says that no
    local office is known there and gives the nationwide lines; a longer sentence is
    not a town, and the question is asked again.
    """

    def name(self) -> str:
        """Action name in the domain."""
        return "validate_city_form"

    async def extract_city(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """The answer to the city question, or nothing (the form then lets go).

        A call for help is never read as a town. A known city in any form is; so is
        a short answer made of words no language word list knows (a small town,
        whatever intent the model guessed for it); a longer message only when the
        model found no other question in it.
        """
        if tracker.get_slot("requested_slot") != "city":
            return {}
        text = str(tracker.latest_message.get("text") or "").strip()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent in SAFETY_INTENTS or intent == "request_human" or not text:
            return {}
        if text.startswith("/"):  # a button: its entity fills the slot
            return {}
        if canonical_city(text) or could_be_a_town(text):
            return {"city": text}
        return {"city": text} if intent in ANSWER_INTENTS else {}

    def validate_city(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Resolve the city (see the class docstring)."""
        text = str(slot_value or "").strip()
        if text == ANYWHERE:
            return {"city": ANYWHERE}
        city = canonical_city(text)
        if city:
            return {"city": city}
        words = text.split()
        short = 0 < len(words) <= MAX_TOWN_WORDS and all(w.isalpha() for w in words)
        return {"city": text if short else None}
