"""Rate limits (iom/rasa/channels/ratelimit.py): token buckets, and a real server's 429."""

from __future__ import annotations

import json
import uuid

from iom.rasa.channels.ratelimit import RateLimiter, TokenBuckets
from iom.tools.launch import LiveBot
from tests.test_bad_input import say


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_refills_at_its_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(3, clock)
    assert [buckets.allow("a") for _ in range(4)] == [True, True, True, False]
    assert buckets.allow("b")  # other keys are independent
    clock.now += 20  # 3 a minute: one token every 20 s
    assert buckets.allow("a") and not buckets.allow("a")


def test_zero_means_no_limit_and_old_keys_are_forgotten() -> None:
    assert all(TokenBuckets(0).allow("x") for _ in range(1000))
    buckets = TokenBuckets(1, Clock(), max_keys=2)
    for key in ("a", "b", "c"):
        assert buckets.allow(key)
    assert buckets.allow("a")  # "a" was evicted, so it starts full again
    assert not buckets.allow("c")


def test_sender_and_ip_limits_combine() -> None:
    limiter = RateLimiter(sender_per_minute=2, ip_per_minute=3, clock=Clock())
    assert limiter.allow("s1", "10.0.0.1") and limiter.allow("s1", "10.0.0.1")
    assert not limiter.allow("s1", "10.0.0.1")  # sender exhausted
    assert not limiter.allow("s2", "10.0.0.1")  # address exhausted (4th message)
    assert limiter.allow("s2", "10.0.0.2")


def test_a_fast_sender_gets_a_polite_429_and_others_are_unaffected(
    live_bot: LiveBot,
) -> None:
    fast = uuid.uuid4().hex
    statuses = []
    for _ in range(35):  # the live bot allows 30 a minute per conversation
        status, text = say(live_bot, fast, "ok")
        statuses.append(status)
        if status == 429:
            break
    assert statuses[-1] == 429, statuses
    body = json.loads(text)
    assert "112" in body["message"] and "Traceback" not in text
    status, text = say(live_bot, uuid.uuid4().hex, "numer do biura IOM")
    assert status == 200 and "Infolinia Migrant Info (IOM)" in text
