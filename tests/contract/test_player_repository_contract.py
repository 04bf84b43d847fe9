"""The players' protection records and what counts against their limits, on every adapter."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import attrs
import pytest

from contract.backends import Backend
from contract.test_repository_contract import a_contest, an_entry
from fantasy_core.entries import EntryStatus
from fantasy_core.errors import DuplicateRecord
from fantasy_core.protection.limits import LimitKind, Spend
from fantasy_core.protection.players import PlayerProfile, new_profile
from fantasy_core.protection.restrictions import ExclusionTerm, cool_off, self_exclusion
from fantasy_core.protection.rules import JurisdictionRules
from fantasy_core.protection.tax import TaxDetails

NOW = datetime(2025, 9, 10, 12, 0, 0, 250_000, tzinfo=UTC)


def a_profile(user: str = "ann", email: str | None = None) -> PlayerProfile:
    return new_profile(
        JurisdictionRules(), user, email or f"{user}@example.com", date(1990, 2, 3), "MA", NOW
    )


def test_players_are_locked_in_ascending_id_order_whatever_order_they_were_stored_in(
    backend: Backend,
) -> None:
    """As contests: overlapping join batches lock their players in one order."""
    with backend.uow() as uow:
        for user in ("cat", "bob", "ann"):
            uow.players.add(a_profile(user))
        uow.commit()
    with backend.uow() as uow:
        assert list(uow.players.lock_all(["bob", "cat", "ann"])) == ["ann", "bob", "cat"]


def test_a_profile_comes_back_as_it_was_saved(backend: Backend) -> None:
    profile = a_profile()
    limits = profile.limits.request({LimitKind.FEES_DAY: 700, LimitKind.FEES_MONTH: None}, NOW)
    changed = profile.with_limits(limits).restricted(self_exclusion(NOW, ExclusionTerm.PERMANENT))
    with backend.uow() as uow:
        uow.players.add(profile)
        uow.commit()
    with backend.uow() as uow:
        assert uow.players.get("ann") == profile
        uow.players.save(changed)
        uow.commit()
    with backend.uow() as uow:
        assert uow.players.lock("ann") == changed
        assert uow.players.lock_all(["bob", "ann"]) == {"ann": changed}
        assert uow.players.get("bob") is None


def test_one_person_one_profile(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.players.add(a_profile("ann", "ann.smith@gmail.com"))
        uow.commit()
    again = a_profile("ann2", "annsmith+again@gmail.com")
    with backend.uow() as uow:
        assert uow.players.by_identity(again.identity_key) == "ann"
    with backend.uow() as uow, pytest.raises(DuplicateRecord):
        uow.players.add(again)
    with backend.uow() as uow, pytest.raises(DuplicateRecord):
        uow.players.add(a_profile("ann", "other@example.com"))


def test_restricted_lists_the_players_in_a_break_at_that_instant(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.players.add(a_profile("ann").restricted(cool_off(NOW, timedelta(days=3))))
        uow.players.add(a_profile("bob").restricted(self_exclusion(NOW, ExclusionTerm.PERMANENT)))
        uow.players.add(a_profile("cat"))
        uow.commit()
    with backend.uow() as uow:
        assert uow.players.restricted(NOW) == ["ann", "bob"]
        assert uow.players.restricted(NOW + timedelta(days=3)) == ["bob"]
        assert uow.players.restricted(NOW - timedelta(seconds=1)) == []


def test_spend_counts_the_seat_holding_entries_made_since_an_instant(backend: Backend) -> None:
    day = timedelta(days=1)
    with backend.uow() as uow:
        uow.contests.add(a_contest("c1"))
        uow.contests.add(a_contest("c2"))
        uow.entries.add_all(
            [
                an_entry("e1", "c1", "ann", created_at=NOW - 2 * day),
                an_entry("e2", "c1", "ann", created_at=NOW),
                an_entry("e3", "c2", "ann", EntryStatus.RESERVED, created_at=NOW + day),
                an_entry("e4", "c2", "ann", EntryStatus.REFUNDED, created_at=NOW),
                an_entry("e5", "c1", "bob", EntryStatus.DECLINED, created_at=NOW),
            ]
        )
        uow.commit()
    with backend.uow() as uow:
        spent = uow.entries.spend_since(["ann", "bob", "cat"], NOW - day)
    fee = a_contest().terms.entry_fee.minor
    assert spent == {"ann": [Spend(NOW, fee), Spend(NOW + day, fee)], "bob": [], "cat": []}


def test_a_contests_entrants_over_a_number_of_contests_not_yet_flagged(backend: Backend) -> None:
    """ann entered c1, c2, c3 (twice in c3); bob c1 and c2, and a refunded entry in c3;
    cat c2 and c3 only; dan c1, c2, c3 but is flagged already."""
    a, r = EntryStatus.ACTIVE, EntryStatus.REFUNDED
    played = {
        "ann": [("c1", a), ("c2", a), ("c3", a), ("c3", a)],
        "bob": [("c1", a), ("c2", a), ("c3", r)],
        "cat": [("c2", a), ("c3", a), ("c4", a)],
        "dan": [("c1", a), ("c2", a), ("c3", a)],
    }
    with backend.uow() as uow:
        for cid in ("c1", "c2", "c3", "c4"):
            uow.contests.add(a_contest(cid))
        uow.entries.add_all(
            [
                an_entry(f"{user}-{n}", cid, user, status)
                for user, entries in played.items()
                for n, (cid, status) in enumerate(entries)
            ]
        )
        uow.players.add(a_profile("ann"))
        uow.players.add(attrs.evolve(a_profile("dan"), highly_experienced_since=NOW))
        uow.commit()
    with backend.uow() as uow:
        assert uow.entries.entrants_over("c1", 2) == ["ann"]  # bob: 2; cat: not in c1
        assert uow.entries.entrants_over("c1", 1) == ["ann", "bob"]
        assert uow.entries.entrants_over("c4", 2) == ["cat"]  # no profile: still counted
        assert uow.entries.entrants_over("c1", 3) == []
        assert uow.entries.entrants_over("none", 0) == []


def test_a_w9_comes_back_as_saved_and_a_new_one_replaces_it(backend: Backend) -> None:
    first = TaxDetails("ann", "Ann Smith", "1 Main St", "sealed-1", "6789", NOW)
    second = TaxDetails("ann", "Ann Jones", "2 Elm St", "sealed-2", "4321", NOW)
    with backend.uow() as uow:
        assert uow.tax_details.get("ann") is None
        uow.tax_details.save(first)
        uow.commit()
    with backend.uow() as uow:
        assert uow.tax_details.get("ann") == first
        uow.tax_details.save(second)
        uow.commit()
    with backend.uow() as uow:
        assert uow.tax_details.get("ann") == second
