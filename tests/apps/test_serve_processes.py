"""`fantasy serve --workers N`: N processes on one port, agreeing on tokens and the database."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from apps.cli import EXIT_USAGE, main
from support.processes import BIN

OPERATOR = {"email": "ops@example.com", "password": "operator password"}


def children(pid: int) -> list[int]:
    """The processes `pid` started with multiprocessing's spawn (not its resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid and b"spawn_main" in command:
            found.append(int(entry.name))
    return found


def test_two_processes_share_one_port_one_token_secret_and_one_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANTASY_")}
    env |= {
        "FANTASY_DATABASE_URL": f"sqlite:///{tmp_path / 'fantasy.db'}",
        "FANTASY_OPERATOR_EMAIL": OPERATOR["email"],
        "FANTASY_OPERATOR_PASSWORD": OPERATOR["password"],
    }
    command = [str(BIN / "fantasy"), "serve", "--no-worker", "--port", "0", "--workers", "2"]
    with subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as server:
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            found = re.search(r"serving the API on (http://127\.0\.0\.1:\d+) in 2 processes", line)
            assert found is not None, line
            base = found.group(1)
            deadline = time.monotonic() + 60
            while len(children(server.pid)) < 2 or not _healthy(base):
                assert time.monotonic() < deadline, "two processes did not come up in a minute"
                time.sleep(0.2)
            token = httpx.post(f"{base}/auth/login", json=OPERATOR, timeout=10).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}

            def alerts(_: int) -> int:
                # A fresh connection each time, so that either process may answer: a token
                # signed with a secret of one process alone would be refused by the other.
                with httpx.Client(base_url=base, timeout=10) as client:
                    return client.get("/operator/alerts", headers=headers).status_code

            with ThreadPoolExecutor(8) as pool:
                assert set(pool.map(alerts, range(48))) == {200}
            assert len(children(server.pid)) == 2  # none died (the operator was seeded once)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_processes_need_a_database_they_share(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FANTASY_DATABASE_URL", "memory:")
    assert main(["serve", "--workers", "2"]) == EXIT_USAGE
    assert "--workers needs a database the processes share" in capsys.readouterr().err
    assert main(["serve", "--workers", "0"]) == EXIT_USAGE
    assert "a whole number of at least 1, not '0'" in capsys.readouterr().err
