"""Read-only queries the apps show: the lobby, a player's entries and payments, leaderboards.

Nothing here changes anything. Leaderboards use the settlement's own functions,
so a live leaderboard ranks exactly as settlement will, and a settled contest's
leaderboard is read back from its published snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from fractions import Fraction

from attrs import frozen

from fantasy_core.audit import AuditRecord
from fantasy_core.contest import Contest, ContestMark
from fantasy_core.entries import Entry, EntryStatus
from fantasy_core.errors import UnknownSlate
from fantasy_core.leaderboard import LeaderboardPage, Standing
from fantasy_core.lifecycle import ContestState
from fantasy_core.lineups import PlayerPool
from fantasy_core.payments import Payout, Refund
from fantasy_core.payout_accounts import PayoutAccount
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork
from fantasy_core.snapshot import entry_rows
from fantasy_core.stats import Game
from fantasy_core.usecases.standings import live_leaderboard
from fantasy_core.usecases.stats import effective_lines

# Before lock, who picked whom is private: the leaderboard opens when the contest locks.
LEADERBOARD_STATES = frozenset(
    {
        ContestState.LOCKED,
        ContestState.LIVE,
        ContestState.COMPLETE,
        ContestState.SETTLED,
        ContestState.PAID,
    }
)


@frozen
class ContestSummary:
    contest: Contest
    seats_taken: int


def _summaries(uow: UnitOfWork, ids: Iterable[str]) -> list[ContestSummary]:
    return [ContestSummary(uow.contests.get(cid), uow.entries.seats_taken(cid)) for cid in ids]


def list_contests(
    p: Platform,
    states: Iterable[ContestState] | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> list[ContestSummary]:
    """Contests in any of `states` (all when None), by ascending id, with seats taken; with
    `after` and `limit`, one keyset page: the ids after `after`, at most `limit`."""
    wanted = list(ContestState) if states is None else states
    with p.reading() as uow:
        ids = uow.contests.ids_in_states(wanted, after, limit)
        return _summaries(uow, ids)


def latest_completed(
    p: Platform, states: Iterable[ContestState], limit: int
) -> list[ContestSummary]:
    """At most `limit` contests in any of `states` that have completed, the latest first."""
    with p.reading() as uow:
        ids = uow.contests.latest_completed(states, limit)
        return _summaries(uow, ids)


@frozen
class LobbyFilter:
    """Which contests a lobby shows; None for a criterion: any.

    `sport_templates` are the roster templates of the sport asked for (the catalogue
    knows which template plays which sport); fees are in minor units, both bounds
    included; `guaranteed`: only contests with (True) or without (False) a guaranteed
    prize pool; `open_at`: only contests still taking entries at that instant.
    """

    states: frozenset[ContestState] | None = None
    sport_templates: frozenset[str] | None = None
    min_fee_minor: int | None = None
    max_fee_minor: int | None = None
    guaranteed: bool | None = None
    open_at: datetime | None = None

    def admits(self, summary: ContestSummary) -> bool:
        contest = summary.contest
        terms = contest.terms
        fee = terms.entry_fee.minor
        return (
            (self.states is None or contest.state in self.states)
            and (self.sport_templates is None or terms.sport_template in self.sport_templates)
            and (self.min_fee_minor is None or fee >= self.min_fee_minor)
            and (self.max_fee_minor is None or fee <= self.max_fee_minor)
            and (self.guaranteed is None or terms.guaranteed == self.guaranteed)
            and (
                self.open_at is None
                or (contest.accepts_entries(self.open_at) and summary.seats_taken < terms.capacity)
            )
        )


def lobby_contests(
    p: Platform, admitted: LobbyFilter, after: str | None = None, limit: int | None = None
) -> list[ContestSummary]:
    """The contests `admitted` lets through, by ascending id, with seats taken; with
    `limit`, the first `limit` of them after `after` (the store is read a page of `limit`
    at a time until that many pass or none are left)."""
    if limit is None:
        return [s for s in list_contests(p, admitted.states, after) if admitted.admits(s)]
    found: list[ContestSummary] = []
    while len(found) < limit:
        page = list_contests(p, admitted.states, after, limit)
        found += [s for s in page if admitted.admits(s)]
        if len(page) < limit:
            break
        after = page[-1].contest.contest_id
    return found[:limit]


def contest_summary(p: Platform, contest_id: str) -> ContestSummary:
    """Raises UnknownContest."""
    with p.reading() as uow:
        return _summaries(uow, [contest_id])[0]


def contest_mark(p: Platform, contest_id: str) -> ContestMark:
    """The contest's version and seats taken, without its terms: one small read telling a
    page that keeps a contest whether its copy is current. Raises UnknownContest."""
    with p.reading() as uow:
        return uow.contests.mark(contest_id)


def get_entry(p: Platform, entry_id: str) -> tuple[Entry, Contest]:
    """The entry and its contest; raises UnknownEntry."""
    with p.reading() as uow:
        entry = uow.entries.get(entry_id)
        return entry, uow.contests.get(entry.contest_id)


def entry_charged_by(p: Platform, charge_id: str) -> Entry | None:
    """The entry whose fee the gateway's charge `charge_id` pays, if any."""
    with p.reading() as uow:
        return uow.entries.by_charge(charge_id)


