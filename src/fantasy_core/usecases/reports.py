"""Read-only reports: an entry's score explained, the audit trail, and the ledger verified."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from attrs import frozen

from fantasy_core.audit import AuditRecord
from fantasy_core.ledger import Conservation, conservation
from fantasy_core.lifecycle import ContestState
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork
from fantasy_core.scoring import Explanation, ScoringRules, format_points
from fantasy_core.snapshot import InvalidSnapshot
from fantasy_core.stats import ProviderChange, StatCorrection
from fantasy_core.usecases.stats import effective_lines

SETTLED_STATES = (ContestState.SETTLED, ContestState.PAID)
"""States whose scores are final: they are explained from the settlement snapshot."""


@frozen
class EntryExplanation:
    """An entry's score, player by player; every line sums exactly to `total`.

    `sources` says, for each stat of the entry's players whose value a correction set
    (an operator's, or the provider's of a game already final), which one: (player id,
    stat, note), sorted.
    """

    entry_id: str
    players: tuple[tuple[str, Explanation], ...]
    total: Fraction
    sources: tuple[tuple[str, str, str], ...] = ()

    def source(self, player_id: str, stat: str) -> str | None:
        """The correction that set `stat` for `player_id`; None when none did."""
        return next((note for p, s, note in self.sources if (p, s) == (player_id, stat)), None)


def explain_entry(p: Platform, entry_id: str) -> EntryExplanation:
    """An entry's score, player by player and stat by stat (stat x rule = points).

    Before settlement it follows the latest valid data with corrections applied;
    `sources` names the operator's or the provider's correction behind a value.
    Once the contest is SETTLED (or PAID) it is computed from exactly what the
    settlement used, the rules and stat lines of its snapshot, so it always sums
    to the settled score: a late correction is recorded, but changes nothing here.
    """
    with p.reading() as uow:
        entry = uow.entries.get(entry_id)
        contest = uow.contests.get(entry.contest_id)
        slate_id = contest.terms.slate_id
        if contest.state in SETTLED_STATES:
            rules, lines = _settled_scoring(p, uow, contest.contest_id)
        else:
            rules, lines = contest.terms.rules, effective_lines(uow, slate_id)
        corrections = uow.stats.corrections(slate_id)
        changes = uow.stats.provider_changes(slate_id)
    lineup = entry.lineup.player_ids
    players = tuple((player, rules.explain(lines.get(player, {}))) for player in lineup)
    return EntryExplanation(
        entry_id,
        players,
        sum((e.total for _, e in players), Fraction(0)),
        _sources(corrections, changes, lines, frozenset(lineup)),
    )


def _settled_scoring(
    p: Platform, uow: UnitOfWork, contest_id: str
) -> tuple[ScoringRules, dict[str, dict[str, Fraction]]]:
    """The rules and stat lines the contest's settlement used, read once per snapshot."""
    digest = uow.settlements.digest(contest_id)
    if digest is None:
        raise InvalidSnapshot(f"contest {contest_id} is settled without a snapshot")

    def load() -> bytes:
        stored = uow.settlements.get(contest_id)
        if stored is None:
            raise InvalidSnapshot(f"contest {contest_id} is settled without a snapshot")
        return stored[0]

    return p.settled_scoring.get(digest, load)


def _sources(
    corrections: list[StatCorrection],
    changes: list[ProviderChange],
    lines: Mapping[str, Mapping[str, Fraction]],
    players: frozenset[str],
) -> tuple[tuple[str, str, str], ...]:
    """The correction behind each stat of `players` that one set: the operator's or provider's.

    A stat's value comes from the latest correction of it whose value is the one
    scored. Before settlement that is simply its latest correction (the scored lines
    apply them all, oldest first); after it, corrections recorded too late to count
    change nothing, and so are not the source of any value. Operator corrections apply
    over the feed's data whenever they were recorded, so one of them that set the value
    wins over a provider change.
    """
    notes: dict[tuple[str, str], str] = {}
    for change in changes:
        if change.player_id not in players:
            continue
        # An absent stat is 0, in the scored lines as in the provider's.
        if lines.get(change.player_id, {}).get(change.stat, Fraction(0)) == change.new:
            notes[change.player_id, change.stat] = (
                f"corrected by the provider: {format_points(change.old)} -> "
                f"{format_points(change.new)} (version {change.from_version} -> "
                f"{change.to_version})"
            )
    for correction in corrections:
        if correction.player_id not in players:
            continue
        used = lines.get(correction.player_id, {}).get(correction.stat)
        if used is not None and used == correction.value:
            notes[correction.player_id, correction.stat] = (
                f"corrected by operator: {correction.reason}"
            )
    return tuple((player, stat, note) for (player, stat), note in sorted(notes.items()))


def audit_trail(p: Platform, contest_id: str) -> list[AuditRecord]:
    """Every recorded action on the contest, oldest first; raises UnknownContest."""
    with p.reading() as uow:
        uow.contests.get(contest_id)
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
    with p.reading() as uow:
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
