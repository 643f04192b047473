"""A Redis lock store that issues and returns tickets atomically.

Configured in deploy/endpoints.yml as
`type: iom.rasa.lock_store.AtomicRedisLockStore` (the same keys as Rasa's `redis`
lock store, plus `poll_interval`).

Why: Rasa 3.6's `RedisLockStore` changes a conversation's ticket lock by reading it,
changing it in Python and writing it back with a plain `SET`. Two Rasa instances that
issue a ticket for the same conversation at the same moment can both read the same
lock and both get the same ticket number, and then both process the conversation at
once; the second tracker save skips as many of its events as are already stored, and
a user message is lost (RasaHQ/rasa#9213; the bench topology lost 1-5 of 1,000).
The same read-modify-write in `finish_serving`, `cleanup` and `update_lock` can drop
another instance's ticket.

Here every change runs in a Redis optimistic transaction (`WATCH` the key, read,
`MULTI` ... `EXEC`, retried when another client changed the key in between), using
redis-py's `Redis.transaction`. The stored format is Rasa's own `TicketLock` JSON, so
Rasa's code reads it unchanged. A lock with no tickets left is deleted in the same
transaction, and every stored lock expires with its last ticket, so a crashed instance
leaves nothing behind. Waiters poll every `poll_interval` seconds instead of Rasa's
fixed one second.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_POLL_INTERVAL = 0.05
"""Seconds between two looks at a busy lock (Rasa's store: 1 s)."""

# what RedisLockStore itself accepts besides the host (`url` in endpoints.yml)
_REDIS_SETTINGS = set(inspect.signature(RedisLockStore.__init__).parameters) - {
    "self",
    "host",
}


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis ticket lock, with every change made in one Redis transaction."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        host: str | None = None,
        poll_interval: float | None = None,
        **settings: Any,
    ) -> None:
        """Connect like Rasa's `redis` lock store.

        Rasa passes the `lock_store` section of endpoints.yml as `endpoint_config`;
        `url` is the Redis host and the other keys are `RedisLockStore`'s arguments.
        """
        options: dict[str, Any] = (
            dict(endpoint_config.kwargs) if endpoint_config else {}
        )
        options.update(settings)
        interval = options.pop("poll_interval", poll_interval)
        unknown = sorted(set(options) - _REDIS_SETTINGS)
        if unknown:
            raise ValueError(f"Unknown lock store setting(s): {', '.join(unknown)}")
        if not options.get("password"):
            options.pop("password", None)
        address = (
            host or (endpoint_config.url if endpoint_config else None) or "localhost"
        )
        super().__init__(host=address, **options)
        self.poll_interval = (
            float(interval) if interval is not None else DEFAULT_POLL_INTERVAL
        )
        if self.poll_interval <= 0:
            raise ValueError("poll_interval must be a positive number of seconds")

    def _change(self, conversation_id: str, change: Callable[[TicketLock], T]) -> T:
        """Apply `change` to the conversation's lock in one transaction; its result."""
        key = self.key_prefix + conversation_id

        def attempt(pipe: Any) -> T:
            stored = pipe.get(key)
            lock = (
                TicketLock.from_dict(json.loads(stored))
                if stored
                else self.create_lock(conversation_id)
            )
            result = change(lock)
            lock.remove_expired_tickets()
            pipe.multi()
            if lock.tickets:
                pipe.set(key, lock.dumps())
                last_expiry = max(ticket.expires for ticket in lock.tickets)
                pipe.pexpireat(key, int(last_expiry * 1000) + 1000)
            else:
                pipe.delete(key)
            return result

        result: T = self.red.transaction(attempt, key, value_from_callable=True)
        return result

    def issue_ticket(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME
    ) -> int:
        """A new ticket for the conversation, unique among all instances."""
        logger.debug(f"Issuing ticket for conversation '{conversation_id}'.")
        try:
            return self._change(
                conversation_id, lambda lock: lock.issue_ticket(lock_lifetime)
            )
        except Exception as error:  # Rasa's contract: any failure is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Return the ticket; the lock is deleted with its last ticket."""
        self._change(
            conversation_id, lambda lock: lock.remove_ticket_for(ticket_number)
        )

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Return the ticket (Rasa's version also deletes the lock, non-atomically)."""
        self.finish_serving(conversation_id, ticket_number)

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets."""
        self._change(conversation_id, lambda lock: lock.remove_expired_tickets())

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Rasa's ticket lock, polled every `poll_interval` seconds at most."""
        wait = min(wait_time_in_seconds, self.poll_interval)
        async with super().lock(conversation_id, lock_lifetime, wait) as lock:
            yield lock
