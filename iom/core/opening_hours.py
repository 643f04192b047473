"""Whether a contact is open now, and when it opens next (Europe/Warsaw time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from iom.core.contacts import Hours

WARSAW = ZoneInfo("Europe/Warsaw")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class OpenState:
    """Open now? ``always`` for 24/7 lines; ``next_open`` when closed."""

    open_now: bool
    always: bool = False
    next_open: datetime | None = None


def format_local(moment: datetime) -> str:
    """Day, month and time in Warsaw, as the responses show it ("30.11 09:00")."""
    return moment.astimezone(WARSAW).strftime("%d.%m %H:%M")


def _at(day: datetime, hhmm: str) -> datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day.date(), time(hour, minute), tzinfo=WARSAW)


def open_state(hours: Hours, now: datetime) -> OpenState:
    """Whether ``hours`` are open at ``now`` (any timezone; compared in Warsaw)."""
    if hours.always_open:
        return OpenState(open_now=True, always=True)
    local = now.astimezone(WARSAW)
    for offset in range(8):
        day = local + timedelta(days=offset)
        weekday = DAYS[day.weekday()]
        starts = sorted(
            (_at(day, r.open), _at(day, r.close))
            for r in hours.weekly
            if weekday in r.days
        )
        for start, end in starts:
            if offset == 0 and start <= local < end:
                return OpenState(open_now=True)
            if start > local:
                return OpenState(open_now=False, next_open=start)
    return OpenState(open_now=False)
