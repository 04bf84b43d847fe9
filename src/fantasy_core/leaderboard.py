"""The leaderboard of a contest: live (one stat update rescores only the entries holding the
player) and the page of standings every reader sees, live or read back from a settlement.

Scores are integers over a common denominator (as in settlement). Entries sit in
buckets by score. An update moves the holders of one player by the same amount,
so it is a few set operations per score bucket (done in C), not a re-sort of the
field. Reading a page walks the distinct scores from the top; entries tied on a
score are listed by entry id and share the competition rank (1, 2, 2, 4) and the
sum of the prizes of the places they occupy, split as settlement splits it
(`split_evenly`: leftover cents to the earliest entry ids), so a live page shows
exactly what settlement would pay on the same points.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from fractions import Fraction

from attrs import frozen

from fantasy_core.lifecycle import ContestState
from fantasy_core.money import split_evenly
from fantasy_core.settlement import common_scale, scale_points


@frozen
class Standing:
    """One entry's place: rank (shared by ties), owner, score, prize (projected until
    settled) and lineup."""

    rank: int
    entry_id: str
    user_id: str
    score: Fraction
    prize_minor: int
    player_ids: tuple[str, ...]


@frozen
class LeaderboardPage:
    """One page of a contest's standings, best first. `final` once settled (read from the
    settlement snapshot); before, scored live with projected prizes. `total` entries in all."""

    contest_id: str
    state: ContestState
    final: bool
    total: int
    rows: tuple[Standing, ...]


class Leaderboard:
    """Standings of one contest's entries, kept current as players' points change."""

    def __init__(
        self,
        lineups: Mapping[str, Sequence[str]],
        points: Mapping[str, Fraction],
        owners: Mapping[str, str],
        place_prizes: Sequence[int] = (),
    ) -> None:
        """`lineups` and `owners` (user ids) by entry id; `points` by player (absent: 0);
        `place_prizes` what each place pays, 1st first (PayoutStructure.place_prizes)."""
        self._ids = sorted(lineups)
        self._lineups = lineups
        self._place_prizes = tuple(place_prizes)
        self._owners = owners
        self._scale = common_scale(points.values())
        self._points = scale_points(points, self._scale)
        # Entry indices by player, as compact arrays (9 million ints would not be).
        self._holders: dict[str, array[int]] = {}
        self._scores: list[int] = []
        get = self._points.get
        for index, entry_id in enumerate(self._ids):
            lineup = lineups[entry_id]
            self._scores.append(sum(get(p, 0) for p in lineup))
            for player in lineup:
                self._holders.setdefault(player, array("i")).append(index)
        self._buckets: dict[int, set[int]] = {}
        for index, score in enumerate(self._scores):
            self._buckets.setdefault(score, set()).add(index)
        self._descending: list[int] | None = None

    def __len__(self) -> int:
        return len(self._ids)

    def update(self, player_id: str, points: Fraction) -> int:
        """Set a player's points; returns how many entries were rescored."""
        if self._scale % points.denominator:
            self._rescale(math.lcm(self._scale, points.denominator))
        new = points.numerator * (self._scale // points.denominator)
        delta = new - self._points.get(player_id, 0)
        self._points[player_id] = new
        held = self._holders.get(player_id)
        if not delta or not held:
            return 0
        holders = set(held)
        scores = self._scores
        for i in holders:
            scores[i] += delta
        moves = [(s, members & holders) for s, members in self._buckets.items()]
        for score, moving in moves:
            if moving:
                remaining = self._buckets[score]
                remaining -= moving
                if not remaining:
                    del self._buckets[score]
        for score, moving in moves:
            if moving:
                self._buckets.setdefault(score + delta, set()).update(moving)
        self._descending = None
        return len(holders)

    def _rescale(self, scale: int) -> None:
        factor = scale // self._scale
        self._scale = scale
        self._points = {p: v * factor for p, v in self._points.items()}
        self._scores = [s * factor for s in self._scores]
        self._buckets = {s * factor: members for s, members in self._buckets.items()}
        self._descending = None

    @property
    def entry_ids(self) -> Sequence[str]:
        """Every entry id, sorted: position i is the entry of index i below."""
        return self._ids

    @property
    def scale(self) -> int:
        """The common denominator of the scores (it only grows, as lcm)."""
        return self._scale

    def scaled_scores(self) -> list[int]:
        """Each entry's score times `scale`, by index (a copy)."""
        return list(self._scores)

    def ranks(self) -> list[int]:
        """Each entry's rank by index (1 + the number scoring strictly more): one pass over
        the distinct scores and one over the entries, whatever moved."""
        rank_of: dict[int, int] = {}
        above = 0
        for score in sorted(self._buckets, reverse=True):
            rank_of[score] = above + 1
            above += len(self._buckets[score])
        return [rank_of[score] for score in self._scores]

    def points_of(self, player_id: str) -> Fraction:
        """The points a player counts for now (0 when never set)."""
        return Fraction(self._points.get(player_id, 0), self._scale)

    def score_of(self, entry_id: str) -> Fraction:
        index = self._index(entry_id)
        return Fraction(self._scores[index], self._scale)

    def rank_of(self, entry_id: str) -> int:
        """1 + the number of entries scoring strictly more."""
        mine = self._scores[self._index(entry_id)]
        return 1 + sum(len(m) for s, m in self._buckets.items() if s > mine)

    def _index(self, entry_id: str) -> int:
        index = bisect_left(self._ids, entry_id)
        if index == len(self._ids) or self._ids[index] != entry_id:
            raise KeyError(entry_id)
        return index

    def page(self, offset: int, limit: int) -> list[Standing]:
        """Standings offset..offset+limit, best first; tied entries share a rank."""
        if offset < 0 or limit < 0:
            raise ValueError(f"offset and limit must be non-negative, got {offset}, {limit}")
        if self._descending is None:
            self._descending = sorted(self._buckets, reverse=True)
        rows: list[Standing] = []
        seen = 0
        end = offset + limit
        for score in self._descending:
            members = self._buckets[score]
            if seen + len(members) > offset:
                value = Fraction(score, self._scale)
                shared = sum(self._place_prizes[seen : seen + len(members)])
                prizes = split_evenly(shared, len(members))
                for position, index in enumerate(sorted(members), start=seen):
                    if offset <= position < end:
                        rows.append(self._standing(seen + 1, index, value, prizes[position - seen]))
            seen += len(members)
            if seen >= end:
                break
        return rows

    def _standing(self, rank: int, index: int, score: Fraction, prize: int) -> Standing:
        entry_id = self._ids[index]
        return Standing(
            rank=rank,
            entry_id=entry_id,
            score=score,
            prize_minor=prize,
            user_id=self._owners[entry_id],
            player_ids=tuple(self._lineups[entry_id]),
        )
