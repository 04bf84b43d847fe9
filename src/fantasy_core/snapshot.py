"""Settlement snapshots: everything a result depends on, in one canonical, hashable document.

Anyone holding a snapshot can recompute the result from it alone (`recompute`)
and check that the recomputation is byte-for-byte the snapshot and hashes to the
published SHA-256. The format: UTF-8 JSON, keys sorted, no whitespace, ASCII
only; numbers of money are integers of minor units; points and stat values are
exact decimals written as strings.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from itertools import islice
from json.encoder import encode_basestring_ascii
from typing import Any

from attrs import frozen

from fantasy_core.codec import Reader, canonical_bytes, sha256_of
from fantasy_core.errors import DomainError
from fantasy_core.payouts import payout_from_canonical
from fantasy_core.scoring import ScoringRules, format_points
from fantasy_core.settlement import PrizePool, Standings, prize_pool, settle_lineups

SNAPSHOT_VERSION = 1


class InvalidSnapshot(DomainError):
    """A settlement snapshot that is malformed or does not recompute to itself."""


@frozen
class FeedReference:
    """Which provider data a settlement used: the slate, the feed's version and its hash."""

    slate_id: str
    version: int
    sha256: str


_READ = Reader(InvalidSnapshot)


@frozen
class EntryRow:
    """One standing as a snapshot's "entries" lists it: the one statement of a row's layout.

    In the document a row is [entry id, user id, [player ids], score, rank, prize]: the
    score an exact decimal string (format_points), the prize in minor units. `written` and
    `read` are its writer and reader; `_entries_json` writes the same layout as text, for
    speed, and tests/unit/test_canonical_fast_paths.py proves the two write the same bytes.
    """

    entry_id: str
    user_id: str
    player_ids: tuple[str, ...]
    score: str
    rank: int
    prize: int

    @property
    def points(self) -> Fraction:
        return Fraction(self.score)

    def written(self) -> list[object]:
        """The row as the document holds it."""
        return _row(self.entry_id, self.user_id, self.player_ids, self.score, self.rank, self.prize)

    @classmethod
    def read(cls, row: object, where: str) -> EntryRow:
        """The row at `where` (e.g. "entries[3]"); InvalidSnapshot saying what is malformed."""
        items = _READ.items(row, where)
        if len(items) != _ROW_LENGTH:
            raise InvalidSnapshot(f"{where}: expected {_ROW_LENGTH} items, got {row!r}")
        entry_id, user_id, player_ids, score, rank, prize = items
        return cls(
            entry_id=_READ.text(entry_id, f"{where}.entry_id"),
            user_id=_READ.text(user_id, f"{where}.user_id"),
            player_ids=tuple(
                _READ.text(player, f"{where}.player_ids[{i}]")
                for i, player in enumerate(_READ.items(player_ids, f"{where}.player_ids"))
            ),
            score=_READ.text(score, f"{where}.score"),
            rank=_READ.integer(rank, f"{where}.rank"),
            prize=_READ.integer(prize, f"{where}.prize"),
        )


_ROW_LENGTH = 6


def _row(
    entry_id: object,
    user_id: object,
    player_ids: Sequence[object],
    score: str,
    rank: int,
    prize: int,
) -> list[object]:
    return [entry_id, user_id, list(player_ids), score, rank, prize]


def entry_rows(snapshot: bytes) -> list[EntryRow]:
    """Every row of a snapshot's "entries", in its order (best first); InvalidSnapshot if any
    is malformed."""
    try:
        rows = json.loads(snapshot)["entries"]
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidSnapshot(f"malformed snapshot: {error!r}") from error
    return [
        EntryRow.read(row, f"entries[{i}]") for i, row in enumerate(_READ.items(rows, "entries"))
    ]


class _JsonStrings(dict[str, str]):
    """Strings as JSON writes them (ensure_ascii), each distinct one encoded once."""

    def __missing__(self, text: str) -> str:
        encoded = self[text] = encode_basestring_ascii(text)
        return encoded


class _JsonScores(dict[int, str]):
    """Scores (scaled by `scale`) as JSON strings of exact decimals, as format_points writes
    them; each distinct score is formatted once (a contest has far fewer than entries)."""

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale

    def __missing__(self, scaled: int) -> str:
        encoded = self[scaled] = encode_basestring_ascii(
            format_points(Fraction(scaled, self.scale))
        )
        return encoded


# Entries written per chunk: bounds the transient text while a million rows are written.
_CHUNK = 20_000


