"""Running contests: lock, data, settlement, payouts, cancellation and corrections, unattended."""

from __future__ import annotations

import json
from datetime import timedelta
from fractions import Fraction
from typing import Any

import attrs
import pytest

from fantasy_core.contest import PostponedPolicy
from fantasy_core.errors import InvalidFeedData, OperatorActionRefused
from fantasy_core.lifecycle import ContestState
from fantasy_core.money import Money
from fantasy_core.payments import PaymentEvent, PaymentEventKind, PayoutStatus, TransferOutcome
from fantasy_core.snapshot import InvalidSnapshot, recompute, verify
from fantasy_core.stats import FeedSnapshot, GameStatus, StatLine
from fantasy_core.usecases.contests import cancel_contest
from fantasy_core.usecases.corrections import correct_stat
from fantasy_core.usecases.paying import confirm_payout
from fantasy_core.usecases.payment_events import apply_payment_event, set_payout_account
from fantasy_core.usecases.reports import (
    EntryExplanation,
    audit_trail,
    explain_entry,
    verify_ledger,
)
from fantasy_core.usecases.stats import ingest
from support.world import LOCK, SLATE, World, snapshot

USERS = ("ann", "bob", "cat", "dan")


def filled(world: World, accounts: bool = True, **terms: object) -> str:
    contest = world.create(**terms)
    for n, user in enumerate(USERS):
        if accounts:
            world.give_account(user)
        assert world.join(contest, user, variant=n).accepted
    return contest.contest_id


def to_complete(world: World) -> None:
    """Lock, publish every game final, and run the worker: contests reach COMPLETE."""
    world.clock.set(LOCK)
    world.run()
    world.feed.publish(snapshot(GameStatus.FINAL, 2))
    world.clock.advance(timedelta(hours=4))
    world.run()


def state(world: World, contest_id: str) -> ContestState:
    with world.store.unit_of_work() as uow:
        return uow.contests.get(contest_id).state


def payouts(world: World, contest_id: str) -> list[PayoutStatus]:
    with world.store.unit_of_work() as uow:
        return [x.status for x in uow.payouts.for_contest(contest_id)]


def test_each_state_is_reached_in_order_and_audited_once() -> None:
    world = World()
    cid = filled(world)
    world.play_games()
    actions = [r.action for r in audit_trail(world.p, cid) if r.action.startswith("contest.")]
    assert actions == [
        "contest.created",
        "contest.locked",
        "contest.live",
        "contest.complete",
        "contest.settled",
        "contest.paid",
    ]


def test_below_minimum_at_lock_cancels_and_refunds_every_entry() -> None:
    world = World()
    cid = filled(world, min_entries=5)
    world.clock.set(LOCK)
    world.run()
    assert state(world, cid) is ContestState.CANCELLED
    assert len(world.gateway.refunds) == 4
    assert verify_ledger(world.p).ok


def test_an_operator_cancellation_refunds_every_paid_entry_once() -> None:
    world = World()
    cid = filled(world)
    assert cancel_contest(world.p, cid, "slate postponed", "operator") == 4
    assert cancel_contest(world.p, cid, "slate postponed", "operator") == 0
    assert len(world.gateway.refunds) == 4
    report = verify_ledger(world.p)
    assert report.ok
    assert [c.refunded for c in report.closed_contests] == [4_000]


def test_a_contest_may_be_cancelled_after_kickoff_while_no_stat_line_has_arrived() -> None:
    world = World()
    cid = filled(world)
    world.clock.set(LOCK)
    world.run()
    world.feed.publish(snapshot(GameStatus.IN_PROGRESS, 2))  # started, no stat line yet
    published = world.feed.snapshot(SLATE)
    world.feed.publish(attrs.evolve(published, lines=()))
    world.clock.advance(timedelta(minutes=5))
    world.run()
    assert state(world, cid) is ContestState.LIVE
    assert cancel_contest(world.p, cid, "feed glitch before any data", "operator") == 4
    assert state(world, cid) is ContestState.CANCELLED


