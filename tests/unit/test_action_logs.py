"""Every committed action is logged with its ids as fields; nothing rolled back is logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from apps.logs import JsonFormatter
from support.crashing_store import SimulatedCrash
from support.world import World


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def of(self, logger: str) -> list[logging.LogRecord]:
        return [r for r in self.records if r.name == logger]


@pytest.fixture
def logs() -> Iterator[_Kept]:
    """The records of the action loggers, whatever other tests did to logging's settings."""
    kept = _Kept()
    loggers = [logging.getLogger(name) for name in ("fantasy.audit", "fantasy.payouts")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(kept)
        logger.setLevel(logging.INFO)
    yield kept
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(kept)
        logger.setLevel(level)


def test_each_committed_audit_record_is_logged_with_its_contest_and_entry(logs: _Kept) -> None:
    world = World()
    contest = world.create()
    logs.records.clear()
    world.join(contest, "ann")
    with world.store.unit_of_work() as uow:
        trail = uow.audit.for_contest(contest.contest_id)
    logged = logs.of("fantasy.audit")
    assert [r.__dict__["action"] for r in logged] == [a.action for a in trail[1:]]
    accepted = next(r for r in logged if r.__dict__["action"] == "join.accepted")
    assert accepted.__dict__["contest_id"] == contest.contest_id
    assert accepted.__dict__["entry_id"].startswith("entry-")
    assert accepted.__dict__["actor"] == "ann"


def test_an_action_whose_commit_failed_is_not_logged(logs: _Kept) -> None:
    world = World()
    contest = world.create()
    logs.records.clear()
    world.store.crash_at_next_commit()
    with pytest.raises(SimulatedCrash):
        world.join(contest, "ann")
    assert logs.of("fantasy.audit") == []


def test_payout_steps_are_logged_with_the_payout_entry_and_contest_ids(logs: _Kept) -> None:
    world = World()
    contest = world.create()
    for n, user in enumerate(["ann", "bob", "cat"]):
        world.give_account(user)
        world.join(contest, user, variant=n)
    world.play_games()
    assert world.state(contest) == "PAID"
    with world.store.unit_of_work() as uow:
        payouts = [p for p in uow.payouts.for_contest(contest.contest_id) if p.amount_minor]
    confirmed = [r for r in logs.of("fantasy.payouts") if "confirmed" in r.getMessage()]
    assert sorted(r.__dict__["payout_id"] for r in confirmed) == sorted(
        p.fingerprint for p in payouts
    )
    line = JsonFormatter().format(confirmed[0])
    for field in ("contest_id", "entry_id", "payout_id", "user_id"):
        assert f'"{field}": ' in line
