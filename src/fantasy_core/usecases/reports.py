"""Read-only reports: an entry's score explained, the audit trail, and the ledger verified."""

from __future__ import annotations

from fractions import Fraction

from attrs import frozen

from fantasy_core.audit import AuditRecord
from fantasy_core.ledger import Conservation, conservation
from fantasy_core.lifecycle import ContestState
from fantasy_core.platform import Platform
from fantasy_core.scoring import Explanation
from fantasy_core.usecases.stats import effective_lines


@frozen
class EntryExplanation:
    entry_id: str
    players: tuple[tuple[str, Explanation], ...]
    total: Fraction


def explain_entry(p: Platform, entry_id: str) -> EntryExplanation:
    """An entry's score, player by player and stat by stat (stat x rule = points)."""
    with p.uow() as uow:
        entry = uow.entries.get(entry_id)
        terms = uow.contests.get(entry.contest_id).terms
        lines = effective_lines(uow, terms.slate_id)
    players = tuple(
        (player, terms.rules.explain(lines.get(player, {}))) for player in entry.lineup.player_ids
    )
    return EntryExplanation(entry_id, players, sum((e.total for _, e in players), Fraction(0)))


def audit_trail(p: Platform, contest_id: str) -> list[AuditRecord]:
    with p.uow() as uow:
        return uow.audit.for_contest(contest_id)


@frozen
class LedgerReport:
    posting_sets: int
    unbalanced: tuple[str, ...]
    closed_contests: tuple[Conservation, ...]

    @property
    def ok(self) -> bool:
        return not self.unbalanced and all(c.conserved for c in self.closed_contests)


def verify_ledger(p: Platform) -> LedgerReport:
    """Every posting set balances, and every closed contest conserves money to the cent.

    Balances are summed from the stored rows, not trusted from construction: a row
    edited in the database shows up here, and conservation is not claimed over a
    ledger that does not balance.
    """
    with p.uow() as uow:
        unbalanced = tuple(uow.ledger.unbalanced())
        if unbalanced:
            return LedgerReport(posting_sets=0, unbalanced=unbalanced, closed_contests=())
        sets = uow.ledger.all()
        closed = uow.contests.ids_in_states([ContestState.PAID, ContestState.CANCELLED])
    return LedgerReport(
        posting_sets=len(sets),
        unbalanced=(),
        closed_contests=tuple(conservation(cid, sets) for cid in closed),
    )
