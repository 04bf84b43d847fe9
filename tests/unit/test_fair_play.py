"""Fair play: beginner contests, highly experienced players (permanent), and the monthly
figures published from the ledger."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fantasy_core.contest import Contest, ContestTerms
from fantasy_core.entries import Entry, EntryStatus
from fantasy_core.errors import TierRefused
from fantasy_core.lifecycle import ContestState
from fantasy_core.payments import Payout, payout_fingerprint
from fantasy_core.protection.fairplay import Experience, FairPlay, check_tier, month_figures
from fantasy_core.usecases.joining import JoinRequest
from fantasy_core.usecases.joining_batch import join_many
from fantasy_core.usecases.net_winnings import published_figures, winnings_between
from fantasy_core.usecases.protecting import (
    highly_experienced,
    player_profile,
    review_experience,
)
from fantasy_core.usecases.queries import leaderboard
from support.protection import protect, register
from support.world import LOCK, World, lineup


@pytest.mark.parametrize(
    ("contests", "big_prizes", "beginner", "experienced"),
    [(0, 0, True, False), (49, 0, True, False), (50, 0, False, False), (1_000, 3, False, False),
     (1_001, 0, False, True), (0, 4, False, True)],
)  # fmt: skip
def test_the_tiers_follow_the_published_thresholds(
    contests: int, big_prizes: int, beginner: bool, experienced: bool
) -> None:
    experience = Experience(contests, big_prizes)
    assert (experience.beginner, experience.highly_experienced) == (beginner, experienced)


def test_a_flagged_player_stays_highly_experienced() -> None:
    assert Experience(0, 0, flagged=True).highly_experienced


def test_beginner_contests_refuse_veterans_and_others_refuse_the_highly_experienced() -> None:
    with pytest.raises(TierRefused) as veteran:
        check_tier(FairPlay.BEGINNERS, Experience(50, 0))
    assert veteran.value.reason == "beginner_only"
    check_tier(FairPlay.NO_HIGHLY_EXPERIENCED, Experience(1_000, 3))
    with pytest.raises(TierRefused) as shark:
        check_tier(FairPlay.NO_HIGHLY_EXPERIENCED, Experience(1_001, 0))
    assert shark.value.reason == "highly_experienced_excluded"
    check_tier(FairPlay.OPEN, Experience(5_000, 40))


def test_open_terms_keep_their_bytes_and_a_tier_round_trips() -> None:
    world = World()
    open_terms = world.terms()
    assert "fair_play" not in open_terms.canonical()
    beginners = world.terms(fair_play=FairPlay.BEGINNERS)
    assert ContestTerms.from_canonical(beginners.canonical()) == beginners


def test_month_figures_are_exact() -> None:
    figures = month_figures(
        {"a": -500, "b": 1_000, "c": 0, "d": 250}, {"b": 1_500, "d": 500}, {"b"}
    )
    assert figures.median_net_minor == Fraction(125)
    assert figures.mean_net_minor == Fraction(750, 4)
    assert figures.experienced_share == Fraction(3, 4)
    empty = month_figures({}, {}, set())
    assert (empty.players, empty.median_net_minor, empty.experienced_share) == (0, 0, 0)


@given(st.lists(st.integers(min_value=-(10**6), max_value=10**6), min_size=1, max_size=50))
def test_the_median_splits_the_players_in_half(nets: list[int]) -> None:
    figures = month_figures({str(n): v for n, v in enumerate(nets)}, {}, set())
    below = sum(1 for v in nets if v < figures.median_net_minor)
    above = sum(1 for v in nets if v > figures.median_net_minor)
    assert below <= len(nets) / 2
    assert above <= len(nets) / 2
    assert min(nets) <= figures.mean_net_minor <= max(nets)


def _veteran(world: World, user: str, contests: int) -> None:
    for n in range(contests):
        world.join(world.create(capacity=2, min_entries=1), user, key=f"vet-{n}")


def test_a_veteran_is_refused_a_beginner_contest_before_money_moves() -> None:
    world = World()
    protect(world)
    register(world, "vet")
    register(world, "new")
    _veteran(world, "vet", 50)
    charges = len(world.gateway.charges)
    beginners = world.create(fair_play=FairPlay.BEGINNERS)
    with pytest.raises(TierRefused):
        world.join(beginners, "vet", key="b")
    assert len(world.gateway.charges) == charges
    world.join(beginners, "new", key="b")
    assert len(world.gateway.charges) == charges + 1


def _award_big_prizes(world: World, user: str, count: int) -> None:
    contest = world.create()
    with world.store.unit_of_work() as uow:
        uow.payouts.add_all(
            [
                Payout(payout_fingerprint(contest.contest_id, f"e{n}", "p"),
                       contest.contest_id, f"e{n}", user, "p", 100_000, "usd")
                for n in range(count)
            ]
        )  # fmt: skip
        uow.commit()


def test_four_big_prizes_make_a_player_highly_experienced_for_good() -> None:
    world = World()
    protect(world)
    register(world, "shark")
    _award_big_prizes(world, "shark", 4)
    closed = world.create(fair_play=FairPlay.NO_HIGHLY_EXPERIENCED)
    with pytest.raises(TierRefused):
        world.join(closed, "shark")
    profile = player_profile(world.p, "shark")
    assert profile is not None
    assert profile.highly_experienced_since == world.clock.now()
    assert review_experience(world.p, ["shark"]) == []  # flagged already


def test_the_batch_path_applies_the_tiers_too() -> None:
    world = World()
    protect(world)
    register(world, "shark")
    register(world, "fish")
    _award_big_prizes(world, "shark", 4)
    closed = world.create(fair_play=FairPlay.NO_HIGHLY_EXPERIENCED)
    answers = join_many(
        world.p,
        [JoinRequest(closed.contest_id, u, "k", lineup(n), "pm_card_visa")
         for n, u in enumerate(("shark", "fish"))],
    )  # fmt: skip
    assert isinstance(answers[0], TierRefused)
    assert not isinstance(answers[1], Exception)
    profile = player_profile(world.p, "shark")
    assert profile is not None
    assert profile.highly_experienced_since is not None


def test_net_winnings_from_the_ledger_add_up_to_prizes_less_fees() -> None:
    world = World()
    protect(world)
    players = [f"p{n}" for n in range(4)]
    for player in players:
        register(world, player)
        world.give_account(player)
    contest = world.create()
    for n, player in enumerate(players):
        world.join(contest, player, variant=n)
    world.play_games()
    world.run()
    assert world.state(contest) == "PAID"
    found = winnings_between(world.p, LOCK, LOCK.replace(year=LOCK.year + 1))
    assert set(found) == set(players)
    assert all(w.fees == 1_000 for w in found.values())
    prizes = sum(w.prizes for w in found.values())
    assert prizes == 4 * 1_000 * 9 // 10  # the pool after 10% rake
    figures = published_figures(world.p, LOCK.year, LOCK.month)
    assert figures.players == 4
    assert figures.mean_net_minor == Fraction(prizes - 4_000, 4)
    assert figures.experienced_share == 0


def _played(world: World, user: str, contests: int) -> None:
    """`user` kept a paid entry in `contests` earlier contests (written as the store has them)."""
    terms = world.terms()
    with world.store.unit_of_work() as uow:
        known = set(uow.contests.ids_in_states([ContestState.PAID]))
        for n in range(contests):
            if f"old-{n}" not in known:
                uow.contests.add(Contest(f"old-{n}", terms, state=ContestState.PAID))
        uow.entries.add_all(
            [
                Entry(f"{user}-old-{n}", f"old-{n}", user, f"join-{user}-old-{n}", lineup(0),
                      "pm_card_visa", 1_000, LOCK - timedelta(days=30), EntryStatus.ACTIVE)
                for n in range(contests)
            ]
        )  # fmt: skip
        uow.commit()


def test_the_worker_flags_a_player_past_1000_contests_when_their_contest_settles() -> None:
    """No join of a closed contest is needed: the status is the platform's, and shows on the
    profile and the leaderboard once the 1,001st contest settles (decision 0044)."""
    world = World()
    protect(world)
    for user, before in (("vet", 1_000), ("almost", 999), ("new", 0)):
        register(world, user)
        world.give_account(user)
        _played(world, user, before)
    contest = world.create()
    for n, user in enumerate(("vet", "almost", "new")):
        assert world.join(contest, user, key="k", variant=n).accepted
    assert highly_experienced(world.p, ["vet"]) == set()
    world.play_games()
    assert world.state(contest) == "PAID"
    flagged = {
        user: profile.highly_experienced_since
        for user in ("vet", "almost", "new")
        if (profile := player_profile(world.p, user)) is not None
    }
    assert flagged["vet"] is not None  # 1,001 contests: more than 1,000
    assert flagged["almost"] is None  # 1,000: not more than 1,000
    assert flagged["new"] is None
    with world.store.unit_of_work() as uow:
        trail = uow.audit.for_actor("system")
    assert [r.subject for r in trail if r.action == "player.highly_experienced"] == ["vet"]
    rows = leaderboard(world.p, contest.contest_id, 0, 10).rows
    assert highly_experienced(world.p, [r.user_id for r in rows]) == {"vet"}