def _entries_json(
    standings: Standings, users: Sequence[str], lineups: Sequence[Sequence[str]]
) -> bytes:
    """The rows of "entries", comma-separated, exactly as canonical_bytes writes them.

    A row is laid out as EntryRow says (its `written` form). json.dumps writes a
    list as "[" + items joined by "," + "]" (separators=(",", ":")), a string with
    encode_basestring_ascii (its own escaping when ensure_ascii=True) and an int with
    int.__repr__ (ranks and prizes are ints; an f-string formats an int the same way). The
    same text written out here, chunk by chunk, takes a third of the time and memory of
    building the rows as lists for json.dumps.
    """
    string = encode_basestring_ascii
    player = _JsonStrings().__getitem__
    score = _JsonScores(standings.scale).__getitem__
    rows = zip(
        standings.entry_ids,
        standings.arrange(users),
        standings.arrange(lineups),
        standings.scaled_scores,
        standings.ranks,
        standings.prizes,
        strict=True,
    )
    chunks: list[bytes] = []
    while chunk := list(islice(rows, _CHUNK)):
        text = ",".join(
            [
                f"[{string(entry_id)},{string(user)},[{','.join(map(player, lineup))}],"
                f"{score(scaled)},{rank},{prize}]"
                for entry_id, user, lineup, scaled, rank, prize in chunk
            ]
        )
        chunks.append(text.encode("ascii"))
    return b",".join(chunks)


def build_snapshot(
    contest_id: str,
    terms: Mapping[str, object],
    feed: FeedReference | None,
    stat_lines: Mapping[str, Mapping[str, Fraction]],
    users: Sequence[str],
    lineups: Sequence[Sequence[str]],
    pool: PrizePool,
    standings: Standings,
) -> bytes:
    """The canonical snapshot of a settlement; `terms` is ContestTerms.canonical().

    `users` and `lineups` are the entries' in the order the entries were given to
    settlement (`standings.order` says where each standing came from). The result is
    canonical_bytes of the document below with "entries" holding one row per standing;
    the rows, nearly all of a big snapshot, are written by `_entries_json` and spliced
    into the place of the empty list.
    """
    document = {
        "version": SNAPSHOT_VERSION,
        "contest_id": contest_id,
        "terms": dict(terms),
        "feed": None if feed is None else [feed.slate_id, feed.version, feed.sha256],
        "stat_lines": {
            player: {stat: format_points(value) for stat, value in line.items()}
            for player, line in stat_lines.items()
        },
        "prize_pool": _prize_pool_json(pool),
        "entries": [],
    }
    outline = canonical_bytes(document)
    try:
        # Keys are sorted: "contest_id" comes first and "entries" second, so the empty
        # list's place is right after this head.
        head = b'{"contest_id":' + _ascii(encode_basestring_ascii(contest_id)) + b',"entries":['
        rows = _entries_json(standings, users, lineups)
    except TypeError:
        # An id that is not a string (no settlement has one, and recompute refuses a
        # snapshot with one): json.dumps writes whatever it is, as it always did.
        document["entries"] = _entry_rows(standings, users, lineups)
        return canonical_bytes(document)
    if not outline.startswith(head + b"]"):
        raise InvalidSnapshot(f"unexpected outline of a snapshot: {outline[:200]!r}")
    return b"".join((head, rows, outline[len(head) :]))


def _prize_pool_json(pool: PrizePool) -> dict[str, int]:
    """The prize pool; "surplus" only for fixed-amount tables, so older snapshots are unchanged."""
    counts = {
        "collected": pool.collected,
        "rake": pool.rake,
        "overlay": pool.overlay,
        "pool": pool.pool,
    }
    if pool.surplus is not None:
        counts["surplus"] = pool.surplus
    return counts


def _ascii(text: str) -> bytes:
    return text.encode("ascii")


def _entry_rows(
    standings: Standings, users: Sequence[object], lineups: Sequence[Sequence[object]]
) -> list[list[object]]:
    """The rows of "entries" as lists, for json.dumps (what _entries_json writes directly)."""
    return [
        _row(entry_id, user, lineup, format_points(Fraction(scaled, standings.scale)), rank, prize)
        for entry_id, user, lineup, scaled, rank, prize in zip(
            standings.entry_ids,
            standings.arrange(users),
            standings.arrange(lineups),
            standings.scaled_scores,
            standings.ranks,
            standings.prizes,
            strict=True,
        )
    ]


