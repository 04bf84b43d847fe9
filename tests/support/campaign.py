"""What a reliability campaign reports: runs, faults injected, what was checked, the figures.

Each campaign (tests/reliability/campaign_*.py) returns one of these; the pytest
versions assert `ok`, and bench/reliability/run_all.py writes them to
docs/reliability.md. Problems are collected, not raised at the first, so a failed
campaign still says everything it saw.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from attrs import asdict, define, field

Figure = int | float | str


@define
class CampaignReport:
    key: str
    title: str
    runs: int = 0
    faults: dict[str, int] = field(factory=dict)
    checked: list[str] = field(factory=list)
    figures: dict[str, Figure] = field(factory=dict)
    problems: list[str] = field(factory=list)
    seconds: float = 0.0
    summary: str = ""
    mode: str = "short"
    finished: str = ""  # when it was saved (UTC, ISO 8601)

    @property
    def ok(self) -> bool:
        return not self.problems

    def fault(self, name: str, n: int = 1) -> None:
        self.faults[name] = self.faults.get(name, 0) + n

    def count(self, name: str, n: int = 1) -> None:
        current = self.figures.get(name, 0)
        assert isinstance(current, int)
        self.figures[name] = current + n

    def check(self, holds: bool, problem: str) -> None:
        """Record a violated expectation (and keep going)."""
        if not holds:
            self.problems.append(problem)

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        self.finished = self.finished or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        path = directory / f"{self.key}.json"
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> CampaignReport:
        data: dict[str, Any] = json.loads(path.read_text())
        return cls(**data)

    def describe_failure(self) -> str:
        shown = "\n  ".join(self.problems[:20])
        more = f"\n  ... and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        return f"{self.title}: {len(self.problems)} problems\n  {shown}{more}\n{self.figures}"