@pytest.mark.parametrize("complete", [False, True], ids=["live", "complete"])
def test_once_live_stats_are_accepted_a_contest_runs_to_paid(complete: bool) -> None:
    world = World()
    cid = filled(world)
    world.clock.set(LOCK)
    world.run()
    world.feed.publish(snapshot(GameStatus.FINAL if complete else GameStatus.IN_PROGRESS, 2))
    world.clock.advance(timedelta(hours=4 if complete else 0, minutes=5))
    world.run()
    assert state(world, cid) is (ContestState.COMPLETE if complete else ContestState.LIVE)
    with pytest.raises(OperatorActionRefused, match="runs to PAID"):
        cancel_contest(world.p, cid, "the favourite lost", "operator")
    assert len(world.gateway.refunds) == 0
    assert not [r for r in audit_trail(world.p, cid) if r.action == "contest.cancelled"]
    if not complete:
        world.feed.publish(snapshot(GameStatus.FINAL, 3))
        world.clock.advance(timedelta(hours=4))
        world.run()
    world.clock.advance(timedelta(hours=2))
    world.run()
    assert state(world, cid) is ContestState.PAID


def test_a_settled_contest_cannot_be_cancelled() -> None:
    world = World()
    cid = filled(world, accounts=False)
    world.play_games()
    assert state(world, cid) is ContestState.SETTLED
    with pytest.raises(OperatorActionRefused, match="SETTLED to CANCELLED"):
        cancel_contest(world.p, cid, "too late", "operator")


def test_contradictory_data_keeps_the_contest_live_and_alerts() -> None:
    world = World()
    cid = filled(world)
    world.clock.set(LOCK)
    world.run()
    world.feed.publish(snapshot(GameStatus.IN_PROGRESS, 2))
    world.clock.advance(timedelta(minutes=5))
    world.run()
    assert state(world, cid) is ContestState.LIVE
    bad = snapshot(GameStatus.FINAL, 3)
    broken = StatLine.of("KC-WR3", "KC", "g1", {"receptions": 1, "receiving_tds": 3})
    lines = (*(line for line in bad.lines if line.player_id != "KC-WR3"), broken)
    world.feed.publish(type(bad)(bad.slate_id, 3, bad.games, lines))
    world.clock.advance(timedelta(hours=4))
    world.run()
    world.clock.advance(timedelta(hours=2))
    world.run()
    assert state(world, cid) is ContestState.LIVE
    assert any("tds_exceed_receptions" in key for key in world.alerts.raised_keys())
    world.feed.publish(snapshot(GameStatus.FINAL, 4))
    world.run()
    world.clock.advance(timedelta(hours=2))
    world.run()
    assert state(world, cid) is ContestState.PAID


def test_a_feed_outage_alerts_and_the_contest_waits() -> None:
    world = World()
    cid = filled(world)
    world.clock.set(LOCK)
    world.run()
    world.feed.go_down("provider 503")
    world.clock.advance(timedelta(hours=5))
    world.run()
    # Kickoff has passed on the schedule already ingested, but nothing says the games ended.
    assert state(world, cid) is ContestState.LIVE
    assert any(key.startswith("feed-down") for key in world.alerts.raised_keys())
    world.feed.come_back()
    world.feed.publish(snapshot(GameStatus.FINAL, 2))
    world.run()
    assert state(world, cid) is ContestState.COMPLETE


def test_a_correction_before_settlement_changes_the_score_and_is_audited() -> None:
    world = World()
    cid = filled(world)
    to_complete(world)
    assert state(world, cid) is ContestState.COMPLETE
    with world.store.unit_of_work() as uow:
        entry = uow.entries.for_contest(cid)[0]
    before = explain_entry(world.p, entry.entry_id).total
    qb = entry.lineup.player_ids[0]
    assert correct_stat(world.p, "test-slate", qb, "passing_tds", "2", "official review", "op")
    after = explain_entry(world.p, entry.entry_id).total
    assert after - before == Fraction(8)  # 2 passing TDs at +4
    with world.store.unit_of_work() as uow:
        assert [r.action for r in uow.audit.for_actor("op")] == ["stats.corrected"]


