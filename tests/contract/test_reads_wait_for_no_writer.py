"""The reads players and operators make answer while a unit of work writes (SQLite).

SQLite has one writer at a time: a unit of work that may write begins with BEGIN
IMMEDIATE and holds the database's write lock until it ends. A read through such a unit
of work queued behind every writer, up to SQLite's busy timeout (30 s), and so did every
request that reads: the contest page, the leaderboard, the operator's board, /metrics.
Reads go through `Platform.reading()`, a deferred transaction that sees a snapshot and
waits for no one. Each read below blocked before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import attrs
import pytest

from adapters.sqlalchemy.tables import revoked_tokens
from contract.backends import Backend
from fantasy_core.platform import Platform
from fantasy_core.usecases.alerts import list_alerts
from fantasy_core.usecases.calendar import paused_lines
from fantasy_core.usecases.connect import payouts_of
from fantasy_core.usecases.console import contest_board
from fantasy_core.usecases.delivery import channel_health
from fantasy_core.usecases.figures import platform_figures
from fantasy_core.usecases.net_winnings import winnings_between
from fantasy_core.usecases.protecting import highly_experienced, identity_holder, player_profile
from fantasy_core.usecases.queries import (
    contest_summary,
    entries_of,
    get_entry,
    leaderboard,
    payments_of,
    player_audit,
)
from fantasy_core.usecases.reports import audit_trail, explain_entry, verify_ledger
from fantasy_core.usecases.stats import slates_to_watch
from fantasy_core.usecases.tax import tax_details_of, tax_report
from fantasy_core.usecases.watchdogs import worker_silence
from fantasy_core.watchdog_rules import WatchdogThresholds
from support.sql_world import SqlWorld

Read = Callable[[Platform, str, str], object]
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)

READS: dict[str, Read] = {
    "contest summary": lambda p, contest_id, _: contest_summary(p, contest_id),
    "entry": lambda p, _, entry_id: get_entry(p, entry_id),
    "a player's entries": lambda p, _c, _e: entries_of(p, "ann"),
    "a player's payments": lambda p, _c, _e: payments_of(p, "ann"),
    "a player's audit": lambda p, _c, _e: player_audit(p, "ann"),
    "leaderboard": lambda p, contest_id, _: leaderboard(p, contest_id),
    "entry explained": lambda p, _, entry_id: explain_entry(p, entry_id),
    "audit trail": lambda p, contest_id, _: audit_trail(p, contest_id),
    "ledger check": lambda p, _c, _e: verify_ledger(p),
    "alerts": lambda p, _c, _e: list_alerts(p),
    "payouts": lambda p, _c, _e: payouts_of(p, "ann"),
    "operator board": lambda p, _c, _e: contest_board(p, WatchdogThresholds()),
    "channels": lambda p, _c, _e: channel_health(p),
    "metrics": lambda p, _c, _e: platform_figures(p),
    "player profile": lambda p, _c, _e: player_profile(p, "ann"),
    "identity holder": lambda p, _c, _e: identity_holder(p, "identity-of-ann"),
    "experienced players": lambda p, _c, _e: highly_experienced(p, ["ann"]),
    "tax details": lambda p, _c, _e: tax_details_of(p, "ann"),
    "net winnings": lambda p, _c, _e: winnings_between(p, EPOCH, datetime.now(UTC)),
    "tax report": lambda p, _c, _e: tax_report(p, 2025),
    # The worker's reads before its writes.
    "paused calendar lines": lambda p, _c, _e: paused_lines(p),
    "slates to watch": lambda p, _c, _e: slates_to_watch(p),
    "worker silence": lambda p, _c, _e: worker_silence(p, WatchdogThresholds()),
}


@pytest.mark.parametrize("name", list(READS))
def test_a_read_answers_while_a_unit_of_work_writes(name: str, fresh_sqlite: Backend) -> None:
    world = SqlWorld(fresh_sqlite.sql)
    world.p = attrs.evolve(world.p, reads=world.db.reading_unit_of_work)
    contest = world.create()
    entry_id = world.join(contest, "ann").entry_id
    answered: list[object] = []
    failed: list[BaseException] = []

    def read() -> None:
        try:
            answered.append(READS[name](world.p, contest.contest_id, entry_id))
        except BaseException as error:  # reported below, not lost in the thread
            failed.append(error)

    with fresh_sqlite.sql.begin() as writer:  # BEGIN IMMEDIATE: the write lock, held
        row = {"token_id": "t", "user_id": "ann", "expires_at": datetime.now(UTC)}
        writer.execute(revoked_tokens.insert().values(**row))
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=10)
        waited = reader.is_alive()
    reader.join()
    assert not waited, f"{name} waited for the writer's lock"
    assert not failed, failed
    assert len(answered) == 1
