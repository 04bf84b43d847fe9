"""Pinned bytes: every document the core hashes or stores comes out exactly as it always has.

The files under tests/fixtures/canonical/ and the digests below were written from the code
as it stood before canonical JSON had one home (decision 0014). Each document is rebuilt
here from the same inputs and must match byte for byte; each stored one must read back and
encode to itself. A change that alters one byte of a stored snapshot or a fingerprint fails
here: published hashes and contests' promised rules must never move.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import pytest

from adapters.sqlalchemy.records import terms_from_text, terms_to_text
from fantasy_core.entries import join_fingerprint
from fantasy_core.entry_limits import FieldSizeEntryLimit, MaxEntries, SingleEntry
from fantasy_core.money import Money
from fantasy_core.payments import payout_fingerprint
from fantasy_core.payouts import FixedTable, FixedTier, double_up, fifty_fifty
from fantasy_core.scoring import PRESETS, ScoringRules
from fantasy_core.snapshot import recompute, verify
from fantasy_core.stats import FeedSnapshot, Game, GameStatus, StatLine
from fantasy_core.usecases.queries import leaderboard
from support.world import World, snapshot

FIXTURES = Path(__file__).parent.parent / "fixtures" / "canonical"

RULE_SETS = {
    "standard": "sha256:43fe015418d2c86999023bf3e8402da7cc605588d28937729491adeb58cdf990",
    "ppr": "sha256:95d481c242664951236d352fcecb470dbbdf7f1dda9cb48a94b66ca5ad21c432",
    "half_ppr": "sha256:c740969d92a5635d243b9821a426a6c7a880dc9d009b57e9c4528fbdbf86389e",
    "draftkings_nfl_classic": (
        "sha256:da81156894459484ea101a88600bc09040d1df980a37f8893049fe5f6662617e"
    ),
    "fanduel_nfl": "sha256:50c3138c773f5d549754eb332fe157d2f726e47ad8dbcf30ce690d1322a43c9d",
}

FEED_SNAPSHOTS = {
    "feed-world-final": "sha256:bd9ad115c3279ca5126db680f12222a21bcbe1a494bbd69dee3aac3745e0754d",
    "feed-odd-text": "sha256:5402eb6c9800569179eaeb2011107d210fa5d21ff969a61a5929a4368a499344",
}

SETTLEMENTS = {
    "settlement-top-heavy": (
        "sha256:c18dbf3d3a4e93286c7137b0ca76ff6b59523f510f0ae268ee5445470f7517eb"
    ),
    "settlement-fifty-fifty-guaranteed": (
        "sha256:2959b73f525cd72f4bf98ed15a77b624b9aefd542e782e485818c14b8df1e23a"
    ),
    "settlement-double-up": (
        "sha256:840ec9cb40a48b4093d02f223059d5bd324413b8f6d5a96af8493e1c74c69f2a"
    ),
    "settlement-fixed-table": (
        "sha256:11fd471c2b4dadc848e0ff79d5fcd72bf81bce4b879f2518176cbc6ce55e344a"
    ),
}

STORED_TERMS = {
    "terms-top-heavy": "sha256:e548d7923ea9add7914ebfa0ebb7112dfc58056698bfe0a88672f379eb28897a",
    "terms-fixed-table": "sha256:eb285432ddf5dac4d49e318ce7d532cbef5975ffc450b3177d9f64f25fb4fa6e",
}

JOIN_FINGERPRINTS = {
    ("contest-00000001", "ann", "k1"): (
        "join-8ca18976238b69da4205ac5cc940b566b9a0c305303a1cffc0bc73b8dedf7e83"
    ),
    ('c"1', "zo\u00eb", "\\key\n"): (
        "join-31a91753b1dc463f2c29aa13dcd3cdb1627b426bafce687630d8f9c3665a50a0"
    ),
}

PAYOUT_FINGERPRINTS = {
    ("contest-00000001", "entry-00000001", "payout-1"): (
        "payout-e3e99a04ed24f83d9788a7f38bbc36e7c3eb18b5e1330077b1e9026fa0b0a9be"
    ),
    ('c"1', "\u00e9\U0001f3c8", "\x1f"): (
        "payout-a0a9aa35fb457ca6be534e76fc69bb5cde5f533726e9b5ebbcd831c73474c0d6"
    ),
}


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def odd_snapshot() -> FeedSnapshot:
    """Text that JSON must escape, a kickoff given off UTC, fractional and negative values."""
    plus_two = timezone(timedelta(hours=2))
    games = (
        Game("g-é", "São", 'N"Y', datetime(2025, 9, 7, 19, 30, tzinfo=plus_two), GameStatus.FINAL),
        Game(
            "g\\2", "KC", "BAL", datetime(2025, 9, 8, 0, 15, tzinfo=plus_two), GameStatus.POSTPONED
        ),
    )
    lines = (
        StatLine.of(
            "p\U0001f3c8", "São", "g-é", {"def_sacks": Fraction(3, 2), "rushing_yards": -4}
        ),
        StatLine.of('p"2', 'N"Y', "g-é", {"passing_yards": Fraction(3015, 10), "completions": 21}),
        StatLine.of("p3", "KC", "g\\2", {}),
    )
    return FeedSnapshot("slate-ü", 7, games, lines)


def feed_snapshots() -> dict[str, FeedSnapshot]:
    return {
        "feed-world-final": snapshot(GameStatus.FINAL, 3, seed=5),
        "feed-odd-text": odd_snapshot(),
    }


def _usd(minor: int) -> Money:
    return Money(minor, "usd")


FIXED = FixedTable((FixedTier(1, 1, _usd(1_500)), FixedTier(2, 3, _usd(500))))


CONTESTS: dict[str, dict[str, object]] = {
    "top-heavy": {},
    "fifty-fifty-guaranteed": {
        "name": 'Fifty "fifty" \u00e9',
        "payout": fifty_fifty(),
        "entry_limit": SingleEntry(),
        "guaranteed_pool": _usd(9_000),
        "rake_bps": 1_250,
        "entry_fee": _usd(1_099),
    },
    "double-up": {
        "payout": double_up(),
        "entry_limit": FieldSizeEntryLimit(),
        "rules": PRESETS["half_ppr"],
    },
    "fixed-table": {
        "payout": FIXED,
        "guaranteed_pool": FIXED.total,
        "entry_limit": MaxEntries(2),
        "rake_bps": 733,
    },
}
"""The terms of each pinned contest, as changes to the World's default terms."""