def recompute(snapshot: bytes) -> bytes:
    """Recompute a settlement from its snapshot alone and return the canonical result.

    The snapshot is genuine when `recompute(s) == s`. The rules are rebuilt from
    their canonical form and must hash to the fingerprint recorded in the terms;
    scores, ranks, prizes and the prize pool are all computed afresh.
    """
    try:
        document = json.loads(snapshot)
        terms = document["terms"]
        rules = ScoringRules.from_canonical(terms["rules"])
        if rules.fingerprint != terms["rules_fingerprint"]:
            raise InvalidSnapshot(
                f"the rules hash to {rules.fingerprint}, "
                f"not the recorded {terms['rules_fingerprint']}"
            )
        structure = payout_from_canonical(terms["payout"])
        lines = {
            player: {stat: Fraction(value) for stat, value in line.items()}
            for player, line in document["stat_lines"].items()
        }
        rows = [
            EntryRow.read(row, f"entries[{i}]")
            for i, row in enumerate(_READ.items(document["entries"], "entries"))
        ]
        # Keyed by entry id: a snapshot listing an entry twice recomputes to one row for it.
        lineups = {row.entry_id: row.player_ids for row in rows}
        users = {row.entry_id: row.user_id for row in rows}
        guaranteed = terms["guaranteed_pool"]
        fee = terms["entry_fee"]
        pool = prize_pool(fee * len(rows), terms["rake_bps"], guaranteed, len(rows), structure)
        points = {player: rules.score(line) for player, line in lines.items()}
        entry_ids = list(lineups)
        standings = settle_lineups(
            entry_ids, list(lineups.values()), points, structure, pool.pool, fee
        )
        feed = document["feed"]
        reference = None if feed is None else FeedReference(feed[0], feed[1], feed[2])
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise InvalidSnapshot(f"malformed snapshot: {error!r}") from error
    return build_snapshot(
        document["contest_id"],
        terms,
        reference,
        lines,
        [users[entry_id] for entry_id in entry_ids],
        list(lineups.values()),
        pool,
        standings,
    )


# What follows the entries in a snapshot: keys are sorted, and "feed" comes right after
# "entries". Outside a string, no row has "]" followed by ',"feed":' (a lineup's "]" is
# followed by a score, a row's by "[" or the end of the list); inside one, every '"' is
# escaped. So the first occurrence is where the entries end.
_AFTER_ENTRIES = b'],"feed":'
_HEAD = b'{"contest_id":'


def _document_without_entries(snapshot: bytes) -> Any:
    """The snapshot's document but for its entries, which are skipped, not parsed.

    The entries are nearly all of a big snapshot, and reading the rules and stat
    lines of a million-entry settlement should not parse a million rows.
    """
    end = snapshot.find(_AFTER_ENTRIES)
    if snapshot.startswith(_HEAD) and end != -1:
        return json.loads(b"{" + snapshot[end + 2 :])
    return json.loads(snapshot)


def scoring_used(snapshot: bytes) -> tuple[ScoringRules, dict[str, dict[str, Fraction]]]:
    """The rules and the stat lines a settlement scored with, read from its snapshot.

    These are final: what `recompute` scores with, whatever the feed or an operator
    says after settlement. The rules must hash to the fingerprint recorded in the terms.
    """
    try:
        document = _document_without_entries(snapshot)
        terms = document["terms"]
        rules = ScoringRules.from_canonical(terms["rules"])
        recorded = terms["rules_fingerprint"]
        lines = {
            player: {stat: Fraction(value) for stat, value in line.items()}
            for player, line in document["stat_lines"].items()
        }
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
        raise InvalidSnapshot(f"malformed snapshot: {error!r}") from error
    if rules.fingerprint != recorded:
        raise InvalidSnapshot(f"the rules hash to {rules.fingerprint}, not the recorded {recorded}")
    return rules, lines


class ScoringMemo:
    """What settlements scored with (`scoring_used`), remembered by snapshot digest.

    A settled contest's explanations all need the rules and stat lines of its snapshot,
    which for a million entries is 170 MB to read and check. A snapshot never changes
    once stored and its digest names its content, so what was read under a digest holds
    for every later request; the `size` most recently used are kept.
    """

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._kept: OrderedDict[str, tuple[ScoringRules, dict[str, dict[str, Fraction]]]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def get(
        self, digest: str, load: Callable[[], bytes]
    ) -> tuple[ScoringRules, dict[str, dict[str, Fraction]]]:
        """The scoring of the snapshot named `digest`, `load`ed (and checked) the first time.

        Raises InvalidSnapshot when the loaded bytes do not hash to `digest`.
        """
        with self._lock:
            kept = self._kept.get(digest)
            if kept is not None:
                self._kept.move_to_end(digest)
                return kept
        document = load()
        actual = sha256_of(document)
        if actual != digest:
            raise InvalidSnapshot(f"the stored snapshot hashes to {actual}, not {digest}")
        scoring = scoring_used(document)
        with self._lock:
            self._kept[digest] = scoring
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return scoring


def verify(snapshot: bytes, expected_sha256: str) -> None:
    """Raise InvalidSnapshot unless the snapshot hashes as published and recomputes to itself."""
    actual = sha256_of(snapshot)
    if actual != expected_sha256:
        raise InvalidSnapshot(f"the snapshot hashes to {actual}, not {expected_sha256}")
    if recompute(snapshot) != snapshot:
        raise InvalidSnapshot("recomputing the snapshot gives a different result")
