"""Fair-play tiers: beginner contests, highly experienced players (Michigan R 432.532a),
and the monthly figures an operator publishes (a Mississippi rule)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from fractions import Fraction

from attrs import frozen

from fantasy_core.errors import TierRefused

# A beginner has entered fewer than this many paid contests.
BEGINNER_CONTESTS = 50
# Highly experienced: more than 1,000 paid contests entered, or more than 3 prizes of at
# least $1,000 (in minor units).
EXPERIENCED_CONTESTS = 1_000
BIG_PRIZE_MINOR = 100_000
EXPERIENCED_BIG_PRIZES = 3


class FairPlay(enum.Enum):
    """Who a contest is open to, fixed in its terms."""

    OPEN = "open"
    BEGINNERS = "beginners"  # players with fewer than 50 paid contests entered
    NO_HIGHLY_EXPERIENCED = "no_highly_experienced"


@frozen
class Experience:
    """What the tiers are decided by: paid contests entered, prizes of at least $1,000 won,
    and whether the platform found the player highly experienced already (permanent)."""

    contests_entered: int
    big_prizes: int
    flagged: bool = False

    @property
    def highly_experienced(self) -> bool:
        return (
            self.flagged
            or self.contests_entered > EXPERIENCED_CONTESTS
            or self.big_prizes > EXPERIENCED_BIG_PRIZES
        )

    @property
    def beginner(self) -> bool:
        return self.contests_entered < BEGINNER_CONTESTS and not self.highly_experienced


def check_tier(fair_play: FairPlay, experience: Experience) -> None:
    """TierRefused if a contest open to `fair_play` is not open to this player."""
    if fair_play is FairPlay.BEGINNERS and not experience.beginner:
        raise TierRefused(
            "beginner_only",
            f"this contest is for beginners: players with fewer than {BEGINNER_CONTESTS} "
            f"paid contests entered (you entered {experience.contests_entered})",
        )
    if fair_play is FairPlay.NO_HIGHLY_EXPERIENCED and experience.highly_experienced:
        raise TierRefused(
            "highly_experienced_excluded",
            "this contest is closed to highly experienced players (more than 1,000 contests "
            "entered or more than 3 prizes of $1,000 or more)",
        )


@frozen
class MonthFigures:
    """A month's published figures: the median and mean net winnings of the players who
    entered a contest that month (cents, exact), and the share of the prize money won by
    highly experienced players (0 when no prize was paid)."""

    players: int
    median_net_minor: Fraction
    mean_net_minor: Fraction
    prizes_minor: int
    experienced_share: Fraction


def month_figures(
    net_by_player: Mapping[str, int],
    prizes_by_player: Mapping[str, int],
    highly_experienced: Iterable[str],
) -> MonthFigures:
    """The figures from each player's net winnings (prizes minus fees kept) and prizes."""
    nets = sorted(net_by_player.values())
    count = len(nets)
    if count == 0:
        median = mean = Fraction(0)
    else:
        middle = count // 2
        median = (
            Fraction(nets[middle]) if count % 2 else Fraction(nets[middle - 1] + nets[middle], 2)
        )
        mean = Fraction(sum(nets), count)
    experienced = set(highly_experienced)
    total = sum(prizes_by_player.values())
    theirs = sum(v for user, v in prizes_by_player.items() if user in experienced)
    share = Fraction(theirs, total) if total else Fraction(0)
    return MonthFigures(count, median, mean, total, share)
