"""Real worker processes for the reliability campaigns: started, killed with SIGKILL, restarted.

A campaign's worker is a separate program configured only through the FANTASY_*
environment, exactly as deployed: `fantasy worker` itself, or `support.worker_process`
(the same, with a clock read from a file). Its log (JSON lines) goes to a file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from support.stripe_emulator_fixture import API_KEY

TESTS = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def fantasy_worker(interval: float) -> list[str]:
    """The production worker command."""
    return [str(BIN / "fantasy"), "worker", "--interval", str(interval)]


def clocked_worker(clock_file: Path, interval: float, max_backoff: float = 2.0) -> list[str]:
    """The worker on a clock shared through a file (support.worker_process)."""
    return [
        sys.executable,
        "-m",
        "support.worker_process",
        "--clock-file",
        str(clock_file),
        "--interval",
        str(interval),
        "--max-backoff",
        str(max_backoff),
    ]


def worker_environment(database_url: str, stripe_url: str | None, **extra: str) -> dict[str, str]:
    """The process environment of a worker: ours without FANTASY_*, then its configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANTASY_")}
    env.update(
        {
            "FANTASY_ENV": "test",
            "FANTASY_DATABASE_URL": database_url,
            "FANTASY_DATABASE_AUTO_UPGRADE": "false",
            # The campaigns' clocks run through replayed 2025 weeks: with the shipped
            # calendar, workers would open contests beside the campaign's own. The calendar
            # campaign passes a calendar of its own in `extra`.
            "FANTASY_CALENDAR_FILE": "off",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")])),
        }
    )
    if stripe_url is not None:
        env["FANTASY_STRIPE_API_KEY"] = API_KEY
        env["FANTASY_STRIPE_API_BASE"] = stripe_url
    env.update(extra)
    return env


class WorkerProcess:
    """One worker program; `start` again after `kill` is a restart (a new process)."""

    def __init__(self, command: list[str], env: Mapping[str, str], log: Path) -> None:
        self.command = command
        self.env = dict(env)
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def start(self) -> None:
        if self.alive:
            raise RuntimeError("the worker is running already")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=log, stdin=subprocess.DEVNULL
            )
        self.starts += 1

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        """Until `text` appears in the log (e.g. "worker started"); RuntimeError if it exits."""
        deadline = time.monotonic() + timeout
        while text not in self.log.read_text(errors="replace"):
            if not self.alive:
                raise RuntimeError(f"the worker exited before logging {text!r}: see {self.log}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the worker did not log {text!r} in {timeout} s")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no handler runs, no transaction commits, nothing is flushed."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.kills += 1
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (the worker finishes its pass), SIGKILL if it does not stop in time."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode
