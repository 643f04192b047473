"""The atomic Redis lock store (iom/rasa/lock_store.py) against a real redis-server.

Rasa 3.6's `RedisLockStore` can give two instances the same ticket for one
conversation (RasaHQ/rasa#9213); the topology then processed one conversation twice at
once and lost user messages. These tests replay that interleaving step by step, then
run several processes against one server and check that no two ever hold one
conversation's lock at the same time.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.utils.endpoints import read_endpoint_config

from bench.lock_store import measure, redis_server
from iom.rasa.lock_store import AtomicRedisLockStore
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def redis_port() -> Iterator[int]:
    """A throw-away redis-server (no persistence) on a free port."""
    if not shutil.which("redis-server"):
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing: `make system-deps` installs it")
        pytest.skip("redis-server not installed (make system-deps)")
    with redis_server() as port:
        yield port


@pytest.fixture()
def client(redis_port: int) -> Iterator[redis.Redis]:
    connection = redis.Redis(port=redis_port, db=1)
    connection.flushdb()
    yield connection
    connection.flushdb()


def _atomic(port: int, **settings: Any) -> AtomicRedisLockStore:
    return AtomicRedisLockStore(port=port, db=1, key_prefix="test", **settings)


def _race_on_issue(
    monkeypatch: pytest.MonkeyPatch, other: Callable[[], int]
) -> list[int]:
    """Make `other` issue a ticket between a store's read of the lock and its write.

    That is the moment two instances meet when both take a ticket at once.
    """
    issued: list[int] = []
    started: list[bool] = []
    original = TicketLock.issue_ticket

    def issue_with_a_rival(lock: TicketLock, lifetime: float) -> int:
        if not started:
            started.append(True)
            issued.append(other())
        return original(lock, lifetime)

    monkeypatch.setattr(TicketLock, "issue_ticket", issue_with_a_rival)
    return issued


def test_rasas_store_gives_two_instances_one_ticket(
    client: redis.Redis, redis_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: the interleaving below is the bug this module exists for."""
    first = RedisLockStore(port=redis_port, db=1, key_prefix="test")
    second = RedisLockStore(port=redis_port, db=1, key_prefix="test")
    rival = _race_on_issue(monkeypatch, lambda: second.issue_ticket("c1"))
    mine = first.issue_ticket("c1")
    assert rival == [0] and mine == 0  # both may process conversation c1 now


def test_atomic_store_gives_the_second_instance_the_next_ticket(
    client: redis.Redis, redis_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _atomic(redis_port), _atomic(redis_port)
    rival = _race_on_issue(monkeypatch, lambda: second.issue_ticket("c1"))
    mine = first.issue_ticket("c1")
    assert rival == [0] and mine == 1
    lock = first.get_lock("c1")
    assert lock is not None
    assert lock.is_locked(1) and not lock.is_locked(0)


def test_returning_a_ticket_keeps_a_rivals_new_ticket(
    client: redis.Redis, redis_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rasa's cleanup reads, removes and writes back: a ticket issued meanwhile vanished."""
    first, second = _atomic(redis_port), _atomic(redis_port)
    ticket = first.issue_ticket("c1")
    original = TicketLock.remove_ticket_for
    rival: list[int] = []

    def remove_with_a_rival(lock: TicketLock, number: int) -> None:
        if not rival:  # issue_ticket does not remove tickets: no recursion
            rival.append(second.issue_ticket("c1"))
        original(lock, number)

    monkeypatch.setattr(TicketLock, "remove_ticket_for", remove_with_a_rival)
    first.cleanup("c1", ticket)
    lock = first.get_lock("c1")
    assert rival == [1]
    assert lock is not None and [t.number for t in lock.tickets] == [1]
    assert not lock.is_locked(1)  # the rival is served next


def test_the_last_ticket_deletes_the_lock_and_locks_expire(
    client: redis.Redis, redis_port: int
) -> None:
    store = _atomic(redis_port)
    first = store.issue_ticket("c1", lock_lifetime=30)
    second = store.issue_ticket("c1", lock_lifetime=30)
    assert 0 < client.pttl("test:lock:c1") <= 32_000
    store.cleanup("c1", first)
    assert client.exists("test:lock:c1")
    store.cleanup("c1", second)
    assert not client.exists("test:lock:c1")


def test_expired_tickets_do_not_block_the_next_one(
    client: redis.Redis, redis_port: int
) -> None:
    store = _atomic(redis_port)
    store.issue_ticket("c1", lock_lifetime=0.05)  # an instance that died
    time.sleep(0.1)
    ticket = store.issue_ticket("c1")
    lock = store.get_lock("c1")
    assert lock is not None and not lock.is_locked(ticket)


async def _hold(store: AtomicRedisLockStore, conversation: str, log: list[str]) -> None:
    async with store.lock(conversation):
        log.append("in")
        await asyncio.sleep(0.02)
        log.append("out")


def test_a_waiter_gets_the_lock_soon_after_it_is_released(
    client: redis.Redis, redis_port: int
) -> None:
    """Rasa's store looks again after 1 s; this one after `poll_interval`."""
    store = _atomic(redis_port, poll_interval=0.01)
    log: list[str] = []

    async def both() -> float:
        start = time.perf_counter()
        await asyncio.gather(_hold(store, "c1", log), _hold(store, "c1", log))
        return time.perf_counter() - start

    elapsed = asyncio.run(both())
    assert log == ["in", "out", "in", "out"]
    assert elapsed < 0.5
    assert not client.exists("test:lock:c1")


def test_two_processes_never_hold_one_conversation_at_once(
    client: redis.Redis, redis_port: int
) -> None:
    """bench/lock_store.py's load, shortened: where Rasa's store overlapped, stalled."""
    result = measure("atomic", redis_port, rounds=5)
    assert result["requests"] == 400
    assert (result["overlaps"], result["errors"], result["stalled"]) == (0, 0, 0)
    assert result["left"] == 0  # every lock returned and deleted


def test_deploy_endpoints_build_this_store(redis_port: int, tmp_path: Path) -> None:
    endpoints = tmp_path / "endpoints.yml"
    section = yaml.safe_load((ROOT / "deploy" / "endpoints.yml").read_text())[
        "lock_store"
    ]
    section.update(url="127.0.0.1", port=redis_port, password="")
    endpoints.write_text(yaml.safe_dump({"lock_store": section}))
    store = LockStore.create(read_endpoint_config(str(endpoints), "lock_store"))
    assert isinstance(store, AtomicRedisLockStore)
    assert store.key_prefix == "iom:lock:"
    assert store.red.connection_pool.connection_kwargs["db"] == 1
    assert store.red.ping()


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="poll_intervall"):
        AtomicRedisLockStore(poll_intervall=1)
    with pytest.raises(ValueError, match="positive"):
        AtomicRedisLockStore(poll_interval=0)


def test_rasa_allows_several_sanic_workers_with_this_store(
    redis_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/deploy.md offers SANIC_WORKERS=2; Rasa refuses it for in-memory locks."""
    from rasa.core.utils import number_of_sanic_workers

    monkeypatch.setenv("SANIC_WORKERS", "2")
    assert number_of_sanic_workers(_atomic(redis_port)) == 2