def entries_of(p: Platform, user_id: str) -> list[Entry]:
    """Every join attempt of a user, by ascending entry id."""
    with p.reading() as uow:
        return uow.entries.for_user(user_id)


@frozen
class PaymentsOf:
    """A user's money: the charged entries, the refunds owed or made, the prizes."""

    charged: tuple[Entry, ...]
    refunds: tuple[Refund, ...]
    payouts: tuple[Payout, ...]


def payments_of(p: Platform, user_id: str) -> PaymentsOf:
    entries = entries_of(p, user_id)
    mine = {e.entry_id for e in entries}
    contests = sorted({e.contest_id for e in entries})
    with p.reading() as uow:
        refunds = [
            r for cid in contests for r in uow.refunds.for_contest(cid) if r.entry_id in mine
        ]
        payouts = [
            x for cid in contests for x in uow.payouts.for_contest(cid) if x.user_id == user_id
        ]
    return PaymentsOf(
        charged=tuple(e for e in entries if e.charge_id is not None),
        refunds=tuple(sorted(refunds, key=lambda r: r.entry_id)),
        payouts=tuple(payouts),
    )


def player_audit(p: Platform, user_id: str) -> list[AuditRecord]:
    """The audit records of what a user did (the user as actor), oldest first."""
    with p.reading() as uow:
        return uow.audit.for_actor(user_id)


def settlement_snapshot(p: Platform, contest_id: str) -> tuple[bytes, str] | None:
    """The published settlement snapshot and its hash, or None before settlement."""
    with p.reading() as uow:
        uow.contests.get(contest_id)  # raises UnknownContest
        return uow.settlements.get(contest_id)


def leaderboard(p: Platform, contest_id: str, offset: int = 0, limit: int = 50) -> LeaderboardPage:
    """A page of the standings: from the snapshot once settled, else scored live.

    Before lock (and for a cancelled contest) the leaderboard is empty.
    """
    if offset < 0 or limit < 1:
        raise ValueError(f"a page needs offset >= 0 and limit >= 1, got {offset}, {limit}")
    with p.reading() as uow:
        contest = uow.contests.get(contest_id)
        if contest.state not in LEADERBOARD_STATES:
            return LeaderboardPage(contest_id, contest.state, False, 0, ())
        stored = uow.settlements.get(contest_id)
        if stored is not None:
            settled = _standings_from_snapshot(stored[0])
            page = tuple(settled[offset : offset + limit])
            return LeaderboardPage(contest_id, contest.state, True, len(settled), page)
        entries = uow.entries.for_contest(contest_id, [EntryStatus.ACTIVE])
        lines = effective_lines(uow, contest.terms.slate_id)
    board = live_leaderboard(contest, entries, lines)
    rows = tuple(board.page(offset, limit))
    return LeaderboardPage(contest_id, contest.state, False, len(board), rows)