def settled_row(world: World, contest_id: str, entry_id: str) -> tuple[Fraction, dict[str, Any]]:
    """The entry's settled score and the snapshot's document, from the stored snapshot."""
    with world.store.unit_of_work() as uow:
        stored = uow.settlements.get(contest_id)
    assert stored is not None
    document = json.loads(stored[0])
    (score,) = [Fraction(row[3]) for row in document["entries"] if row[0] == entry_id]
    return score, document


def lines_sum_to_total(explained: EntryExplanation) -> bool:
    lines = [line.points for _, e in explained.players for line in e.lines]
    return sum(lines, Fraction(0)) == explained.total


@pytest.mark.parametrize("accounts", [False, True], ids=["settled", "paid"])
def test_a_settled_entry_is_explained_as_settled_even_after_a_late_correction(
    accounts: bool,
) -> None:
    world = World()
    cid = filled(world, accounts=accounts)
    world.play_games()
    assert state(world, cid) is (ContestState.PAID if accounts else ContestState.SETTLED)
    with world.store.unit_of_work() as uow:
        entry = uow.entries.for_contest(cid)[0]
    before = explain_entry(world.p, entry.entry_id)
    qb = entry.lineup.player_ids[0]
    assert correct_stat(world.p, "test-slate", qb, "passing_yards", "999", "late", "op") == []
    after = explain_entry(world.p, entry.entry_id)
    settled, document = settled_row(world, cid, entry.entry_id)
    assert after == before
    assert after.total == settled
    assert lines_sum_to_total(after)
    for player, explanation in after.players:
        used = document["stat_lines"].get(player, {})
        assert {line.stat: line.value for line in explanation.lines} == {
            line.stat: Fraction(used[line.stat]) for line in explanation.lines
        }
        assert all(after.source(player, line.stat) is None for line in explanation.lines)


def test_a_correction_before_settlement_is_explained_and_kept_after_settlement() -> None:
    world = World()
    cid = filled(world)
    to_complete(world)
    with world.store.unit_of_work() as uow:
        entry = uow.entries.for_contest(cid)[0]
    qb, other = entry.lineup.player_ids[0], entry.lineup.player_ids[1]
    reason = "official review"
    correct_stat(world.p, "test-slate", qb, "passing_tds", "3", "typo", "op")
    correct_stat(world.p, "test-slate", qb, "passing_tds", "2", reason, "op")
    corrected = explain_entry(world.p, entry.entry_id)
    (td,) = [line for line in dict(corrected.players)[qb].lines if line.stat == "passing_tds"]
    assert td.value == 2
    assert corrected.source(qb, "passing_tds") == f"corrected by operator: {reason}"
    assert corrected.source(qb, "passing_yards") is None
    other_lines = dict(corrected.players)[other].lines
    assert all(corrected.source(other, line.stat) is None for line in other_lines)
    assert lines_sum_to_total(corrected)

    world.clock.advance(timedelta(hours=2))
    world.run()
    assert state(world, cid) is ContestState.PAID
    assert explain_entry(world.p, entry.entry_id) == corrected
    correct_stat(world.p, "test-slate", qb, "passing_tds", "0", "too late", "op")
    settled = explain_entry(world.p, entry.entry_id)
    assert settled == corrected
    assert settled.total == settled_row(world, cid, entry.entry_id)[0]


def test_a_correction_after_settlement_is_recorded_and_alerted_but_changes_nothing() -> None:
    world = World()
    cid = filled(world, accounts=False)
    world.play_games()
    with world.store.unit_of_work() as uow:
        before = uow.settlements.get(cid)
    assert correct_stat(world.p, "test-slate", "KC-QB0", "passing_yards", "999", "late", "op") == []
    with world.store.unit_of_work() as uow:
        assert uow.settlements.get(cid) == before
    assert any(key.startswith("late-correction") for key in world.alerts.raised_keys())


def test_the_settlement_snapshot_recomputes_byte_for_byte() -> None:
    world = World()
    cid = filled(world)
    world.play_games()
    with world.store.unit_of_work() as uow:
        stored = uow.settlements.get(cid)
    assert stored is not None
    document, digest = stored
    assert recompute(document) == document
    verify(document, digest)
    tampered = document.replace(b'"ann"', b'"eve"', 1)
    with pytest.raises(InvalidSnapshot, match="hashes to"):
        verify(tampered, digest)


