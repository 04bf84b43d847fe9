"""Live standings for pushing: open a contest's LiveStandings, and bring it up to date when
the stored stats change (whichever process ingested them)."""

from __future__ import annotations

from fractions import Fraction

from attrs import define

from fantasy_core.contest import Contest
from fantasy_core.entries import EntryStatus
from fantasy_core.errors import StandingsNotLive
from fantasy_core.lifecycle import ContestState
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork
from fantasy_core.standing_changes import TOP_WINDOW, LiveStandings, StandingsUpdate
from fantasy_core.usecases.lineups import game_starts
from fantasy_core.usecases.standings import live_leaderboard
from fantasy_core.usecases.stats import effective_lines

# From lock until settlement the standings move with the data; once SETTLED they are the
# snapshot's and a late correction changes nothing (so a stream ends there).
LIVE_STATES = frozenset({ContestState.LOCKED, ContestState.LIVE, ContestState.COMPLETE})


@define
class LiveContest:
    """A contest's live standings, the stats change sequence they reflect and the games
    that had started when its lineups were last read."""

    contest_id: str
    slate_id: str
    standings: LiveStandings
    started: frozenset[str]

    @property
    def seq(self) -> int:
        return self.standings.seq


def _points(contest: Contest, lines: dict[str, dict[str, Fraction]]) -> dict[str, Fraction]:
    rules = contest.terms.rules
    return {player: rules.score(line) for player, line in lines.items()}


def _started(uow: UnitOfWork, contest: Contest, p: Platform) -> frozenset[str]:
    games = {player.game_id for player in contest.terms.pool.players.values()}
    return game_starts(uow, contest).started(games, p.clock.now())


def open_live(p: Platform, contest_id: str, window: int = TOP_WINDOW) -> LiveContest:
    """The contest's standings now. StandingsNotLive before lock, once settled, or for a
    cancelled contest; UnknownContest for an unknown id."""
    with p.reading() as uow:
        contest = uow.contests.get(contest_id)
        _check_live(contest)
        slate_id = contest.terms.slate_id
        seq = uow.stats.change_sequence(slate_id)  # first: what it reads is at least this
        entries = uow.entries.for_contest(contest_id, [EntryStatus.ACTIVE])
        lines = effective_lines(uow, slate_id)
        started = _started(uow, contest, p)
    board = live_leaderboard(contest, entries, lines)
    standings = LiveStandings(
        contest_id, board, _points(contest, lines), seq, contest.state.value, window
    )
    return LiveContest(contest_id, slate_id, standings, started)


def _check_live(contest: Contest) -> None:
    if contest.state not in LIVE_STATES:
        raise StandingsNotLive(
            f"contest {contest.contest_id} is {contest.state.value}: its standings are live "
            "from lock until settlement (then GET /contests/{id}/leaderboard is final)"
        )


def stats_sequence(p: Platform, slate_id: str) -> int:
    """The slate's stats change sequence (StatsRepository.change_sequence): cheap to poll."""
    with p.reading() as uow:
        return uow.stats.change_sequence(slate_id)


def refresh_live(p: Platform, live: LiveContest) -> StandingsUpdate | None:
    """Bring `live` up to the stored data: None when nothing changed (the same sequence, the
    same state); else what moved. The lineups are re-read when a game has started since
    they last were (until then a swap can only exchange players with no points); the last
    update of a contest leaving the live states carries its new state and no changes."""
    with p.reading() as uow:
        seq = uow.stats.change_sequence(live.slate_id)
        contest = uow.contests.get(live.contest_id)
        state = contest.state.value
        if seq == live.seq and state == live.standings.state:
            return None
        if contest.state not in LIVE_STATES:
            return live.standings.advance_state(state)
        lines = effective_lines(uow, live.slate_id)
        started = _started(uow, contest, p)
        entries = (
            uow.entries.for_contest(live.contest_id, [EntryStatus.ACTIVE])
            if started != live.started
            else None
        )
    points = _points(contest, lines)
    if entries is None:
        return live.standings.advance(points, seq, state)
    live.started = started
    board = live_leaderboard(contest, entries, lines)
    return live.standings.rebuild(board, points, seq, state)
