"""Settlement snapshots: everything a result depends on, in one canonical, hashable document.

Anyone holding a snapshot can recompute the result from it alone (`recompute`)
and check that the recomputation is byte-for-byte the snapshot and hashes to the
published SHA-256. The format: UTF-8 JSON, keys sorted, no whitespace, ASCII
only; numbers of money are integers of minor units; points and stat values are
exact decimals written as strings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from fractions import Fraction

from attrs import frozen

from fantasy_core.errors import DomainError
from fantasy_core.payouts import payout_from_canonical
from fantasy_core.scoring import ScoringRules, format_points
from fantasy_core.settlement import PrizePool, Standings, prize_pool, settle_entries

SNAPSHOT_VERSION = 1


class InvalidSnapshot(DomainError):
    """A settlement snapshot that is malformed or does not recompute to itself."""


@frozen
class FeedReference:
    """Which provider data a settlement used: the slate, the feed's version and its hash."""

    slate_id: str
    version: int
    sha256: str


def canonical_bytes(document: object) -> bytes:
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def sha256_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _decimals(scaled: Sequence[int], scale: int) -> list[str]:
    """Exact decimal strings of scaled / scale, as format_points writes them, fast for a million.

    Each distinct value is formatted once (a contest has far fewer distinct scores
    than entries).
    """
    cache: dict[int, str] = {}

    def text(value: int) -> str:
        out = cache.get(value)
        if out is None:
            out = cache[value] = format_points(Fraction(value, scale))
        return out

    return [text(v) for v in scaled]


def build_snapshot(
    contest_id: str,
    terms: Mapping[str, object],
    feed: FeedReference | None,
    stat_lines: Mapping[str, Mapping[str, Fraction]],
    users: Mapping[str, str],
    lineups: Mapping[str, Sequence[str]],
    pool: PrizePool,
    standings: Standings,
) -> bytes:
    """The canonical snapshot of a settlement; `terms` is ContestTerms.canonical()."""
    scores = _decimals(standings.scaled_scores, standings.scale)
    document = {
        "version": SNAPSHOT_VERSION,
        "contest_id": contest_id,
        "terms": dict(terms),
        "feed": None if feed is None else [feed.slate_id, feed.version, feed.sha256],
        "stat_lines": {
            player: {stat: format_points(value) for stat, value in line.items()}
            for player, line in stat_lines.items()
        },
        "prize_pool": {
            "collected": pool.collected,
            "rake": pool.rake,
            "overlay": pool.overlay,
            "pool": pool.pool,
        },
        "entries": [
            [entry_id, users[entry_id], list(lineups[entry_id]), score, rank, prize]
            for entry_id, score, rank, prize in zip(
                standings.entry_ids, scores, standings.ranks, standings.prizes, strict=True
            )
        ],
    }
    return canonical_bytes(document)


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
        rows = document["entries"]
        lineups = {row[0]: tuple(row[2]) for row in rows}
        users = {row[0]: row[1] for row in rows}
        guaranteed = terms["guaranteed_pool"]
        fee = terms["entry_fee"]
        pool = prize_pool(fee * len(rows), terms["rake_bps"], guaranteed, len(rows))
        points = {player: rules.score(line) for player, line in lines.items()}
        standings = settle_entries(lineups, points, structure, pool.pool, fee)
        feed = document["feed"]
        reference = None if feed is None else FeedReference(feed[0], feed[1], feed[2])
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise InvalidSnapshot(f"malformed snapshot: {error!r}") from error
    return build_snapshot(
        document["contest_id"], terms, reference, lines, users, lineups, pool, standings
    )


def verify(snapshot: bytes, expected_sha256: str) -> None:
    """Raise InvalidSnapshot unless the snapshot hashes as published and recomputes to itself."""
    actual = sha256_of(snapshot)
    if actual != expected_sha256:
        raise InvalidSnapshot(f"the snapshot hashes to {actual}, not {expected_sha256}")
    if recompute(snapshot) != snapshot:
        raise InvalidSnapshot("recomputing the snapshot gives a different result")