def test_a_winner_without_a_payout_account_is_owed_and_paid_once_it_is_enabled() -> None:
    world = World()
    cid = filled(world, accounts=False)
    world.play_games()
    world.run()
    assert state(world, cid) is ContestState.SETTLED
    # Owed, not refused: nothing reached the gateway, and nobody is paged for it.
    assert set(payouts(world, cid)) == {PayoutStatus.OWED}
    assert not [c for c, _ in world.gateway.calls if c in ("transfer", "find_transfer")]
    assert not [k for k in world.alerts.raised_keys() if k.startswith("payout-")]
    with world.store.unit_of_work() as uow:
        winners = {x.user_id for x in uow.payouts.for_contest(cid)}
    for user in winners:
        set_payout_account(world.p, user, f"acct_{user}")
    world.run()
    assert state(world, cid) is ContestState.PAID
    assert verify_ledger(world.p).ok


def test_a_lost_transfer_reply_is_looked_up_not_paid_twice() -> None:
    world = World()
    cid = filled(world)
    world.gateway.lose_next_replies = 0
    to_complete(world)
    world.clock.advance(timedelta(hours=2))
    world.gateway.lose_next_replies = 1  # the first transfer goes through; its reply is lost
    world.run()
    world.clock.advance(timedelta(hours=2))
    world.run()
    assert state(world, cid) is ContestState.PAID
    assert len(world.gateway.transfers) == len(payouts(world, cid))
    assert "find_transfer" in {call for call, _ in world.gateway.calls}


def test_a_refused_platform_key_stops_payouts_alerts_and_resumes_by_itself() -> None:
    world = World()
    cid = filled(world)
    to_complete(world)
    world.gateway.auth_broken = True
    world.clock.advance(timedelta(hours=2))
    world.run()
    assert state(world, cid) is ContestState.SETTLED
    assert world.gateway.transfers == {}
    assert world.alerts.raised_keys().count("gateway-auth") == 1
    world.gateway.auth_broken = False
    world.clock.advance(timedelta(hours=2))
    world.run()
    assert state(world, cid) is ContestState.PAID


def test_a_reversed_transfer_is_alerted_and_shows_in_the_ledger() -> None:
    world = World()
    cid = filled(world)
    world.play_games()
    transfer = next(iter(world.gateway.transfers.values()))
    event = PaymentEvent(
        "evt_rev",
        PaymentEventKind.TRANSFER_REVERSED,
        transfer.transfer_id,
        world.clock.now(),
        "disputed",
    )
    assert apply_payment_event(world.p, event)
    assert not apply_payment_event(world.p, event)
    assert PayoutStatus.REVERSED in payouts(world, cid)
    report = verify_ledger(world.p)
    (contest,) = report.closed_contests
    assert report.ok  # nothing lost: the winner is owed the prize again
    assert contest.owed == transfer.amount.minor
    assert any(key.startswith("payout-reversed") for key in world.alerts.raised_keys())


@pytest.mark.parametrize(
    ("fee", "rake_bps", "rake"),
    [
        (333, 750, 99),  # 4 x $3.33 = $13.32 at 7.5%: 99.9 cents
        (333, 1_250, 166),  # at 12.5%: 166.5 cents
        (1_001, 999, 399),  # 4 x $10.01 = $40.04 at 9.99%: 399.9996 cents
    ],
)
def test_odd_fees_and_rakes_round_the_rake_down_through_settlement(
    fee: int, rake_bps: int, rake: int
) -> None:
    world = World()
    cid = filled(world, entry_fee=Money(fee, "usd"), rake_bps=rake_bps)
    world.play_games()
    assert state(world, cid) is ContestState.PAID
    report = verify_ledger(world.p)
    assert report.ok, report
    (contest,) = report.closed_contests
    assert contest.collected == 4 * fee
    assert contest.rake == rake
    assert contest.paid_out == 4 * fee - rake
    assert sum(t.amount.minor for t in world.gateway.all_transfers()) == 4 * fee - rake


