"""The background job that keeps the conversation index up to date.

Page views only read. New tracker events are folded into the console's index
(`tracker.sync`) by one asyncio task per console process, started and stopped by the
app's lifespan (app.py): it syncs at start, then every `Settings.sync_seconds`
seconds after the previous run ended. Runs never overlap: the task awaits each run
(in a worker thread, so the event loop keeps serving pages) before sleeping, and a
lock guards `run_once` for anyone else in the process. `python -m iom.console.cli
sync` does one run from cron; `tracker.sync` itself locks its cursor row, so runs
from two processes do not index the same events twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import sqlalchemy as sa

from iom.console import tracker
from iom.console.live import Live

logger = logging.getLogger("console.jobs")


class IndexJob:
    """Runs `tracker.sync` every `interval` seconds (0 or less: never by itself)."""

    def __init__(self, engine: sa.engine.Engine, interval: float) -> None:
        self.engine = engine
        self.interval = interval
        self.runs = 0  # completed runs, failed ones included
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def run_once(self) -> int:
        """Index what arrived since the last run; the number of events read.

        A failure (e.g. the database is briefly unreachable) is logged and retried at
        the next run; it never stops the job or the console.
        """
        async with self._lock:
            try:
                return await asyncio.to_thread(self.work)
            except Exception:
                logger.exception("%s failed", self.what)
                return 0
            finally:
                self.runs += 1

    what = "indexing new tracker events"
    task_name = "console-index-sync"

    def work(self) -> int:
        """One run's work (in a worker thread)."""
        return tracker.sync(self.engine)

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            await self.run_once()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)

    def start(self) -> None:
        """Start the periodic task (nothing if the interval is 0)."""
        if self.interval > 0 and self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._loop(), name=self.task_name)

    async def stop(self) -> None:
        """Stop the periodic task, after the run in progress (if any) has finished."""
        if self._task is not None:
            self._stopping.set()
            await self._task
            self._task = None


class HandBackJob(IndexJob):
    """Gives chats back to the bot when their operator went away or sat idle.

    Runs every `interval` seconds (live.py: `Live.hand_back_expired`); the person is
    told and the bot answers again.
    """

    what = "handing back expired live chats"
    task_name = "console-live-hand-back"

    def __init__(self, live: Live, interval: float) -> None:
        super().__init__(live.engine, interval)
        self.live = live

    def work(self) -> int:
        """Hand back what expired; how many chats."""
        return len(self.live.hand_back_expired())
