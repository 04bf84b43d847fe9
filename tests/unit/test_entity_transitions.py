"""Entries, payouts and refunds change status only by their legal moves, stated here on their own.

Each table below is written out from the rules (docs/decisions/0017), not read from the
code: the code's table must equal it, and every method is driven from every status, so
each legal move is made and each illegal one refused with IllegalTransition, changing
nothing.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from itertools import product
from typing import TypeVar

import pytest

from fantasy_core.entries import ENTRY_MOVES, Entry, EntryStatus
from fantasy_core.errors import IllegalTransition
from fantasy_core.payments import (
    PAYOUT_MOVES,
    REFUND_MOVES,
    Payout,
    PayoutStatus,
    Refund,
    RefundStatus,
)
from support.world import lineup

State = TypeVar("State", bound=enum.Enum)
AT = datetime(2025, 9, 7, 12, 0, tzinfo=UTC)
E = EntryStatus
P = PayoutStatus
R = RefundStatus

ENTRY_LEGAL = {
    (E.RESERVED, E.PENDING_ACTION),
    (E.RESERVED, E.ACTIVE),
    (E.RESERVED, E.DECLINED),
    (E.RESERVED, E.ABANDONED),
    (E.RESERVED, E.REFUNDED),
    (E.PENDING_ACTION, E.ACTIVE),
    (E.PENDING_ACTION, E.DECLINED),
    (E.PENDING_ACTION, E.ABANDONED),
    (E.PENDING_ACTION, E.REFUNDED),
    (E.ACTIVE, E.WITHDRAWN),
    (E.ACTIVE, E.REFUNDED),
    (E.DECLINED, E.REFUNDED),  # charged after all: refunded at once
    (E.ABANDONED, E.REFUNDED),
}

# Not confirmed: any report may land on any of these; a reversed prize is owed again and
# moves on like any other unconfirmed one (sent again under its next transfer key).
_UNCONFIRMED = (P.PENDING, P.SENDING, P.FAILED, P.OWED)
PAYOUT_LEGAL = {
    *(
        (source, target)
        for source in (*_UNCONFIRMED, P.REVERSED)
        for target in (*_UNCONFIRMED, P.CONFIRMED)
    ),
    (P.CONFIRMED, P.REVERSED),
}

REFUND_LEGAL = {(R.PENDING, R.PENDING), (R.PENDING, R.CONFIRMED)}


def an_entry(status: EntryStatus) -> Entry:
    return Entry("e1", "c1", "ann", "join-e1", lineup(), "pm_card_visa", 1_000, AT, status)


def a_payout(status: PayoutStatus) -> Payout:
    # Its withholding decided (none): a payout is never sent before that (decision 0042).
    return Payout("payout-1", "c1", "e1", "ann", "first", 2_500, "usd", status, withheld=0)


def a_refund(status: RefundStatus) -> Refund:
    return Refund("refund-e1", "c1", "e1", "ch_1", 1_000, "cancelled", AT, status)


# Every method that moves an entry, and the status it moves to.
ENTRY_METHODS: dict[EntryStatus, Callable[[Entry], None]] = {
    E.PENDING_ACTION: lambda e: e.await_action("ch_2"),
    E.ACTIVE: lambda e: e.accept("ch_2"),
    E.DECLINED: lambda e: e.decline("card declined"),
    E.ABANDONED: lambda e: e.abandon("never paid"),
    E.WITHDRAWN: lambda e: e.withdraw("withdrawn by the user"),
    E.REFUNDED: lambda e: e.refund("contest cancelled"),
}

PAYOUT_METHODS: dict[PayoutStatus, Callable[[Payout], None]] = {
    P.SENDING: lambda x: x.start_attempt(),
    P.CONFIRMED: lambda x: x.confirm("tr_1"),
    P.FAILED: lambda x: x.fail("refused", AT),
    P.PENDING: lambda x: x.not_sent("unreachable", AT),
    P.REVERSED: lambda x: x.reverse("disputed"),
    P.OWED: lambda x: x.owe("no payout account"),
}

REFUND_METHODS: dict[RefundStatus, Callable[[Refund], None]] = {
    R.CONFIRMED: lambda r: r.confirm("re_1"),
    R.PENDING: lambda r: r.attempt_failed("timed out"),
}


def pairs(table: Mapping[State, frozenset[State]]) -> set[tuple[State, State]]:
    return {(source, target) for source, targets in table.items() for target in targets}


def test_the_tables_in_the_code_are_the_tables_of_the_rules() -> None:
    assert set(ENTRY_MOVES) == set(EntryStatus)
    assert pairs(ENTRY_MOVES) == ENTRY_LEGAL
    assert set(PAYOUT_MOVES) == set(PayoutStatus)
    assert pairs(PAYOUT_MOVES) == PAYOUT_LEGAL
    assert set(REFUND_MOVES) == set(RefundStatus)
    assert pairs(REFUND_MOVES) == REFUND_LEGAL


def test_nothing_moves_an_entry_back_to_reserved() -> None:
    # RESERVED is where an entry is born; no method leads there, so every (x, RESERVED) is
    # refused by construction, and the table agrees.
    assert E.RESERVED not in ENTRY_METHODS
    assert all((source, E.RESERVED) not in ENTRY_LEGAL for source in EntryStatus)


@pytest.mark.parametrize(("source", "target"), list(product(EntryStatus, ENTRY_METHODS)))
def test_an_entry_makes_every_legal_move_and_refuses_every_other(
    source: EntryStatus, target: EntryStatus
) -> None:
    entry = an_entry(source)
    before = copy.copy(entry)
    if (source, target) in ENTRY_LEGAL:
        ENTRY_METHODS[target](entry)
        assert entry.status is target
        return
    with pytest.raises(IllegalTransition) as refused:
        ENTRY_METHODS[target](entry)
    assert (refused.value.record, refused.value.record_id) == ("entry", "e1")
    assert (refused.value.current, refused.value.attempted) == (source.value, target.value)
    assert str(refused.value) == f"entry e1 cannot go from {source.value} to {target.value}"
    assert entry == before


@pytest.mark.parametrize(("source", "target"), list(product(PayoutStatus, PAYOUT_METHODS)))
def test_a_payout_makes_every_legal_move_and_refuses_every_other(
    source: PayoutStatus, target: PayoutStatus
) -> None:
    payout = a_payout(source)
    before = copy.copy(payout)
    if (source, target) in PAYOUT_LEGAL:
        PAYOUT_METHODS[target](payout)
        assert payout.status is target
        return
    with pytest.raises(IllegalTransition, match=f"payout payout-1 cannot go from {source.value}"):
        PAYOUT_METHODS[target](payout)
    assert payout == before


@pytest.mark.parametrize("source", list(PayoutStatus))
def test_an_unknown_outcome_keeps_an_unconfirmed_payout_where_it_is(source: PayoutStatus) -> None:
    payout = a_payout(source)
    before = copy.copy(payout)
    if (source, source) in PAYOUT_LEGAL:
        payout.outcome_unknown("timed out", AT)
        assert (payout.status, payout.last_error, payout.retry_at) == (source, "timed out", AT)
        return
    with pytest.raises(IllegalTransition):
        payout.outcome_unknown("timed out", AT)
    assert payout == before


@pytest.mark.parametrize(("source", "target"), list(product(RefundStatus, REFUND_METHODS)))
def test_a_refund_makes_every_legal_move_and_refuses_every_other(
    source: RefundStatus, target: RefundStatus
) -> None:
    refund = a_refund(source)
    before = copy.copy(refund)
    if (source, target) in REFUND_LEGAL:
        REFUND_METHODS[target](refund)
        assert refund.status is target
        return
    with pytest.raises(IllegalTransition, match=f"refund refund-e1 cannot go from {source.value}"):
        REFUND_METHODS[target](refund)
    assert refund == before


def test_an_entry_records_its_charge_only_as_it_moves() -> None:
    waiting = an_entry(E.RESERVED)
    waiting.await_action("ch_1")
    assert (waiting.status, waiting.charge_id) == (E.PENDING_ACTION, "ch_1")
    waiting.accept("ch_1")
    assert (waiting.charge_id, waiting.reason) == ("ch_1", None)
    late = an_entry(E.DECLINED)
    late.refund("charged after the decline", charge_id="ch_late")
    assert (late.status, late.charge_id, late.reason) == (
        E.REFUNDED,
        "ch_late",
        "charged after the decline",
    )
    # An active entry keeps the charge it was paid by when its contest is cancelled.
    cancelled = Entry(
        "e2", "c1", "ann", "join-e2", lineup(), "pm_card_visa", 1_000, AT, E.ACTIVE, "ch_9"
    )
    cancelled.refund("contest cancelled")
    assert cancelled.charge_id == "ch_9"


def test_a_payout_keeps_the_record_of_its_attempts() -> None:
    payout = a_payout(P.PENDING)
    payout.start_attempt()
    payout.fail("no account", AT)
    assert (payout.status, payout.attempts, payout.last_error, payout.retry_at) == (
        P.FAILED,
        1,
        "no account",
        AT,
    )
    payout.start_attempt()
    payout.confirm("tr_1")
    assert (payout.attempts, payout.transfer_id, payout.last_error, payout.retry_at) == (
        2,
        "tr_1",
        None,
        None,
    )
    assert payout.transferred
    payout.reverse("disputed")
    # Owed again: sent once more, under a key of its own (never the reversed send's).
    assert (payout.transferred, payout.settled, payout.owed, payout.reversals) == (
        False,
        False,
        True,
        1,
    )
    assert payout.transfer_key == "payout-1/resend-1" != payout.fingerprint


def test_a_refund_counts_its_failed_attempts_until_confirmed() -> None:
    refund = a_refund(R.PENDING)
    refund.attempt_failed("timed out")
    refund.attempt_failed("unavailable")
    assert (refund.status, refund.attempts, refund.last_error) == (R.PENDING, 2, "unavailable")
    refund.confirm("re_1")
    assert (refund.status, refund.refund_id) == (R.CONFIRMED, "re_1")


def test_statuses_cannot_be_assigned_around_the_methods() -> None:
    with pytest.raises(AttributeError):
        an_entry(E.RESERVED).status = E.ACTIVE  # type: ignore[misc]
    with pytest.raises(AttributeError):
        an_entry(E.RESERVED).charge_id = "ch_1"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        a_payout(P.PENDING).status = P.CONFIRMED  # type: ignore[misc]
    with pytest.raises(AttributeError):
        a_refund(R.PENDING).status = R.CONFIRMED  # type: ignore[misc]
