"""Canonical JSON: the one encoding of what the core hashes or stores, its digests, its readers.

Every document the core fingerprints (a rule set, a feed snapshot, a settlement snapshot,
contest terms) is a JSON-able value of dicts, lists, strings, integers and None, written
by `canonical_bytes`: keys sorted, no whitespace, ASCII only (anything else escaped as
JSON escapes it), no NaN or infinity. The same document always gives the same bytes, so
its `fingerprint` ("sha256:<hex>") names its content. Changing one flag here changes every
published hash: tests/unit/test_canonical_bytes_pinned.py holds the bytes to the ones
stored before this module existed.

A `Reader` checks the shape of a parsed document and raises the caller's domain error
saying where it is malformed, e.g. "rules[3].stat: expected a string, got 7".

The idempotency keys of joins and payouts ("join-<hex>", "payout-<hex>") are not
documents: they hash a JSON list of their parts (entries.join_fingerprint,
payments.payout_fingerprint), and the pinned test holds them too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from attrs import frozen

_PREFIX = "sha256:"


def canonical_bytes(document: object) -> bytes:
    """`document` as canonical JSON: sorted keys, no whitespace, ASCII only, no NaN."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def sha256_of(data: bytes) -> str:
    """The digest "sha256:<hex>" of `data` (a canonical document's bytes, as published)."""
    return _PREFIX + hashlib.sha256(data).hexdigest()


def fingerprint(document: object) -> str:
    """The digest of `document`'s canonical bytes: equal documents, equal fingerprints."""
    return sha256_of(canonical_bytes(document))


@frozen
class Reader:
    """The structural checks of a parsed canonical document, raising `error` saying where.

    Each domain reads its documents with its own error (InvalidScoringRules for a rule
    set, InvalidFeedData for a feed snapshot) and the same wording.
    """

    error: type[Exception]

    def fields(self, data: object, where: str, expected: set[str]) -> Mapping[str, object]:
        """`data` as a mapping with exactly the keys `expected`, or the error saying why."""
        if not isinstance(data, Mapping) or not all(isinstance(k, str) for k in data):
            raise self.error(f"{where}: expected an object, got {data!r}")
        missing, unexpected = expected - set(data), set(data) - expected
        if missing or unexpected:
            raise self.error(
                f"{where}: missing keys {sorted(missing)}, unexpected keys {sorted(unexpected)}"
            )
        return data

    def text(self, value: object, where: str) -> str:
        """`value` if it is a string."""
        if not isinstance(value, str):
            raise self.error(f"{where}: expected a string, got {value!r}")
        return value

    def integer(self, value: object, where: str) -> int:
        """`value` if it is an integer (not a bool, not a float)."""
        if type(value) is not int:
            raise self.error(f"{where}: expected an integer, got {value!r}")
        return value

    def items(self, value: object, where: str) -> list[object]:
        """`value` if it is a JSON list."""
        if not isinstance(value, list):
            raise self.error(f"{where}: expected a list, got {value!r}")
        return value
