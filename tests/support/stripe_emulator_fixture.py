"""Starting and stopping the Stripe emulator (localstripe, extended): for pytest, or a script."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

EMULATOR = Path(__file__).resolve().parent / "stripe_emulator.py"
API_KEY = "sk_test_contract"


class EmulatorDidNotStart(RuntimeError):
    """The emulator process exited or printed something else than its port."""


@contextmanager
def running_emulator(log: Path) -> Iterator[str]:
    """localstripe (extended) on a free port of 127.0.0.1 until the block ends; its URL.

    It prints its port on stdout and nothing else; its log goes to `log` (a pipe
    nobody reads could fill up and stall it).
    """
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, str(EMULATOR), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            process.wait(timeout=5)
            raise EmulatorDidNotStart(f"the Stripe emulator did not start: {line}{log.read_text()}")
        url = f"http://127.0.0.1:{int(line.split()[-1])}"
        _wait_until_answering(url)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


def run_localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The emulator for a whole pytest session (see `running_emulator`)."""
    log = tmp_path_factory.mktemp("localstripe") / "emulator.log"
    try:
        with running_emulator(log) as url:
            yield url
    except EmulatorDidNotStart as error:
        pytest.fail(str(error))


def _wait_until_answering(url: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(f"{url}/v1/balance", auth=(API_KEY, ""), timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
