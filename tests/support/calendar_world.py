"""A platform with a calendar, on any store: a feed whose schedule tests move, a catalogue of
two small templates, and helpers to fill contests through real joins."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from adapters.alerts import CollectedAlerts
from adapters.clock import ControllableClock
from adapters.ids import SequentialIds
from adapters.sandbox import SandboxGateway
from fantasy_core.calendar import Calendar, CalendarLine, CalendarOpening, SlateSchedule
from fantasy_core.contest import Contest, ContestTerms
from fantasy_core.entry_limits import SingleEntry
from fantasy_core.errors import JoinRefused, UnknownSlate
from fantasy_core.lifecycle import ContestState
from fantasy_core.lineups import PlayerPool
from fantasy_core.money import Money
from fantasy_core.payouts import top_heavy
from fantasy_core.platform import Platform
from fantasy_core.ports import IdSource, UnitOfWork
from fantasy_core.scoring import preset
from fantasy_core.stats import FeedSnapshot, Game, GameStatus
from fantasy_core.usecases.joining import JoinRequest, join
from support.world import GAMES, POOL, lineup

START = datetime(2025, 9, 1, 12, tzinfo=UTC)
SLATES = ("wk01", "wk02", "wk03")
CAPACITY = {"duo": 2, "ten": 10}
LINES = (
    CalendarLine("duo", "nfl", "duo", open_days_before=3, count=1, refill=True, refill_cap=2),
    CalendarLine("ten", "nfl", "ten", open_days_before=5, count=2),
)


class SchedulingFeed:
    """A StatsFeed whose slates are scheduled by the test: each has two games (those of
    support.world's pool) whose kick-offs the test sets and moves."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self.kickoffs: dict[str, list[datetime]] = {}

    def schedule(self, slate_id: str, first: datetime, second: datetime) -> None:
        self.kickoffs[slate_id] = [first, second]

    def slates(self) -> tuple[str, ...]:
        return tuple(sorted(self.kickoffs))

    def schedules(self) -> tuple[SlateSchedule, ...]:
        return tuple(
            SlateSchedule(slate, "nfl", tuple(times))
            for slate, times in sorted(self.kickoffs.items())
        )

    def player_pool(self, slate_id: str) -> PlayerPool:
        self._known(slate_id)
        return PlayerPool.of(slate_id, POOL.players.values())

    def snapshot(self, slate_id: str) -> FeedSnapshot:
        times = self._known(slate_id)
        games = tuple(
            Game(game_id, home, away, kickoff, GameStatus.SCHEDULED)
            for (game_id, home, away), kickoff in zip(GAMES, times, strict=True)
        )
        return FeedSnapshot(slate_id, 1, games, ())

    def _known(self, slate_id: str) -> list[datetime]:
        if slate_id not in self.kickoffs:
            raise UnknownSlate(f"no slate {slate_id!r}")
        return self.kickoffs[slate_id]


class SmallCatalogue:
    """Two templates: `duo` (2 seats) and `ten` (10 seats), single entry, $1 fee."""

    def knows(self, template: str) -> bool:
        return template in CAPACITY

    def terms(
        self,
        template: str,
        pool: PlayerPool,
        lock_at: datetime,
        name: str | None = None,
        *,
        kickoffs: Mapping[str, datetime] | None = None,
    ) -> ContestTerms:
        return ContestTerms(
            name=name or f"{template} ({pool.slate_id})",
            sport_template="draftkings_nfl_classic",
            pool=pool,
            lock_at=lock_at,
            entry_fee=Money(100, "usd"),
            capacity=CAPACITY[template],
            entry_limit=SingleEntry(),
            rules=preset("draftkings_nfl_classic"),
            payout=top_heavy(1),
            rake_bps=1_000,
            min_entries=2,
            kickoffs=kickoffs or {},
        )


class CalendarWorld:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        lines: tuple[CalendarLine, ...] = LINES,
        clock: ControllableClock | None = None,
        ids: IdSource | None = None,
    ) -> None:
        self.clock = clock or ControllableClock(START)
        self.feed = SchedulingFeed(self.clock.now)
        self.joins = 0
        self.p = Platform(
            uow=uow,
            gateway=SandboxGateway(),
            feed=self.feed,
            clock=self.clock,
            alerts=CollectedAlerts(),
            ids=ids or SequentialIds(),
            calendar=Calendar(lines),
            catalogue=SmallCatalogue(),
        )

    def openings(self) -> list[CalendarOpening]:
        with self.p.uow() as uow:
            return uow.calendar.opened(self.feed.kickoffs)

    def contest(self, contest_id: str) -> Contest:
        with self.p.uow() as uow:
            return uow.contests.get(contest_id)

    def fill(self, contest_id: str) -> int:
        """Join the contest until it is full (or refuses); how many joins were accepted."""
        contest = self.contest(contest_id)
        accepted = 0
        if contest.state is not ContestState.SCHEDULED or self.clock.now() >= contest.terms.lock_at:
            return 0
        for _ in range(contest.terms.capacity):
            self.joins += 1
            request = JoinRequest(
                contest_id, f"u{self.joins}", f"k{self.joins}", lineup(self.joins), "pm_card_visa"
            )
            try:
                join(self.p, request)
            except JoinRefused:
                break
            accepted += 1
        return accepted


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
