"""The admin's learning-loop buttons: a retrain or a rollback in the background.

The console runs in its own venv without Rasa, so it starts the learning loop's
command line (`python -m iom.tools.retrain run|rollback`, Rasa's venv) as a child
process, with the console's database as TRACKER_URL. The tool writes its progress
into the model registry (`console_models.stage`), which the models page shows and
refreshes while it runs; its output goes to `<VAR_DIR>/learning.log`. One job at a
time: here per console process, and the tool's own lock across processes (a
`make retrain` in a shell and the button never train together).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass

from iom.console.config import Settings


@dataclass
class JobState:
    """What the page shows of the last job."""

    kind: str
    username: str
    started_at: float
    returncode: int | None


class LearningJob:
    """Starts and watches one `iom.tools.retrain` process at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self.state: JobState | None = None

    @property
    def log_file(self) -> str:
        """Where the tool's output goes."""
        return str(self.settings.var_dir / "learning.log")

    def running(self) -> bool:
        """Whether a job started here is still running."""
        with self._lock:
            return self._poll()

    def _poll(self) -> bool:
        if self._process is None:
            return False
        code = self._process.poll()
        if self.state is not None:
            self.state.returncode = code
        return code is None

    def start(self, kind: str, username: str) -> bool:
        """Start `run` or `rollback` for `username`; False if one is running."""
        if kind not in ("run", "rollback"):
            raise ValueError(kind)
        with self._lock:
            if self._poll():
                return False
            self.settings.var_dir.mkdir(parents=True, exist_ok=True)
            env = {
                **os.environ,
                "TRACKER_URL": self.settings.database_url,
                "LIVE_MODEL": str(self.settings.live_model),
                "CANDIDATES_DIR": str(self.settings.candidates_dir),
            }
            with open(self.log_file, "ab") as log:
                self._process = subprocess.Popen(
                    [*self.settings.retrain_command, kind, "--by", username],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            self.state = JobState(kind, username, time.time(), None)
            return True

    def wait(self, seconds: float) -> int | None:
        """Wait for the running job (tests); its exit code, or None if still running."""
        process = self._process
        if process is None:
            return None
        try:
            return process.wait(seconds)
        except subprocess.TimeoutExpired:
            return None

    def tail(self, lines: int = 15) -> str:
        """The last lines of the tool's output."""
        try:
            with open(self.log_file, encoding="utf-8", errors="replace") as log:
                return "".join(log.readlines()[-lines:])
        except OSError:
            return ""
