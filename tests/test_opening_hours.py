"""Open now / next opening with a fixed clock in Europe/Warsaw."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from iom.core.contacts import Hours
from iom.core.opening_hours import WARSAW, open_state

SOURCE = {"source_url": "https://example.org", "status": "verified"}
OFFICE = Hours(
    weekly=[
        {"days": ["mon"], "open": "10:00", "close": "18:00"},
        {"days": ["tue", "wed", "thu", "fri"], "open": "08:00", "close": "16:00"},
    ],
    **SOURCE,
)


def warsaw(*args: int) -> datetime:
    return datetime(*args, tzinfo=WARSAW)


@pytest.mark.parametrize(
    ("now", "open_now", "next_open"),
    [
        (warsaw(2026, 11, 23, 9, 59), False, warsaw(2026, 11, 23, 10, 0)),  # Mon
        (warsaw(2026, 11, 23, 10, 0), True, None),
        (warsaw(2026, 11, 23, 17, 59), True, None),
        (warsaw(2026, 11, 23, 18, 0), False, warsaw(2026, 11, 24, 8, 0)),
        (warsaw(2026, 11, 27, 16, 30), False, warsaw(2026, 11, 30, 10, 0)),  # Fri
        (warsaw(2026, 11, 28, 12, 0), False, warsaw(2026, 11, 30, 10, 0)),  # Sat
    ],
)
def test_weekly_hours(now: datetime, open_now: bool, next_open: datetime) -> None:
    state = open_state(OFFICE, now)
    assert (state.open_now, state.next_open) == (open_now, next_open)


def test_utc_clock_is_compared_in_warsaw_time() -> None:
    # 07:30 UTC on a Tuesday in November is 08:30 in Warsaw (CET, UTC+1)
    assert open_state(
        OFFICE, datetime(2026, 11, 24, 7, 30, tzinfo=timezone.utc)
    ).open_now
    # in July (CEST, UTC+2) 06:30 UTC is 08:30 in Warsaw
    assert open_state(OFFICE, datetime(2026, 7, 7, 6, 30, tzinfo=timezone.utc)).open_now


def test_always_open_lines() -> None:
    state = open_state(Hours(always_open=True, **SOURCE), warsaw(2026, 12, 25, 3, 0))
    assert state.open_now and state.always and state.next_open is None
