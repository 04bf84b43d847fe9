"""Properties of lineup changes: whatever edits and swaps are tried, in whatever order and at
whatever times, no change ever moves a player whose game has started, and the lineup an
entry holds is always valid under the contest's template."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from fantasy_core.errors import InvalidLineup, LineupChangeRefused
from fantasy_core.game_starts import GameStarts
from fantasy_core.lineups import Lineup, sport_template, validate_lineup
from fantasy_core.stats import GameStatus
from fantasy_core.usecases.lineups import edit_lineup
from support.staggered import KICKOFFS, LATE, staggered
from support.world import LOCK, POOL, START, World, lineup

TEMPLATE = sport_template("draftkings_nfl_classic")
PLAYERS = tuple(POOL.players.values())


@st.composite
def candidate(draw: st.DrawFn) -> Lineup:
    """A lineup to try: one player changed in a valid one, or a whole random roster (often
    invalid: wrong position, a player twice, one team)."""
    if draw(st.booleans()):
        base = lineup(draw(st.integers(0, 7)))
        picks = list(base.picks)
        index = draw(st.integers(0, len(picks) - 1))
        picks[index] = (picks[index][0], draw(st.sampled_from(PLAYERS)).player_id)
        return Lineup(picks)
    slots = TEMPLATE.slots
    eligible = [[p for p in PLAYERS if slot.accepts(p.position)] for slot in slots]
    chosen = [draw(st.sampled_from(players)).player_id for players in eligible]
    return Lineup(tuple(zip(TEMPLATE.slot_names, chosen, strict=True)))


# A step: wait some minutes, maybe let the feed report g2 under way early, then try a change.
steps = st.lists(st.tuples(st.integers(0, 90), st.booleans(), candidate()), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(steps=steps, late_swap=st.booleans())
def test_no_change_moves_a_started_player_and_every_held_lineup_is_valid(
    steps: list[tuple[int, bool, Lineup]], late_swap: bool
) -> None:
    world = World()
    world.feed.publish(staggered(1, GameStatus.SCHEDULED, GameStatus.SCHEDULED))
    contest = world.create(late_swap=late_swap, kickoffs=KICKOFFS)
    world.join(contest, "bob", variant=2)
    entry_id = world.join(contest, "ann").entry_id
    world.clock.set(LOCK - timedelta(minutes=60))
    reported_early = False
    for minutes, report, wanted in steps:
        world.clock.advance(timedelta(minutes=minutes))
        now = world.clock.now()
        if report and not reported_early and LOCK <= now < LATE:
            world.feed.publish(staggered(2, GameStatus.IN_PROGRESS, GameStatus.IN_PROGRESS))
            world.run()
            reported_early = True
        with world.store.unit_of_work() as uow:
            before = uow.entries.get(entry_id).lineup
            starts = GameStarts.of(KICKOFFS, uow.stats.latest(contest.terms.slate_id))
        try:
            edit_lineup(world.p, entry_id, "ann", wanted)
            accepted = True
        except (InvalidLineup, LineupChangeRefused):
            accepted = False
        with world.store.unit_of_work() as uow:
            after = uow.entries.get(entry_id).lineup
        assert after == (wanted if accepted else before)  # a refusal changes nothing
        validate_lineup(TEMPLATE, POOL, after)  # always valid under the template
        if after != before:
            assert now < LOCK or late_swap
            for (slot, was), (_, now_in) in zip(before.picks, after.picks, strict=True):
                if was != now_in:
                    for player_id in (was, now_in):
                        game = POOL.players[player_id].game_id
                        assert not starts.has_started(game, now), (slot, player_id, now)
    assert world.clock.now() >= START
