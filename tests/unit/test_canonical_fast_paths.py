"""The fast writers of canonical text write exactly what json.dumps would, for any text."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fantasy_core.codec import canonical_bytes, sha256_of
from fantasy_core.payments import payout_fingerprint
from fantasy_core.payouts import top_heavy
from fantasy_core.scoring import format_points, preset
from fantasy_core.settlement import PrizePool, settle_lineups
from fantasy_core.snapshot import (
    FeedReference,
    InvalidSnapshot,
    ScoringMemo,
    build_snapshot,
    scoring_used,
)
from support.world import World

# Any text at all: quotes, backslashes, control characters, non-ASCII, astral planes.
texts = st.text(max_size=12)
players = st.sampled_from(["qb", 'w"r', "r\\b", "té", "\x1f", "\U0001f3c8", "k"])
POINTS = {"qb": Fraction(2566, 100), 'w"r': Fraction(-3, 10), "té": Fraction(8), "k": Fraction(1)}


@given(texts, texts, texts)
def test_a_payout_fingerprint_hashes_the_json_framing_of_its_parts(
    contest_id: str, entry_id: str, payout_id: str
) -> None:
    framed = json.dumps([contest_id, entry_id, payout_id], separators=(",", ":"))
    expected = "payout-" + hashlib.sha256(framed.encode()).hexdigest()
    assert payout_fingerprint(contest_id, entry_id, payout_id) == expected


@given(
    st.lists(
        st.tuples(texts, texts, st.lists(players, max_size=4)),
        unique_by=lambda row: row[0],
        max_size=25,
    ),
    texts,
    st.booleans(),
)
def test_a_snapshot_is_byte_for_byte_json_dumps_of_its_document(
    rows: list[tuple[str, str, list[str]]], contest_id: str, with_feed: bool
) -> None:
    entry_ids = [entry_id for entry_id, _, _ in rows]
    users = [user for _, user, _ in rows]
    lineups = [tuple(lineup) for _, _, lineup in rows]
    pool = PrizePool(collected=1_000 * len(rows), rake=100, overlay=0, pool=900 * len(rows))
    standings = settle_lineups(entry_ids, lineups, POINTS, top_heavy(5), pool.pool, 1_000)
    feed = FeedReference("slate-é", 3, "sha256:ab") if with_feed else None
    terms = {"name": 'Sunday "Million"', "entry_fee": 1_000}
    lines = {"qb": {"passing_yards": Fraction(301)}, 'w"r': {"receptions": Fraction(7, 2)}}
    snapshot = build_snapshot(contest_id, terms, feed, lines, users, lineups, pool, standings)

    by_id = {entry_id: (user, list(lineup)) for entry_id, user, lineup in rows}
    expected = canonical_bytes(
        {
            "version": 1,
            "contest_id": contest_id,
            "terms": terms,
            "feed": None if feed is None else [feed.slate_id, feed.version, feed.sha256],
            "stat_lines": {
                p: {k: format_points(v) for k, v in s.items()} for p, s in lines.items()
            },
            "prize_pool": {
                "collected": pool.collected,
                "rake": 100,
                "overlay": 0,
                "pool": pool.pool,
            },
            "entries": [
                [entry_id, *by_id[entry_id], format_points(standings.score(i)), rank, prize]
                for i, (entry_id, rank, prize) in enumerate(
                    zip(standings.entry_ids, standings.ranks, standings.prizes, strict=True)
                )
            ],
        }
    )
    assert snapshot == expected


def test_ids_that_are_not_strings_are_written_as_json_writes_them() -> None:
    # Only a tampered snapshot being recomputed has such ids; they must come out as before.
    standings = settle_lineups(["e1", "e2"], [("qb",), ("k",)], POINTS, top_heavy(1), 90, 50)
    pool = PrizePool(collected=100, rake=10, overlay=0, pool=90)
    users: list[object] = [7, None]
    snapshot = build_snapshot("c1", {}, None, {}, users, [("qb",), ("k",)], pool, standings)  # type: ignore[arg-type]
    rows = json.loads(snapshot)["entries"]
    assert [row[1] for row in rows] == [7, None]


def test_a_snapshot_written_in_several_chunks_is_one_json_list() -> None:
    count = 45_000  # more than two of the writer's chunks
    entry_ids = [f"e{i:06d}" for i in range(count)]
    lineups = [("qb", "k") if i % 3 else ("té",) for i in range(count)]
    users = [f"u{i % 977}" for i in range(count)]
    pool = PrizePool(collected=count * 10, rake=0, overlay=0, pool=count * 10)
    standings = settle_lineups(entry_ids, lineups, POINTS, top_heavy(100), pool.pool, 10)
    snapshot = build_snapshot("c1", {}, None, {}, users, lineups, pool, standings)
    rows = json.loads(snapshot)["entries"]
    assert len(rows) == count
    assert [row[0] for row in rows] == list(standings.entry_ids)
    assert canonical_bytes(json.loads(snapshot)) == snapshot


# Text that looks like the end of the entries, and a snapshot's other keys, inside ids.
tricky = st.one_of(texts, st.sampled_from(['],"feed":', '"],"feed":null}', '],"feed":[', "]"]))


@given(
    st.lists(
        st.tuples(tricky, tricky, st.lists(players, max_size=4)),
        unique_by=lambda row: row[0],
        max_size=10,
    ),
    tricky,
    st.booleans(),
)
def test_the_rules_and_lines_a_settlement_used_are_read_as_a_full_parse_reads_them(
    rows: list[tuple[str, str, list[str]]], contest_id: str, with_feed: bool
) -> None:
    rules = preset("draftkings_nfl_classic")
    terms = {"rules": rules.canonical(), "rules_fingerprint": rules.fingerprint, "x": "],"}
    lines = {"qb": {"passing_tds": Fraction(2)}, '],"feed":': {"receptions": Fraction(7, 2)}}
    entry_ids = [entry_id for entry_id, _, _ in rows]
    lineups = [tuple(lineup) for _, _, lineup in rows]
    pool = PrizePool(collected=10 * len(rows), rake=0, overlay=0, pool=10 * len(rows))
    standings = settle_lineups(entry_ids, lineups, POINTS, top_heavy(3), pool.pool, 10)
    feed = FeedReference('],"feed":', 3, "sha256:ab") if with_feed else None
    users = [user for _, user, _ in rows]
    snapshot = build_snapshot(contest_id, terms, feed, lines, users, lineups, pool, standings)
    assert scoring_used(snapshot) == (rules, lines)


def test_the_rules_a_snapshot_names_must_hash_to_its_fingerprint() -> None:
    rules = preset("draftkings_nfl_classic")
    terms = {"rules": rules.canonical(), "rules_fingerprint": "sha256:00"}
    standings = settle_lineups([], [], POINTS, top_heavy(3), 0, 10)
    pool = PrizePool(collected=0, rake=0, overlay=0, pool=0)
    snapshot = build_snapshot("c1", terms, None, {}, [], [], pool, standings)
    with pytest.raises(InvalidSnapshot, match="hash to"):
        scoring_used(snapshot)
    with pytest.raises(InvalidSnapshot, match="malformed"):
        scoring_used(b'{"contest_id":"c1","entries":[],"feed":null}')


def _settled_snapshot(contest_id: str = "c1") -> bytes:
    rules = preset("ppr")
    lines = {"qb": {"passing_yards": Fraction(250)}}
    lineups = [("qb",), ("qb",)]
    pool = PrizePool(collected=2_000, rake=200, overlay=0, pool=1_800)
    points = {"qb": rules.score(lines["qb"])}
    standings = settle_lineups(["e1", "e2"], lineups, points, top_heavy(1), pool.pool, 1_000)
    terms = World().terms(rules=rules).canonical()
    return build_snapshot(contest_id, terms, None, lines, ["ann", "bob"], lineups, pool, standings)


def _counting(document: bytes, loads: list[bytes]) -> Callable[[], bytes]:
    def load() -> bytes:
        loads.append(document)
        return document

    return load


def test_the_scoring_memo_reads_a_snapshot_once_per_digest() -> None:
    document = _settled_snapshot()
    loads: list[bytes] = []
    memo = ScoringMemo()
    first = memo.get(sha256_of(document), _counting(document, loads))
    assert memo.get(sha256_of(document), _counting(document, loads)) == first
    assert first == scoring_used(document)
    assert len(loads) == 1


def test_the_scoring_memo_refuses_bytes_that_are_not_what_the_digest_names() -> None:
    with pytest.raises(InvalidSnapshot, match="hashes to"):
        ScoringMemo().get("sha256:" + "0" * 64, _settled_snapshot)


def test_the_scoring_memo_keeps_only_the_most_recently_used() -> None:
    one, two = _settled_snapshot("c1"), _settled_snapshot("c2")
    loads: list[bytes] = []
    memo = ScoringMemo(size=1)
    for document in (one, two, one):
        memo.get(sha256_of(document), _counting(document, loads))
    assert loads == [one, two, one]  # two pushed one out
