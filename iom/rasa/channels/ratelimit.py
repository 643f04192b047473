"""Per-sender and per-IP rate limits for the public channels (token buckets).

Defaults: 20 messages a minute per conversation (bursts up to 20), 300 a minute per
client IP (high, because many migrants share a mobile carrier's NAT address). Set
`RATE_LIMIT_SENDER_PER_MIN` / `RATE_LIMIT_IP_PER_MIN` (0 turns a limit off). Limits
are per Rasa process; with several instances, nginx limits per IP in front
(issue 6). A limited user gets `utter_rate_limited` (which repeats 112), never silence.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from iom.core import settings

MAX_KEYS = 100_000
RESPONSE = "utter_rate_limited"


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """Token buckets by key; the least recently used keys are forgotten first."""

    def __init__(
        self,
        per_minute: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Take one token for `key`; False when its bucket is empty."""
        if self.capacity <= 0:
            return True
        now = self.clock()
        with self._lock:
            bucket = self._buckets.pop(key, None) or _Bucket(self.capacity, now)
            bucket.tokens = min(
                self.capacity, bucket.tokens + (now - bucket.at) * self.rate
            )
            bucket.at = now
            allowed = bucket.tokens >= 1.0
            if allowed:
                bucket.tokens -= 1.0
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return allowed


class RateLimiter:
    """Both limits together: a message passes only if sender and IP both have tokens."""

    def __init__(
        self,
        sender_per_minute: float | None = None,
        ip_per_minute: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if sender_per_minute is None:
            sender_per_minute = settings.current().rate_limit_sender_per_min
        if ip_per_minute is None:
            ip_per_minute = settings.current().rate_limit_ip_per_min
        self.senders = TokenBuckets(sender_per_minute, clock)
        self.ips = TokenBuckets(ip_per_minute, clock)

    def allow(self, sender: str, ip: str | None) -> bool:
        """Whether this message may be processed now."""
        sender_ok = self.senders.allow(sender)
        ip_ok = self.ips.allow(ip) if ip else True
        return sender_ok and ip_ok
