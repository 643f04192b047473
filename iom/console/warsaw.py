"""Time as operators read it: Europe/Warsaw wall time and days."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")
DAY_SECONDS = 86400


def local_time(timestamp: float | None) -> str:
    """A Unix time as Europe/Warsaw wall time."""
    if not timestamp:
        return ""
    return datetime.fromtimestamp(timestamp, WARSAW).strftime("%Y-%m-%d %H:%M:%S")


def day_start(day: str) -> float:
    """Midnight of a YYYY-MM-DD day in Warsaw, as a Unix time (ValueError if bad)."""
    return datetime.combine(
        date.fromisoformat(day), datetime.min.time(), WARSAW
    ).timestamp()


def day_label(timestamp: float) -> str:
    """The Warsaw day of a Unix time as MM-DD (the dashboard's bars)."""
    return datetime.fromtimestamp(timestamp, WARSAW).strftime("%m-%d")


def last_days(days: int) -> list[str]:
    """The MM-DD labels of the last `days` Warsaw days, oldest first, today last."""
    today = datetime.now(WARSAW)
    return [
        (today - timedelta(days=offset)).strftime("%m-%d")
        for offset in range(days - 1, -1, -1)
    ]