def test_a_late_report_of_a_reversed_transfer_leaves_it_reversed() -> None:
    # A second sender's confirmation arriving after the reversal is stale: the payout stays
    # REVERSED (owed, waiting for its account), and its prize is not posted as paid again.
    world = World()
    cid = filled(world)
    world.play_games()
    transfer = next(iter(world.gateway.transfers.values()))
    reversal = PaymentEvent(
        "evt_rev", PaymentEventKind.TRANSFER_REVERSED, transfer.transfer_id, world.clock.now()
    )
    assert apply_payment_event(world.p, reversal)
    fingerprint = transfer.metadata["payout_fingerprint"]
    with world.store.unit_of_work() as uow:
        ledger_before = uow.ledger.all()
    late = TransferOutcome(transfer.transfer_id)
    assert not confirm_payout(world.p, fingerprint, late, transfer.key)
    with world.store.unit_of_work() as uow:
        assert uow.payouts.get(fingerprint).status is PayoutStatus.REVERSED
        assert uow.ledger.all() == ledger_before
    assert PayoutStatus.REVERSED in payouts(world, cid)


def test_a_guaranteed_contest_pays_its_guarantee_and_the_house_covers_the_overlay() -> None:
    world = World()
    cid = filled(world, guaranteed_pool=Money(10_000, "usd"))
    world.play_games()
    report = verify_ledger(world.p)
    assert report.ok
    (conservation,) = report.closed_contests
    assert conservation.contest_id == cid
    assert state(world, cid) is ContestState.PAID
    assert conservation.overlay == 10_000 - 3_600
    assert conservation.paid_out == 10_000


def test_an_entry_score_is_explained_stat_by_stat() -> None:
    world = World()
    cid = filled(world)
    world.play_games()
    with world.store.unit_of_work() as uow:
        entry = uow.entries.for_contest(cid)[0]
    explanation = explain_entry(world.p, entry.entry_id)
    assert len(explanation.players) == 9
    assert explanation.total == sum(
        (line.points for _, e in explanation.players for line in e.lines), Fraction(0)
    )


def test_invalid_late_data_holds_settlement_until_valid_data_arrives() -> None:
    world = World()
    cid = filled(world)
    to_complete(world)
    assert state(world, cid) is ContestState.COMPLETE
    good = snapshot(GameStatus.FINAL, 3)
    broken = StatLine.of("KC-WR3", "KC", "g1", {"receptions": -1})
    lines = (*(x for x in good.lines if x.player_id != "KC-WR3"), broken)
    world.feed.publish(type(good)(good.slate_id, 3, good.games, lines))
    world.clock.advance(timedelta(hours=2))
    world.run()
    assert state(world, cid) is ContestState.COMPLETE
    world.feed.publish(snapshot(GameStatus.FINAL, 4))
    world.run()
    assert state(world, cid) is ContestState.PAID


def test_a_payout_tried_before_is_looked_up_even_after_the_gateway_forgot_its_key() -> None:
    world = World()
    cid = filled(world)
    to_complete(world)
    world.clock.advance(timedelta(hours=2))
    world.gateway.lose_next_replies = 1  # the first transfer happens; its reply is lost
    world.run()
    assert PayoutStatus.SENDING in payouts(world, cid)
    world.gateway.unavailable = True  # the look-up itself fails next time
    world.clock.advance(timedelta(hours=1))
    world.run()
    world.gateway.unavailable = False
    world.gateway.forget_transfer_keys()  # a day later Stripe no longer knows the key
    world.clock.advance(timedelta(days=1))
    world.run()
    assert state(world, cid) is ContestState.PAID
    sent = [t.metadata["payout_fingerprint"] for t in world.gateway.all_transfers()]
    assert len(sent) == len(set(sent)) == len(payouts(world, cid))


def test_unreadable_provider_data_is_alerted_and_the_contest_waits() -> None:
    class Garbled:
        def snapshot(self, slate_id: str) -> object:
            raise InvalidFeedData(f"{slate_id}: lines[3].receptions: expected a count, got 2.5")

    world = World()
    cid = filled(world)
    world.clock.set(LOCK)
    world.run()
    world.p = attrs.evolve(world.p, feed=Garbled())  # type: ignore[arg-type]
    world.clock.advance(timedelta(hours=5))
    world.run()
    assert state(world, cid) is ContestState.LIVE
    assert any(key.startswith("feed-unreadable") for key in world.alerts.raised_keys())


