"""Lazy, self-reloading access to the contact directory file.

The file is read on first use and again whenever its modification time or size
changes, so staff edits apply to the next question without a restart or retraining.
A changed file that fails validation is rejected with a logged error and the last
good directory stays in use.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from iom.core import settings
from iom.core.contacts import Directory, DirectoryError, load_directory

logger = logging.getLogger(__name__)
DEFAULT_FILE = settings.ROOT / "knowledge" / "contacts.yml"


def directory_path() -> Path:
    """The directory file: ``CONTACTS_FILE`` or knowledge/contacts.yml."""
    return settings.current().contacts_file


class DirectoryStore:
    """Holds the last valid directory and reloads it when the file changes."""

    def __init__(self, path: Path | None = None) -> None:
        """Nothing is read until :meth:`get` is called."""
        self.path = path or directory_path()
        self._directory: Directory | None = None
        self._signature: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self.last_error: str | None = None

    def get(self) -> Directory:
        """The current directory (raises DirectoryError if none was ever valid)."""
        with self._lock:
            try:
                stat = self.path.stat()
                signature: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
            except OSError:
                signature = None
            if signature != self._signature or self._directory is None:
                self._signature = signature
                try:
                    self._directory = load_directory(self.path)
                    self.last_error = None
                    logger.info("Loaded contact directory %s", self.path)
                except DirectoryError as error:
                    self.last_error = str(error)
                    if self._directory is None:
                        raise
                    logger.error(
                        "Rejected contact directory, keeping the last good one: %s",
                        error,
                    )
            return self._directory


_store: DirectoryStore | None = None


def shared_store() -> DirectoryStore:
    """The process-wide store, created on first use (not at import)."""
    global _store
    if _store is None or _store.path != directory_path():
        _store = DirectoryStore()
    return _store
