"""The contact directory (knowledge/contacts.yml): schema, loading, queries.

pydantic (v1, the version rasa 3.6 pins) describes every entry; a file that breaks
the schema raises :class:`DirectoryError` naming the entry and the field. The operator
console (pydantic 2) uses the same schema through pydantic's `pydantic.v1` namespace.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Literal

import yaml

try:  # the operator console's venv has pydantic 2, which ships v1 as pydantic.v1
    from pydantic.v1 import (
        BaseModel,
        Field,
        ValidationError,
        root_validator,
        validator,
    )
except ImportError:  # rasa's venv: pydantic 1.10
    from pydantic import (  # type: ignore[assignment, no-redef]
        BaseModel,
        Field,
        ValidationError,
        root_validator,
        validator,
    )

from iom.core.cities import CITIES

Topic = Literal[
    "trafficking",
    "integration",
    "residence",
    "work",
    "return",
    "crisis",
    "emergency",
    "language_learning",
    "information",
    "health",
]
Status = Literal["verified", "unconfirmed"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_TIME = r"^([01]\d|2[0-3]):[0-5]\d$"
_PHONE = r"^(\+48\d{9}|\d{3}|\d{6}|80[01]\d{6})$"
_EMAIL = r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"
_URL = r"^https?://\S+$"
_SEEN = r"^\d{4}(-\d{2}(-\d{2})?)?$"


def _require_reason(values: dict, what: str) -> dict:
    """An unconfirmed fact or entry must say why."""
    if values.get("status") == "unconfirmed" and not values.get("reason"):
        raise ValueError(f"an unconfirmed {what} needs a `reason`")
    return values


class Strict(BaseModel):
    """Unknown fields are errors, so a typo in a key is caught."""

    class Config:  # noqa: D106
        extra = "forbid"


class Localized(Strict):
    """A text in each language the assistant speaks (iom.core.language.SUPPORTED)."""

    pl: str = Field(..., min_length=1)
    en: str = Field(..., min_length=1)
    uk: str = Field(..., min_length=1)
    ru: str = Field(..., min_length=1)


class Sourced(Strict):
    """Where a fact comes from, the date its source shows, and whether it holds."""

    source_url: str = Field(..., regex=_URL)
    seen_date: str | None = Field(None, regex=_SEEN)
    status: Status
    reason: str | None = None

    @root_validator(skip_on_failure=True)
    def unconfirmed_needs_reason(cls, values: dict) -> dict:  # noqa: N805
        """An unconfirmed fact must say why."""
        return _require_reason(values, "fact")


class Phone(Sourced):
    """A phone number: `number` for tel: links, `display` as printed."""

    number: str = Field(..., regex=_PHONE)
    display: str
    label: Localized | None = None

    @root_validator(skip_on_failure=True)
    def display_matches_number(cls, values: dict) -> dict:  # noqa: N805
        """The printed form must be the same number."""
        digits = re.sub(r"\D", "", values["display"])
        if not re.sub(r"\D", "", values["number"]).endswith(digits):
            raise ValueError(f"display {values['display']!r} is not {values['number']}")
        return values


class Email(Sourced):
    """An e-mail address."""

    address: str = Field(..., regex=_EMAIL)


class Address(Sourced):
    """A street address."""

    value: str = Field(..., min_length=3)


class Languages(Sourced):
    """Languages in which the service answers."""

    value: str


class TimeRange(Strict):
    """Opening hours on some weekdays."""

    days: list[Day] = Field(..., min_items=1)
    open: str = Field(..., regex=_TIME)
    close: str = Field(..., regex=_TIME)

    @root_validator(skip_on_failure=True)
    def opens_before_closing(cls, values: dict) -> dict:  # noqa: N805
        """A range must not close before it opens."""
        if values["open"] >= values["close"]:
            raise ValueError(
                f"opens {values['open']} after it closes {values['close']}"
            )
        return values


class Hours(Sourced):
    """Either open 24/7 or weekly ranges, in Europe/Warsaw time."""

    always_open: bool = False
    weekly: list[TimeRange] = []

    @root_validator(skip_on_failure=True)
    def one_kind(cls, values: dict) -> dict:  # noqa: N805
        """24/7 or weekly ranges, not both, not neither."""
        if values.get("always_open") == bool(values.get("weekly")):
            raise ValueError("give either `always_open: true` or `weekly` ranges")
        return values


class Contact(Strict):
    """One organisation or line in the directory."""

    id: str = Field(..., regex=r"^[a-z0-9_]+$")
    name: Localized
    help: Localized
    topics: list[Topic] = Field(..., min_items=1)
    nationwide: bool = False
    cities: list[str] = []
    status: Status
    reason: str | None = None
    website: str | None = Field(None, regex=_URL)
    verify_at: str | None = Field(None, regex=_URL)
    verified_on: date | None = None
    verified_by: str | None = None
    phones: list[Phone] = []
    emails: list[Email] = []
    address: Address | None = None
    hours: Hours | None = None
    languages: Languages | None = None

    @validator("cities", each_item=True)
    def known_city(cls, city: str) -> str:  # noqa: N805
        """Cities are canonical names the city resolver knows."""
        if city not in CITIES:
            raise ValueError(f"unknown city {city!r} (known: {', '.join(CITIES)})")
        return city

    @root_validator(skip_on_failure=True)
    def consistent(cls, values: dict) -> dict:  # noqa: N805
        """Somewhere to serve; reasons for unconfirmed entries."""
        if not values.get("nationwide") and not values.get("cities"):
            raise ValueError("set `nationwide: true` or list `cities`")
        return _require_reason(values, "entry")


class Directory(Strict):
    """The whole file."""

    version: Literal[1]
    compiled_from: str
    contacts: list[Contact] = Field(..., min_items=1)

    @validator("contacts")
    def unique_ids(cls, contacts: list[Contact]) -> list[Contact]:  # noqa: N805
        """Ids are unique."""
        seen: set[str] = set()
        for contact in contacts:
            if contact.id in seen:
                raise ValueError(f"duplicate id {contact.id!r}")
            seen.add(contact.id)
        return contacts

    def by_id(self, contact_id: str) -> Contact:
        """The entry with this id (KeyError when absent)."""
        for contact in self.contacts:
            if contact.id == contact_id:
                return contact
        raise KeyError(contact_id)


class DirectoryError(ValueError):
    """The directory file is missing, not YAML, or breaks the schema."""


def _describe(raw: dict, error: ValidationError) -> str:
    lines = []
    contacts = raw.get("contacts") if isinstance(raw, dict) else None
    for item in error.errors():
        loc = list(item["loc"])
        where = ".".join(str(part) for part in loc)
        if len(loc) >= 2 and loc[0] == "contacts" and isinstance(loc[1], int):
            entry = contacts[loc[1]] if isinstance(contacts, list) else {}
            entry_id = entry.get("id", "?") if isinstance(entry, dict) else "?"
            field = ".".join(str(part) for part in loc[2:]) or "(entry)"
            where = f"entry {entry_id!r} (contacts[{loc[1]}]), field {field}"
        lines.append(f"{where}: {item['msg']}")
    return "; ".join(lines)


def parse_directory(text: str, origin: str = "<text>") -> Directory:
    """Validate YAML text as a directory."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DirectoryError(f"{origin}: not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise DirectoryError(f"{origin}: expected a mapping with `contacts`")
    try:
        return Directory.parse_obj(raw)
    except ValidationError as error:
        raise DirectoryError(f"{origin}: {_describe(raw, error)}") from error


def load_directory(path: Path) -> Directory:
    """Read and validate the directory file."""
    try:
        text = path.read_text("utf-8")
    except OSError as error:
        raise DirectoryError(f"{path}: cannot read: {error}") from error
    return parse_directory(text, str(path))
