"""Operator stat corrections: validated like provider data, audited on every contest they touch."""

from __future__ import annotations

from collections.abc import Sequence

from fantasy_core.contest import Contest
from fantasy_core.errors import InvalidCorrection, InvalidStatLine
from fantasy_core.lifecycle import ContestState
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork
from fantasy_core.scoring import parse_stat_value
from fantasy_core.stats import RELATED_STATS, StatCorrection, StatLine, validate_line
from fantasy_core.usecases.standings import live_ranks
from fantasy_core.usecases.stats import effective_lines


def correct_stat(
    p: Platform, slate_id: str, player_id: str, stat: str, value_text: str, reason: str, actor: str
) -> list[str]:
    """Record an operator's correction of one stat, with a reason; returns the affected contests.

    A correction passes the rules provider data must pass (validate_correction), or it is
    refused with InvalidCorrection. It is audited on every contest of the slate; one that
    reorders the standings of a contest not yet settled is alerted. Contests already
    settled keep their result: the correction is recorded and alerted for them, but
    changes nothing.
    """
    with p.uow() as uow:
        contests = [
            contest
            for contest in map(uow.contests.get, uow.contests.ids_of_slate(slate_id))
            if contest.state is not ContestState.CANCELLED
        ]
        validate_correction(uow, contests, slate_id, player_id, stat, value_text, reason)
        settled = [c.contest_id for c in contests if c.state in _SETTLED]
        affected = [c for c in contests if c.state not in _SETTLED]
        before = {c.contest_id: live_ranks(uow, c) for c in affected}
        uow.stats.add_correction(
            slate_id, StatCorrection(player_id, stat, value_text, reason, actor, p.clock.now())
        )
        reranked = [c.contest_id for c in affected if live_ranks(uow, c) != before[c.contest_id]]
        what = f"{player_id} {stat} = {value_text}: {reason}"
        for contest in contests:
            cid = contest.contest_id
            effect = (
                "settled already, its result is unchanged"
                if cid in settled
                else "the standings change"
                if cid in reranked
                else "the standings keep their order"
            )
            p.audit(
                uow,
                "stats.corrected",
                contest_id=cid,
                subject=f"{slate_id}/{player_id}/{stat}",
                actor=actor,
                detail=f"{what}; {effect}",
            )
        uow.commit()
    for cid in reranked:
        p.alert(
            f"correction-reranks-{cid}",
            f"operator {actor}'s correction {what} changes the standings of {cid}, "
            "which settles on them",
            contest_id=cid,
        )
    if settled:
        p.alert(
            f"late-correction-{slate_id}-{player_id}-{stat}",
            f"correction of {player_id} {stat} arrived after settlement of {settled}; "
            "their results are unchanged",
        )
    return [c.contest_id for c in affected]


_SETTLED = (ContestState.SETTLED, ContestState.PAID)


def validate_correction(
    uow: UnitOfWork,
    contests: Sequence[Contest],
    slate_id: str,
    player_id: str,
    stat: str,
    value_text: str,
    reason: str,
) -> None:
    """Refuse, with InvalidCorrection naming the rule, a correction that provider data with
    the same value would not pass, or that names what the slate's contests do not know.

    The slate must have contests (`contests`, those of the slate not cancelled), the player
    must be in their pool, the stat must be one their rules score (or one validation reads,
    such as receptions), and the player's line with the correction applied, on top of the
    latest data and earlier corrections, must pass every line rule of validate_snapshot.
    """
    if not reason.strip():
        raise InvalidCorrection("reason", "a stat correction needs a reason")
    try:
        value = parse_stat_value(value_text)
    except InvalidStatLine as error:
        raise InvalidCorrection("not_a_number", f"{stat} = {value_text!r}: {error}") from error
    if not contests:
        raise InvalidCorrection("unknown_slate", f"no contest to correct is on slate {slate_id!r}")
    player = next(
        (found for c in contests if (found := c.terms.pool.get(player_id)) is not None), None
    )
    if player is None:
        raise InvalidCorrection(
            "unknown_player", f"player {player_id!r} is in no contest's pool on {slate_id}"
        )
    vocabulary = RELATED_STATS.union(*(c.terms.rules.stat_keys for c in contests))
    if stat not in vocabulary:
        raise InvalidCorrection(
            "unknown_stat",
            f"no contest on {slate_id} scores {stat!r}; "
            f"known stats: {', '.join(sorted(vocabulary))}",
        )
    stats = dict(effective_lines(uow, slate_id).get(player_id, {}))
    stats[stat] = value
    try:
        line = StatLine.of(player_id, player.team, player.game_id, stats)
    except InvalidStatLine as error:  # pragma: no cover - every key and value was checked
        raise InvalidCorrection("not_a_number", str(error)) from error
    problems = validate_line(line)
    if problems:
        raise InvalidCorrection(problems[0].rule, "; ".join(x.message for x in problems))
