"""A whole platform on in-memory adapters, with a small two-game slate, for driving use cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.alerts import CollectedAlerts
from adapters.clock import ControllableClock
from adapters.ids import SequentialIds
from adapters.sandbox import SandboxGateway
from fantasy_core.contest import Contest, ContestTerms
from fantasy_core.entry_limits import MaxEntries
from fantasy_core.lineups import Lineup, PlayerPool, SlatePlayer
from fantasy_core.money import Money
from fantasy_core.payout_accounts import PayoutAccount
from fantasy_core.payouts import top_heavy
from fantasy_core.platform import Platform
from fantasy_core.scoring import preset
from fantasy_core.stats import FeedSnapshot, Game, GameStatus, StatLine
from fantasy_core.usecases.contests import create_contest
from fantasy_core.usecases.joining import JoinRequest, join
from fantasy_core.usecases.worker import PassReport, run_once
from support.crashing_store import CrashingStore
from support.programmable_feed import ProgrammableFeed

SLATE = "test-slate"
START = datetime(2025, 9, 7, 12, 0, tzinfo=UTC)
LOCK = START + timedelta(hours=5)
KICKOFF = LOCK
GAMES = (("g1", "KC", "BAL"), ("g2", "PHI", "DAL"))
TEAMS = ("KC", "BAL", "PHI", "DAL")
POSITIONS = ("QB", "RB", "RB", "WR", "WR", "WR", "TE", "DST")


def _pool() -> PlayerPool:
    players = []
    for team in TEAMS:
        game = next(g for g, home, away in GAMES if team in (home, away))
        for n, position in enumerate(POSITIONS):
            pid = f"{team}-DST" if position == "DST" else f"{team}-{position}{n}"
            players.append(SlatePlayer(pid, pid, position, team, game, 5_000))
    return PlayerPool.of(SLATE, players)


POOL = _pool()


def lineup(variant: int = 0) -> Lineup:
    """A valid DraftKings classic lineup; `variant` picks teams so lineups (and scores) differ."""
    first = variant % 4
    others = (2, 3) if first < 2 else (0, 1)  # a team of the other game
    a, b = TEAMS[first], TEAMS[others[(variant // 4) % 2]]
    return Lineup(
        (
            ("QB", f"{a}-QB0"),
            ("RB", f"{a}-RB1"),
            ("RB", f"{b}-RB2"),
            ("WR", f"{a}-WR3"),
            ("WR", f"{b}-WR4"),
            ("WR", f"{a}-WR5"),
            ("TE", f"{b}-TE6"),
            ("FLEX", f"{b}-RB1" if variant % 2 else f"{b}-WR3"),
            ("DST", f"{b}-DST"),
        )
    )


def stat_lines(seed: int = 0) -> tuple[StatLine, ...]:
    lines = []
    for index, player in enumerate(POOL.players.values()):
        base = (index * 7 + seed * 13) % 23
        if player.position.value == "DST":
            stats: dict[str, Any] = {"dst_sacks": base % 5, "dst_points_allowed": base}
        else:
            stats = {
                "passing_yards": base * 12 if player.position.value == "QB" else 0,
                "completions": base if player.position.value == "QB" else 0,
                "rushing_yards": base * 3,
                "receiving_yards": base * 4,
                "receptions": base % 9,
                "receiving_tds": (base % 9) // 4,
            }
        lines.append(StatLine.of(player.player_id, player.team, player.game_id, stats))
    return tuple(lines)


def snapshot(status: GameStatus, version: int, seed: int = 0) -> FeedSnapshot:
    games = tuple(Game(g, home, away, KICKOFF, status) for g, home, away in GAMES)
    lines = () if status is GameStatus.SCHEDULED else stat_lines(seed)
    return FeedSnapshot(SLATE, version, games, lines)


class World:
    """One platform on fakes. The clock starts five hours before lock."""

    def __init__(self) -> None:
        self.clock = ControllableClock(START)
        self.store = CrashingStore()  # a MemoryStore whose commits a test may crash
        # A fixed instance token: a world's payment ids are the same in every run.
        self.gateway = SandboxGateway(instance="world")
        self.feed = ProgrammableFeed(self.clock.now)
        self.feed.set_pool(POOL)
        self.feed.publish(snapshot(GameStatus.SCHEDULED, 1))
        self.alerts = CollectedAlerts()
        self.ids = SequentialIds()
        self.p = Platform(
            uow=self.store.unit_of_work,
            gateway=self.gateway,
            feed=self.feed,
            clock=self.clock,
            alerts=self.alerts,
            ids=self.ids,
        )

    def terms(self, **changes: Any) -> ContestTerms:
        values: dict[str, Any] = {
            "name": "Sunday Million (test)",
            "sport_template": "draftkings_nfl_classic",
            "pool": POOL,
            "lock_at": LOCK,
            "entry_fee": Money(1_000, "usd"),
            "capacity": 10,
            "entry_limit": MaxEntries(3),
            "rules": preset("draftkings_nfl_classic"),
            "payout": top_heavy(3),
            "rake_bps": 1_000,
            "min_entries": 2,
            "withdraw_cutoff": timedelta(minutes=15),
            "correction_window": timedelta(hours=1),
        }
        values.update(changes)
        return ContestTerms(**values)

    def create(self, **changes: Any) -> Contest:
        return create_contest(self.p, self.terms(**changes), actor="operator")

    def join(
        self,
        contest: Contest,
        user: str,
        key: str = "k1",
        variant: int = 0,
        card: str = "pm_card_visa",
    ) -> Any:
        request = JoinRequest(contest.contest_id, user, key, lineup(variant), card)
        return join(self.p, request)

    def give_account(self, user: str) -> None:
        with self.store.unit_of_work() as uow:
            uow.accounts.save(PayoutAccount.enabled(user, f"acct_{user}"))
            uow.commit()

    def state(self, contest: Contest) -> str:
        with self.store.unit_of_work() as uow:
            return uow.contests.get(contest.contest_id).state.value

    def run(self) -> PassReport:
        return run_once(self.p)

    def play_games(self, seed: int = 0) -> None:
        """Lock, start the games, finish them, and pass the correction window."""
        self.clock.set(LOCK)
        self.run()
        self.feed.publish(snapshot(GameStatus.IN_PROGRESS, 2, seed))
        self.clock.advance(timedelta(minutes=1))
        self.run()
        self.clock.advance(timedelta(hours=3))
        self.feed.publish(snapshot(GameStatus.FINAL, 3, seed))
        self.run()
        self.clock.advance(timedelta(hours=1, minutes=1))
        self.run()
