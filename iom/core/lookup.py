"""Choose the contacts that answer a question: topic x city x language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from iom.core.contacts import Contact, Directory, Topic

# Topic implied by the intent when the user named none.
INTENT_TOPICS: dict[str, str] = {
    "report_trafficking": "trafficking",
    "ask_trafficking_signs": "trafficking",
    "immediate_danger": "emergency",
    "emotional_crisis": "crisis",
    "ask_residence": "residence",
    "ask_work_rights": "work",
    "ask_learn_polish": "language_learning",
    "ask_info_line": "information",
    "ask_ukraine_help": "information",
    "ask_voluntary_return": "return",
}
IOM_PREFIX = "iom_"
KNOWN_TOPICS: frozenset[str] = frozenset(get_args(Topic))


@dataclass(frozen=True)
class Lookup:
    """The contacts to show and whether any of them is local to the city."""

    contacts: list[Contact]
    topic: str | None
    city: str | None
    local_found: bool


def topic_for(entity_topic: str | None, intent: str | None) -> str | None:
    """The topic the user named, else the one their intent implies (None: IOM).

    An extracted value that is not a directory topic (the entity extractor can tag
    e.g. an e-mail address as `topic`) is ignored rather than finding nothing.
    """
    if entity_topic in KNOWN_TOPICS:
        return entity_topic
    return INTENT_TOPICS.get(intent or "")


def find_contacts(
    directory: Directory, topic: str | None, city: str | None, limit: int = 3
) -> Lookup:
    """Local offices for the topic first, then nationwide lines; verified first."""
    if topic is None:
        pool = [c for c in directory.contacts if c.id.startswith(IOM_PREFIX)]
    else:
        pool = [c for c in directory.contacts if topic in c.topics]
    local = [c for c in pool if city and city in c.cities]
    if topic is None:  # "contact IOM": every IOM entry, wherever it is
        nationwide = [c for c in pool if c not in local]
    else:
        nationwide = [c for c in pool if c.nationwide and c not in local]

    def rank(contact: Contact) -> tuple[bool, bool, bool]:
        reachable = any(p.status == "verified" for p in contact.phones) or any(
            e.status == "verified" for e in contact.emails
        )
        generic_emergency = "emergency" in contact.topics and topic != "emergency"
        return (contact.status != "verified", not reachable, generic_emergency)

    chosen = sorted(local, key=rank) + sorted(nationwide, key=rank)
    return Lookup(chosen[:limit], topic, city, bool(local))
