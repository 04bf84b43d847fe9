"""The product stands alone: the wheel `uv build` makes, installed into an empty virtual
environment in an empty folder, runs `fantasy demo` with nothing else present (no checkout,
no `shared/` data beside it).

Everything comes from uv's cache (`--offline`), which `uv sync` filled before the tests ran:
the build backend, and the exact files uv.lock pins (`uv export --format pylock.toml`).
Nothing is fetched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
RECORDING = "adapters/feeds/recordings/player_stats_2025_reg_wk01-08.csv.gz"


def _uv() -> str:
    # `uv run` tells the process which uv runs it; otherwise the one on PATH.
    found = os.environ.get("UV") or shutil.which("uv")
    if found is None:
        pytest.fail("uv is needed to build and install the wheel, and was not found")
    return found


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{args} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(the wheel, the installed `fantasy` command, the environment to run it in)."""
    uv = _uv()
    base = tmp_path_factory.mktemp("standalone")
    # Only what a stranger's shell would have: no FANTASY_* settings, no project venv.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FANTASY_", "VIRTUAL_ENV", "UV_PROJECT", "PYTHON"))
    }
    env["UV_PYTHON_DOWNLOADS"] = "never"
    dist = base / "dist"
    _run([uv, "build", "--offline", "--wheel", "--out-dir", str(dist), str(REPO_ROOT)], base, env)
    (wheel,) = dist.glob("*.whl")
    pins = base / "pylock.toml"
    _run(
        [uv, "export", "--locked", "--no-dev", "--no-emit-project", "--format", "pylock.toml",
         "--output-file", str(pins)],
        REPO_ROOT,
        env,
    )  # fmt: skip
    venv = base / "venv"
    _run([uv, "venv", "--python", os.environ.get("FANTASY_WHEEL_PYTHON", "3.11"), str(venv)],
         base, env)  # fmt: skip
    python = venv / "bin" / "python"
    install = [uv, "pip", "install", "--offline", "--python", str(python)]
    _run([*install, "-r", str(pins)], base, env)
    _run([*install, "--no-deps", str(wheel)], base, env)
    return wheel, venv / "bin" / "fantasy", env


def test_the_wheel_carries_the_recording_and_its_attribution(
    installed: tuple[Path, Path, dict[str, str]],
) -> None:
    wheel = installed[0]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        attribution = archive.read("adapters/feeds/recordings/README.md").decode()
    assert RECORDING in names
    assert "nflverse" in attribution
    assert "CC-BY 4.0" in attribution


def test_the_installed_wheel_runs_the_demo_in_an_empty_folder(
    installed: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    _, fantasy, env = installed
    empty = tmp_path / "empty"
    empty.mkdir()
    output = _run([str(fantasy), "demo"], empty, env)
    assert "RESULT: every contest closed, ledger verified" in output
    assert "statistics courtesy of nflverse" in output
    # It ran from the installed package, on a database of its own in that folder.
    assert (empty / "var").is_dir()