def test_a_provider_correction_of_a_final_line_is_audited_with_old_and_new_values() -> None:
    world = World()
    cid = filled(world)
    to_complete(world)
    final = snapshot(GameStatus.FINAL, 3)
    (qb,) = [x for x in final.lines if x.player_id == "KC-QB0"]
    fixed = StatLine.of("KC-QB0", "KC", "g1", {**qb.as_dict(), "passing_tds": 3})
    others = tuple(x for x in final.lines if x is not qb)
    world.feed.publish(type(final)(final.slate_id, 3, final.games, (*others, fixed)))
    world.run()
    with world.store.unit_of_work() as uow:
        changes = [r.detail for r in uow.audit.for_actor("system") if r.action == "stats.changed"]
    assert changes == ["KC-QB0 in g1: passing_tds 0 -> 3 (versions 2 -> 3)"]
    assert state(world, cid) is ContestState.COMPLETE  # a provider's correction moves no state


def provider_corrected(version: int, player_id: str, **stats: int) -> FeedSnapshot:
    """Every game final, with `player_id`'s line changed by the provider at `version`."""
    final = snapshot(GameStatus.FINAL, version)
    lines = tuple(
        StatLine.of(x.player_id, x.team, x.game_id, {**x.as_dict(), **stats})
        if x.player_id == player_id
        else x
        for x in final.lines
    )
    return FeedSnapshot(final.slate_id, version, final.games, lines)


def test_a_provider_correction_before_settlement_changes_the_score_and_says_why() -> None:
    world = World()
    cid = filled(world)
    to_complete(world)
    with world.store.unit_of_work() as uow:
        entry = uow.entries.for_contest(cid)[0]
    qb = entry.lineup.player_ids[0]
    before = explain_entry(world.p, entry.entry_id)
    world.feed.publish(provider_corrected(3, qb, passing_tds=3))
    world.run()
    assert state(world, cid) is ContestState.COMPLETE
    corrected = explain_entry(world.p, entry.entry_id)
    assert corrected.total - before.total == Fraction(12)  # 3 passing TDs at +4
    note = "corrected by the provider: 0 -> 3 (version 2 -> 3)"
    assert corrected.source(qb, "passing_tds") == note
    assert corrected.source(qb, "passing_yards") is None
    assert [s for s in corrected.sources if s[0] != qb] == []
    assert lines_sum_to_total(corrected)
    with world.store.unit_of_work() as uow:
        (change,) = uow.stats.provider_changes(SLATE)
    assert (change.player_id, change.game_id, change.stat) == (qb, "g1", "passing_tds")
    assert (change.old, change.new, change.from_version, change.to_version) == (0, 3, 2, 3)
    assert change.at == world.clock.now()

    world.clock.advance(timedelta(hours=2))
    world.run()
    assert state(world, cid) is ContestState.PAID
    assert explain_entry(world.p, entry.entry_id) == corrected
    # Another contest may still watch the slate: the provider changes it after settlement.
    world.feed.publish(provider_corrected(4, qb, passing_tds=1))
    assert ingest(world.p, SLATE)
    with world.store.unit_of_work() as uow:
        assert len(uow.stats.provider_changes(SLATE)) == 2
    settled = explain_entry(world.p, entry.entry_id)
    assert settled == corrected
    assert settled.total == settled_row(world, cid, entry.entry_id)[0]


