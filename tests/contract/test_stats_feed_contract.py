"""The StatsFeed contract, run against every adapter: replay, programmable and SportsDataIO."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import attrs
import pytest

from adapters.feeds.replay import ReplayFeed
from adapters.feeds.sportsdataio import SportsDataIOFeed
from fantasy_core.errors import UnknownSlate
from fantasy_core.lineups import PlayerPool, Position, SlatePlayer
from fantasy_core.ports import StatsFeed
from fantasy_core.stats import (
    FeedSnapshot,
    Game,
    GameStatus,
    StatLine,
    validate_snapshot,
)
from support.programmable_feed import ProgrammableFeed
from support.settable_clock import SettableClock
from support.sportsdataio_server import serving

MINUTE = timedelta(minutes=1)


@attrs.frozen
class Harness:
    """One adapter under test: the feed, its clock, a slate, and the clock times worth asking
    at (ascending, from before the slate to after it); `fresh` builds another feed over the
    same data, to compare answers across instances."""

    feed: StatsFeed
    clock: SettableClock
    slate_id: str
    times: tuple[datetime, ...]
    fresh: Callable[[SettableClock], StatsFeed]


def replay_harness(csv_path: Path) -> Harness:
    clock = SettableClock(datetime(2025, 9, 1, tzinfo=UTC))
    feed = ReplayFeed(csv_path, clock)
    slate_id = feed.slates()[0]
    kickoffs = sorted({game.kickoff for game in feed.snapshot(slate_id).games})
    offsets = (-1, 0, 90, 179, 180)
    times = {k + offset * MINUTE for k in kickoffs for offset in offsets}
    times |= {kickoffs[0] - timedelta(days=3), kickoffs[-1] + timedelta(days=30)}
    return Harness(feed, clock, slate_id, tuple(sorted(times)), lambda c: ReplayFeed(csv_path, c))


SPORTSDATAIO_KEY = "contract-suite-key"


@contextmanager
def sportsdataio_harness(csv_path: Path) -> Iterator[Harness]:
    """The SportsDataIO adapter against a local server serving the replay in the provider's
    shape (tests/support/sportsdataio_server.py); fewer times than the replay's, since every
    snapshot is three HTTP requests."""
    clock = SettableClock(datetime(2025, 9, 1, tzinfo=UTC))
    with serving(ReplayFeed(csv_path, clock), SPORTSDATAIO_KEY) as server:

        def feed(feed_clock: SettableClock) -> SportsDataIOFeed:
            return SportsDataIOFeed(server.url, SPORTSDATAIO_KEY, clock=feed_clock)

        with feed(clock) as first:
            slate_id = first.slates()[0]
            kickoffs = sorted({game.kickoff for game in first.snapshot(slate_id).games})
            times = {k + offset * MINUTE for k in kickoffs for offset in (90, 180)}
            times |= {kickoffs[0] - timedelta(days=3), kickoffs[0] - MINUTE, kickoffs[0]}
            times.add(kickoffs[-1] + timedelta(days=30))
            yield Harness(first, clock, slate_id, tuple(sorted(times)), feed)


PROGRAMMED_SLATE = "programmed-slate"
T0 = datetime(2025, 9, 7, 12, 0, tzinfo=UTC)
KICKOFF = datetime(2025, 9, 7, 17, 0, tzinfo=UTC)


def _programmed_snapshots() -> list[tuple[datetime | None, FeedSnapshot]]:
    def games(first: GameStatus, second: GameStatus) -> tuple[Game, ...]:
        return (
            Game("g1", "BUF", "BAL", KICKOFF, first),
            Game("g2", "PHI", "DAL", KICKOFF + timedelta(hours=3), second),
        )

    def lines(scale: int) -> tuple[StatLine, ...]:
        return (
            StatLine.of("p-allen", "BUF", "g1", {"passing_yards": 100 * scale, "receptions": 0}),
            StatLine.of("p-henry", "BAL", "g1", {"rushing_yards": 40 * scale, "carries": scale}),
            StatLine.of("DST-BUF", "BUF", "g1", {"dst_sacks": Fraction(scale, 2)}),
        )

    s, p, f = GameStatus.SCHEDULED, GameStatus.IN_PROGRESS, GameStatus.FINAL
    dal = StatLine.of("p-hurts", "PHI", "g2", {"passing_yards": 152, "carries": 14})
    return [
        (None, FeedSnapshot(PROGRAMMED_SLATE, 0, games(s, s), ())),
        (KICKOFF, FeedSnapshot(PROGRAMMED_SLATE, 1, games(p, s), lines(0))),
        (KICKOFF + 90 * MINUTE, FeedSnapshot(PROGRAMMED_SLATE, 2, games(p, s), lines(1))),
        (KICKOFF + 180 * MINUTE, FeedSnapshot(PROGRAMMED_SLATE, 3, games(f, p), lines(3))),
        (KICKOFF + 360 * MINUTE, FeedSnapshot(PROGRAMMED_SLATE, 4, games(f, f), (*lines(3), dal))),
    ]


def programmable_feed(clock: SettableClock) -> ProgrammableFeed:
    feed = ProgrammableFeed(clock)
    for visible_from, snapshot in _programmed_snapshots():
        feed.publish(snapshot, visible_from or T0 - timedelta(days=1))
    players = (
        SlatePlayer("p-allen", "Josh Allen", Position.QB, "BUF", "g1", 7_000),
        SlatePlayer("p-henry", "Derrick Henry", Position.RB, "BAL", "g1", 8_000),
        SlatePlayer("p-hurts", "Jalen Hurts", Position.QB, "PHI", "g2", 6_800),
        SlatePlayer("DST-BUF", "BUF DST", Position.DST, "BUF", "g1", 3_000),
    )
    feed.set_pool(PlayerPool.of(PROGRAMMED_SLATE, players))
    return feed


def programmable_harness() -> Harness:
    clock = SettableClock(T0)
    times = sorted({t for t, _ in _programmed_snapshots() if t} | {T0, KICKOFF + 400 * MINUTE})
    times += [t + MINUTE for t in times]
    return Harness(
        programmable_feed(clock), clock, PROGRAMMED_SLATE, tuple(sorted(times)), programmable_feed
    )


@pytest.fixture(scope="module", params=["replay", "programmable", "sportsdataio"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    # Module scope: the replay feed reads its file once for the whole suite. Each test sets
    # the clock it needs, so sharing the feed shares only its caches.
    if request.param == "replay":
        yield replay_harness(request.getfixturevalue("nflverse_player_stats_csv"))
    elif request.param == "sportsdataio":
        with sportsdataio_harness(request.getfixturevalue("nflverse_player_stats_csv")) as h:
            yield h
    else:
        yield programmable_harness()


def snapshots_over_time(h: Harness) -> list[FeedSnapshot]:
    seen = []
    for moment in h.times:
        h.clock.now = moment
        seen.append(h.feed.snapshot(h.slate_id))
    return seen


def test_the_feed_lists_at_least_one_slate_sorted(harness: Harness) -> None:
    slates = harness.feed.slates()
    assert slates
    assert list(slates) == sorted(slates)
    assert harness.slate_id in slates


def test_an_unknown_slate_is_refused_by_name(harness: Harness) -> None:
    with pytest.raises(UnknownSlate, match="no-such-slate"):
        harness.feed.snapshot("no-such-slate")
    with pytest.raises(UnknownSlate, match="no-such-slate"):
        harness.feed.player_pool("no-such-slate")


def test_every_snapshot_is_valid_alone_and_after_the_previous_one(harness: Harness) -> None:
    previous: FeedSnapshot | None = None
    for snapshot in snapshots_over_time(harness):
        assert snapshot.slate_id == harness.slate_id
        assert validate_snapshot(snapshot) == ()
        assert validate_snapshot(snapshot, previous) == ()
        previous = snapshot


def test_the_version_never_decreases_as_the_clock_advances(harness: Harness) -> None:
    versions = [snapshot.version for snapshot in snapshots_over_time(harness)]
    assert versions == sorted(versions)
    assert versions[0] < versions[-1]


def test_a_game_once_final_stays_final(harness: Harness) -> None:
    final: set[str] = set()
    for snapshot in snapshots_over_time(harness):
        now_final = {game.game_id for game in snapshot.games if game.is_final}
        assert final <= now_final
        final = now_final
    assert final == {game.game_id for game in snapshot.games}
    assert snapshot.all_final_or_off()


def test_the_slate_goes_from_not_started_to_started(harness: Harness) -> None:
    snapshots = snapshots_over_time(harness)
    assert not snapshots[0].any_started(harness.times[0])
    assert snapshots[-1].any_started(harness.times[-1])


def test_the_same_clock_time_gives_the_same_answers_from_any_instance(harness: Harness) -> None:
    other_clock = SettableClock(harness.times[0])
    other = harness.fresh(other_clock)
    for moment in harness.times[:: max(1, len(harness.times) // 8)]:
        harness.clock.now = other_clock.now = moment
        first = harness.feed.snapshot(harness.slate_id).canonical_bytes()
        assert harness.feed.snapshot(harness.slate_id).canonical_bytes() == first
        assert other.snapshot(harness.slate_id).canonical_bytes() == first
    assert other.player_pool(harness.slate_id) == harness.feed.player_pool(harness.slate_id)


def test_every_player_of_the_pool_plays_in_a_game_of_the_slate(harness: Harness) -> None:
    harness.clock.now = harness.times[0]
    pool = harness.feed.player_pool(harness.slate_id)
    games = {game.game_id: game for game in harness.feed.snapshot(harness.slate_id).games}
    assert pool.slate_id == harness.slate_id
    assert len(pool) > 0
    for player in pool.players.values():
        assert player.game_id in games
        assert player.team in games[player.game_id].teams


def test_the_schedule_lists_every_slate_with_the_kickoffs_its_snapshot_shows(
    harness: Harness,
) -> None:
    harness.clock.now = harness.times[0]
    schedules = harness.feed.schedules()
    assert [s.slate_id for s in schedules] == list(harness.feed.slates())
    [schedule] = [s for s in schedules if s.slate_id == harness.slate_id]
    games = harness.feed.snapshot(harness.slate_id).games
    assert sorted(schedule.kickoffs) == sorted(game.kickoff for game in games)
    assert schedule.first_kickoff == min(game.kickoff for game in games)
    assert schedule.sport == "nfl"