@frozen
class Placing:
    """Where an entry stands: its rank (shared by ties) and its points; final once settled."""

    rank: int
    score: Fraction
    final: bool


def placings(p: Platform, entries: Iterable[Entry]) -> dict[str, Placing]:
    """The placing of each of `entries` that has one, by entry id: active entries of
    contests whose leaderboard is open (from the settlement snapshot once settled, else
    scored live as the leaderboard scores them). One board per contest, however many of
    its entries are asked about."""
    by_contest: dict[str, list[str]] = {}
    for entry in entries:
        if entry.status is EntryStatus.ACTIVE:
            by_contest.setdefault(entry.contest_id, []).append(entry.entry_id)
    found: dict[str, Placing] = {}
    for contest_id, entry_ids in sorted(by_contest.items()):
        found.update(_placings_in(p, contest_id, entry_ids))
    return found


def _placings_in(p: Platform, contest_id: str, entry_ids: list[str]) -> dict[str, Placing]:
    with p.reading() as uow:
        contest = uow.contests.get(contest_id)
        if contest.state not in LEADERBOARD_STATES:
            return {}
        stored = uow.settlements.get(contest_id)
        if stored is not None:
            wanted = set(entry_ids)
            return {
                row.entry_id: Placing(row.rank, row.score, final=True)
                for row in _standings_from_snapshot(stored[0])
                if row.entry_id in wanted
            }
        active = uow.entries.for_contest(contest_id, [EntryStatus.ACTIVE])
        lines = effective_lines(uow, contest.terms.slate_id)
    board = live_leaderboard(contest, active, lines)
    held = {e.entry_id for e in active}
    return {
        entry_id: Placing(board.rank_of(entry_id), board.score_of(entry_id), final=False)
        for entry_id in entry_ids
        if entry_id in held
    }


def _standings_from_snapshot(snapshot: bytes) -> list[Standing]:
    """A settled contest's standings, read from its snapshot's rows (snapshot.EntryRow)."""
    return [
        Standing(
            rank=row.rank,
            entry_id=row.entry_id,
            user_id=row.user_id,
            score=row.points,
            prize_minor=row.prize,
            player_ids=row.player_ids,
        )
        for row in entry_rows(snapshot)
    ]


def payout_account(p: Platform, user_id: str) -> PayoutAccount | None:
    with p.reading() as uow:
        return uow.accounts.get(user_id)


@frozen
class SlateForContests:
    """What a new contest on a slate needs from the feed: its players, each game's
    scheduled kickoff by game id, and the first of them."""

    pool: PlayerPool
    kickoffs: Mapping[str, datetime]

    @property
    def first_kickoff(self) -> datetime:
        return min(self.kickoffs.values())


def slate_for_contests(p: Platform, slate_id: str) -> SlateForContests:
    """Raises UnknownSlate, or FeedUnavailable when the provider cannot be read."""
    pool = p.feed.player_pool(slate_id)
    games = p.feed.snapshot(slate_id).games
    if not games:
        raise UnknownSlate(f"slate {slate_id} has no games")
    return SlateForContests(pool, {game.game_id: game.kickoff for game in games})


def check_store(p: Platform) -> None:
    """A trivial read: raises whatever the store raises when it cannot be reached."""
    with p.reading() as uow:
        uow.contests.ids_in_states([])


@frozen
class SlateSchedule:
    """A slate the feed offers and its games (teams, kickoff, status), by kickoff."""

    slate_id: str
    games: tuple[Game, ...]

    @property
    def first_kickoff(self) -> datetime | None:
        return self.games[0].kickoff if self.games else None


def slate_schedules(p: Platform) -> list[SlateSchedule]:
    """Every slate the feed offers with its games, by slate id; raises FeedUnavailable."""
    return [
        SlateSchedule(
            slate_id,
            tuple(sorted(p.feed.snapshot(slate_id).games, key=lambda g: (g.kickoff, g.game_id))),
        )
        for slate_id in sorted(p.feed.slates())
    ]


def feed_slates(p: Platform) -> tuple[str, ...]:
    """The slates the feed offers; raises FeedUnavailable when it cannot be read."""
    return p.feed.slates()
