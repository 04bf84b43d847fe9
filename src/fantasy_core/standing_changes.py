"""What a stat update changes in a contest's standings, entry by entry.

A LiveStandings holds a contest's live Leaderboard and the ranks and points it last
published. `advance` takes the players' points now, rescores only the holders of the
players whose points changed (the leaderboard's incremental update), and returns every
entry whose rank or points moved, with the top of the standings after the update. A swap
can only exchange players whose games have not started (no points either way), so the
lineups the board holds are re-read only when a game starts (`rebuild`).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from fractions import Fraction

import attrs
from attrs import frozen

from fantasy_core.leaderboard import Leaderboard

TOP_WINDOW = 100  # the standings a contest's stream shows: the top of the board


@frozen
class StandingChange:
    """One entry's place after an update: its rank (shared by ties) and its points."""

    entry_id: str
    rank: int
    points: Fraction


class ChangeSet:
    """The entries an update moved, kept as the plain columns they were computed in (a
    stat update can move tens of thousands of entries; building an object for each costs
    more than the rescoring). Iterating yields StandingChange values, in entry id order."""

    __slots__ = ("_ids", "_index", "_ranks", "_scale", "_scores")

    def __init__(
        self, ids: Sequence[str], ranks: Sequence[int], scores: Sequence[int], scale: int
    ) -> None:
        self._ids, self._ranks, self._scores, self._scale = ids, ranks, scores, scale
        self._index: dict[str, int] | None = None

    @classmethod
    def of(cls, changes: Iterable[StandingChange]) -> ChangeSet:
        listed = list(changes)
        scale = math.lcm(1, *(c.points.denominator for c in listed))
        return cls(
            [c.entry_id for c in listed],
            [c.rank for c in listed],
            [int(c.points * scale) for c in listed],
            scale,
        )

    def __len__(self) -> int:
        return len(self._ids)

    def __bool__(self) -> bool:
        return bool(self._ids)

    def __iter__(self) -> Iterator[StandingChange]:
        return (self._at(i) for i in range(len(self._ids)))

    def _at(self, i: int) -> StandingChange:
        return StandingChange(self._ids[i], self._ranks[i], Fraction(self._scores[i], self._scale))

    def entry_ids(self) -> frozenset[str]:
        return frozenset(self._ids)

    def get(self, entry_id: str) -> StandingChange | None:
        """`entry_id`'s change, or None when the update did not move it."""
        if self._index is None:
            self._index = {entry_id: i for i, entry_id in enumerate(self._ids)}
        i = self._index.get(entry_id)
        return None if i is None else self._at(i)


@frozen
class StandingsUpdate:
    """What one change of the data did to a contest's standings.

    `seq` is the stats change sequence the standings now reflect; `changes` every entry
    whose rank or points differ from the previous update, by entry id; `top` the first
    `TOP_WINDOW` standings after it, best first; `left_top` the entries that were in the
    top before and are not now (with their new place); `total` the number of entries.
    """

    contest_id: str
    seq: int
    state: str
    changes: ChangeSet
    top: tuple[StandingChange, ...]
    left_top: tuple[StandingChange, ...]
    total: int


_NOTHING = ChangeSet((), (), (), 1)


@frozen
class _Published:
    """The standings as last published, replaced whole (one assignment), so a reader in
    another thread never sees half of an update."""

    entry_ids: Sequence[str]
    ranks: Sequence[int]
    scores: Sequence[int]
    scale: int
    top: tuple[StandingChange, ...]
    seq: int
    state: str

    def standing(self, index: int) -> StandingChange:
        return StandingChange(
            self.entry_ids[index], self.ranks[index], Fraction(self.scores[index], self.scale)
        )