def settled_world() -> tuple[World, dict[str, str]]:
    """The contests of CONTESTS, joined by the same six users, played and settled."""
    world = World()
    ids: dict[str, str] = {}
    for name, changes in CONTESTS.items():
        contest = world.create(**changes)
        ids[name] = contest.contest_id
        for n, user in enumerate(("ann", "bob", "cat", "dan", "eve", "fay")):
            assert world.join(contest, user, key=f"{name}-{n}", variant=n).accepted
    world.play_games(seed=2)
    return world, ids


def settlements() -> dict[str, tuple[bytes, str]]:
    world, ids = settled_world()
    found: dict[str, tuple[bytes, str]] = {}
    with world.store.unit_of_work() as uow:
        for name, contest_id in ids.items():
            stored = uow.settlements.get(contest_id)
            assert stored is not None, f"{name} was not settled"
            found[f"settlement-{name}"] = stored
    return found


@pytest.mark.parametrize("name", sorted(RULE_SETS))
def test_every_presets_canonical_form_and_fingerprint_are_pinned(name: str) -> None:
    rules = PRESETS[name]
    stored = _fixture(f"rules-{name}")
    assert json.dumps(rules.canonical(), sort_keys=True, separators=(",", ":")).encode() == stored
    assert rules.fingerprint == RULE_SETS[name] == _digest(stored)
    assert ScoringRules.from_canonical(json.loads(stored)) == rules


@pytest.mark.parametrize("name", sorted(FEED_SNAPSHOTS))
def test_feed_snapshots_keep_their_bytes_and_hashes(name: str) -> None:
    built = feed_snapshots()[name]
    stored = _fixture(name)
    assert built.canonical_bytes() == stored
    assert built.sha256() == FEED_SNAPSHOTS[name] == _digest(stored)
    read = FeedSnapshot.from_canonical(json.loads(stored))
    assert read == built
    assert read.canonical_bytes() == stored


def test_settlement_snapshots_keep_their_bytes_and_hashes() -> None:
    built = settlements()
    assert sorted(built) == sorted(SETTLEMENTS)
    for name, (document, digest) in built.items():
        stored = _fixture(name)
        assert document == stored, name
        assert digest == SETTLEMENTS[name] == _digest(stored), name
        assert recompute(stored) == stored, name
        verify(stored, SETTLEMENTS[name])


def test_a_settled_leaderboard_reads_the_pinned_rows() -> None:
    world, ids = settled_world()
    for name, contest_id in ids.items():
        board = leaderboard(world.p, contest_id, limit=100)
        rows = json.loads(_fixture(f"settlement-{name}"))["entries"]
        assert board.final
        assert [
            [s.entry_id, s.user_id, list(s.player_ids), s.score, s.rank, s.prize_minor]
            for s in board.rows
        ] == [[r[0], r[1], r[2], Fraction(r[3]), r[4], r[5]] for r in rows]


@pytest.mark.parametrize("name", sorted(STORED_TERMS))
def test_contest_terms_are_stored_as_they_always_were(name: str) -> None:
    terms = World().terms(**CONTESTS[name.removeprefix("terms-")])
    stored = _fixture(name)
    assert terms_to_text(terms).encode("ascii") == stored
    assert _digest(stored) == STORED_TERMS[name]
    assert terms_from_text(stored.decode("ascii")) == terms


def test_join_and_payout_fingerprints_are_pinned() -> None:
    for parts, expected in JOIN_FINGERPRINTS.items():
        assert join_fingerprint(*parts) == expected
    for parts, expected in PAYOUT_FINGERPRINTS.items():
        assert payout_fingerprint(*parts) == expected
