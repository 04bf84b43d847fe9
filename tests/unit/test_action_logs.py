"""Every committed action is logged with its ids as fields; nothing rolled back is logged."""

from __future__ import annotations

import logging

import pytest

from adapters.memory import SimulatedCrash
from apps.logs import JsonFormatter
from support.world import World


def _records(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger]


def test_each_committed_audit_record_is_logged_with_its_contest_and_entry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = World()
    contest = world.create()
    with caplog.at_level(logging.INFO, logger="fantasy"):
        world.join(contest, "ann")
    with world.store.unit_of_work() as uow:
        trail = uow.audit.for_contest(contest.contest_id)
    logged = _records(caplog, "fantasy.audit")
    assert [r.__dict__["action"] for r in logged] == [a.action for a in trail[-len(logged) :]]
    accepted = next(r for r in logged if r.__dict__["action"] == "join.accepted")
    assert accepted.__dict__["contest_id"] == contest.contest_id
    assert accepted.__dict__["entry_id"].startswith("entry-")
    assert accepted.__dict__["actor"] == "ann"


def test_an_action_whose_commit_failed_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    world = World()
    contest = world.create()
    world.store.crash_at_next_commit()
    with caplog.at_level(logging.INFO, logger="fantasy"), pytest.raises(SimulatedCrash):
        world.join(contest, "ann")
    assert _records(caplog, "fantasy.audit") == []


def test_payout_steps_are_logged_with_the_payout_entry_and_contest_ids(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = World()
    contest = world.create()
    for n, user in enumerate(["ann", "bob", "cat"]):
        world.give_account(user)
        world.join(contest, user, variant=n)
    with caplog.at_level(logging.INFO, logger="fantasy"):
        world.play_games()
    assert world.state(contest) == "PAID"
    with world.store.unit_of_work() as uow:
        payouts = [p for p in uow.payouts.for_contest(contest.contest_id) if p.amount_minor]
    confirmed = [r for r in _records(caplog, "fantasy.payouts") if "confirmed" in r.getMessage()]
    assert sorted(r.__dict__["payout_id"] for r in confirmed) == sorted(
        p.fingerprint for p in payouts
    )
    line = JsonFormatter().format(confirmed[0])
    for field in ("contest_id", "entry_id", "payout_id", "user_id"):
        assert f'"{field}": ' in line