class LiveStandings:
    """A contest's standings as last published, kept current update by update.

    One thread updates it (`advance`, `rebuild`, `advance_state`); any thread may read
    what was last published (`standing`, `current`, `seq`, `state`).
    """

    def __init__(
        self,
        contest_id: str,
        board: Leaderboard,
        points: Mapping[str, Fraction],
        seq: int,
        state: str,
        window: int = TOP_WINDOW,
    ) -> None:
        """`board` built on `points` (each player's points, by player id) at `seq`."""
        self.contest_id = contest_id
        self._board = board
        self._points = dict(points)
        self._window = window
        self._published = self._publication(seq, state)

    def _publication(self, seq: int, state: str) -> _Published:
        board = self._board
        top = tuple(
            StandingChange(row.entry_id, row.rank, row.score) for row in board.page(0, self._window)
        )
        return _Published(
            board.entry_ids, board.ranks(), board.scaled_scores(), board.scale, top, seq, state
        )

    @property
    def seq(self) -> int:
        return self._published.seq

    @property
    def state(self) -> str:
        return self._published.state

    def __len__(self) -> int:
        return len(self._published.entry_ids)

    def standing(self, entry_id: str) -> StandingChange:
        """`entry_id`'s place as last published; KeyError for an entry not in the contest."""
        published = self._published
        ids = published.entry_ids
        index = bisect_left(ids, entry_id)
        if index == len(ids) or ids[index] != entry_id:
            raise KeyError(entry_id)
        return published.standing(index)

    def current(self) -> StandingsUpdate:
        """The standings as last published, as an update with no changes (a client
        starting, or one whose last event is no longer known, begins from it)."""
        p = self._published
        return StandingsUpdate(
            self.contest_id, p.seq, p.state, _NOTHING, p.top, (), len(p.entry_ids)
        )

    def advance(self, points: Mapping[str, Fraction], seq: int, state: str) -> StandingsUpdate:
        """Take each player's points at `seq` (absent: 0): rescore the holders of the players
        whose points changed, and return what moved."""
        board = self._board
        for player_id in sorted(set(points) | set(self._points)):
            value = points.get(player_id, Fraction(0))
            if value != self._points.get(player_id, Fraction(0)):
                board.update(player_id, value)
        self._points = dict(points)
        before = self._published
        after = self._publication(seq, state)
        old_scores: Sequence[int] = before.scores
        if after.scale != before.scale:  # scales only grow, as lcm: the old ones divide them
            factor = after.scale // before.scale
            old_scores = [s * factor for s in old_scores]
        changed = [
            i
            for i, (r0, r1, s0, s1) in enumerate(
                zip(before.ranks, after.ranks, old_scores, after.scores, strict=True)
            )
            if r0 != r1 or s0 != s1
        ]
        ids, ranks, scores = after.entry_ids, after.ranks, after.scores
        moved = ChangeSet(
            [ids[i] for i in changed],
            [ranks[i] for i in changed],
            [scores[i] for i in changed],
            after.scale,
        )
        return self._finish(before, after, moved)

    def advance_state(self, state: str) -> StandingsUpdate:
        """The contest moved to `state` (settled, cancelled): nothing else changes."""
        before = self._published
        return self._finish(before, attrs.evolve(before, state=state), _NOTHING)

    def rebuild(
        self, board: Leaderboard, points: Mapping[str, Fraction], seq: int, state: str
    ) -> StandingsUpdate:
        """Replace the board (lineups re-read as a game starts) built on `points` at `seq`;
        what moved is computed entry by entry against the last publication."""
        before = self._published
        was = {entry_id: before.standing(i) for i, entry_id in enumerate(before.entry_ids)}
        self._board = board
        self._points = dict(points)
        after = self._publication(seq, state)
        changes = ChangeSet.of(
            now
            for now in (after.standing(i) for i in range(len(after.entry_ids)))
            if was.get(now.entry_id) != now
        )
        return self._finish(before, after, changes)

    def _finish(self, before: _Published, after: _Published, changes: ChangeSet) -> StandingsUpdate:
        self._published = after
        still = {c.entry_id for c in after.top}
        left = tuple(self.standing(c.entry_id) for c in before.top if c.entry_id not in still)
        return StandingsUpdate(
            self.contest_id, after.seq, after.state, changes, after.top, left, len(after.entry_ids)
        )