@pytest.mark.parametrize("operator_first", [False, True], ids=["after", "before"])
def test_an_operator_correction_wins_over_a_provider_correction(operator_first: bool) -> None:
    world = World()
    cid = filled(world)
    to_complete(world)
    with world.store.unit_of_work() as uow:
        entry = uow.entries.for_contest(cid)[0]
    qb = entry.lineup.player_ids[0]
    if operator_first:
        correct_stat(world.p, SLATE, qb, "passing_tds", "2", "official review", "op")
    world.feed.publish(provider_corrected(3, qb, passing_tds=3, completions=30))
    world.run()
    if not operator_first:
        correct_stat(world.p, SLATE, qb, "passing_tds", "2", "official review", "op")
    explained = explain_entry(world.p, entry.entry_id)
    (td,) = [line for line in dict(explained.players)[qb].lines if line.stat == "passing_tds"]
    assert td.value == 2  # the operator's value is scored, whenever it was recorded
    assert explained.source(qb, "passing_tds") == "corrected by operator: official review"
    was = snapshot(GameStatus.FINAL, 2).lines_by_player()[qb]["completions"]
    assert explained.source(qb, "completions") == (
        f"corrected by the provider: {was} -> 30 (version 2 -> 3)"
    )

    world.clock.advance(timedelta(hours=2))
    world.run()
    assert state(world, cid) is ContestState.PAID
    assert explain_entry(world.p, entry.entry_id) == explained


def _postponed_slate(version: int) -> FeedSnapshot:
    final = snapshot(GameStatus.FINAL, version)
    games = tuple(
        attrs.evolve(g, status=GameStatus.POSTPONED) if g.game_id == "g2" else g
        for g in final.games
    )
    lines = tuple(x for x in final.lines if x.game_id != "g2")
    return FeedSnapshot(final.slate_id, version, games, lines)


def test_by_default_a_postponed_game_scores_zero_and_the_contest_completes() -> None:
    world = World()
    cid = filled(world)
    world.clock.set(LOCK)
    world.run()
    world.feed.publish(_postponed_slate(2))
    world.clock.advance(timedelta(hours=4))
    world.run()
    assert state(world, cid) is ContestState.COMPLETE


def test_a_waiting_contest_holds_for_a_postponed_game_up_to_its_limit() -> None:
    world = World()
    cid = filled(world, postponed_policy=PostponedPolicy.WAIT, postponed_wait=timedelta(hours=30))
    world.clock.set(LOCK)
    world.run()
    world.feed.publish(_postponed_slate(2))
    world.clock.advance(timedelta(hours=29))
    world.run()
    assert state(world, cid) is ContestState.LIVE
    world.clock.advance(timedelta(hours=1))
    world.run()
    assert state(world, cid) is ContestState.COMPLETE


def test_other_data_under_an_accepted_version_is_refused_and_holds_the_contest() -> None:
    world = World()
    cid = filled(world)
    to_complete(world)  # version 2, every game final, accepted
    assert state(world, cid) is ContestState.COMPLETE
    world.feed.publish(snapshot(GameStatus.FINAL, 2, seed=7))  # version 2 again, other lines
    world.clock.advance(timedelta(hours=2))
    world.run()
    assert state(world, cid) is ContestState.COMPLETE  # which version 2 is right? wait
    conflicts = [k for k in world.alerts.raised_keys() if "version_conflict" in k]
    assert len(conflicts) == 1
    world.feed.publish(snapshot(GameStatus.FINAL, 3, seed=7))
    world.run()
    assert state(world, cid) is ContestState.PAID


def test_a_refused_payload_is_kept_and_audited_once_however_often_it_comes() -> None:
    world = World()
    cid = filled(world)
    world.clock.set(LOCK)
    world.run()
    good = snapshot(GameStatus.FINAL, 2)
    broken = StatLine.of("KC-WR3", "KC", "g1", {"receptions": -1})
    bad = FeedSnapshot(
        good.slate_id, 2, good.games, (*(x for x in good.lines if x.player_id != "KC-WR3"), broken)
    )
    world.feed.publish(bad)
    for _ in range(3):  # the worker polls the feed, which keeps sending it
        world.clock.advance(timedelta(minutes=1))
        world.run()
    with world.store.unit_of_work() as uow:
        system = uow.audit.for_actor("system")
    rejected = [r for r in system if r.action == "stats.rejected"]
    assert len(rejected) == 1
    assert "negative_count" in rejected[0].detail
    assert bad.sha256() in rejected[0].detail
    with world.store.unit_of_work() as uow:
        assert uow.stats.last_rejected_version(bad.slate_id) == 2
    assert world.store._tables.rejections[bad.slate_id] == {
        (2, bad.sha256()): bad.canonical_bytes()
    }
    assert state(world, cid) is ContestState.LIVE
