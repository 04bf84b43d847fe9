"""Players' protection records in SQL: one row per player, locked by every paid join."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, bindparam, or_, select

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.lists import lock_in_key_order
from adapters.sqlalchemy.records import aware, utc
from adapters.sqlalchemy.statements import Prepared, Read, Statements
from fantasy_core.errors import DuplicateRecord
from fantasy_core.protection.limits import LimitKind, Limits, LimitSchedule, PendingChange
from fantasy_core.protection.players import PlayerProfile
from fantasy_core.protection.restrictions import Restriction, RestrictionKind
from fantasy_core.protection.tax import TaxDetails

_GET = select(t.player_profiles).where(t.player_profiles.c.user_id == bindparam("user_id"))
# FOR NO KEY UPDATE, as contests: the row's key never changes.
_LOCK = Prepared(_GET.with_for_update(key_share=True))
# By its key: planned once (decision 0078).
_LOCK_ALL = Prepared(
    lock_in_key_order(t.player_profiles, t.player_profiles.c.user_id), plan_once=True
)


def limits_to_text(schedule: LimitSchedule) -> str:
    """A limit schedule as stored: {"limits": {kind: cents}, "pending": {kind: [value, at]}}."""
    document = {
        "limits": {k.value: v for k, v in sorted(schedule.limits.values.items(), key=_name)},
        "pending": {
            k.value: [c.value, aware(c.effective_at).isoformat()]
            for k, c in sorted(schedule.pending.items(), key=_name)
        },
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _name(item: tuple[LimitKind, object]) -> str:
    return item[0].value


# Most players share a handful of schedules (none at all, most of them), and a schedule is
# immutable: each text is parsed once, not at every lock of its player in a join batch.
@lru_cache(maxsize=4096)
def limits_from_text(text: str) -> LimitSchedule:
    document = json.loads(text)
    limits = Limits({LimitKind(k): int(v) for k, v in document["limits"].items()})
    pending = {
        LimitKind(k): PendingChange(None if value is None else int(value), utc(at))
        for k, (value, at) in document["pending"].items()
    }
    return LimitSchedule(limits, pending)


def _values(profile: PlayerProfile) -> dict[str, object]:
    restriction = profile.restriction
    return {
        "user_id": profile.user_id,
        "date_of_birth": profile.date_of_birth,
        "jurisdiction": profile.jurisdiction,
        "identity_key": profile.identity_key,
        "registered_at": profile.registered_at,
        "limits": limits_to_text(profile.limits),
        "restriction_kind": None if restriction is None else restriction.kind.value,
        "restriction_since": None if restriction is None else restriction.since,
        "restriction_until": None if restriction is None else restriction.until,
        "highly_experienced_since": profile.highly_experienced_since,
    }


def _profile(row: Row[Any]) -> PlayerProfile:
    restriction = None
    if row.restriction_kind is not None:
        restriction = Restriction(
            RestrictionKind(row.restriction_kind),
            utc(row.restriction_since),
            None if row.restriction_until is None else utc(row.restriction_until),
        )
    experienced = row.highly_experienced_since
    return PlayerProfile(
        user_id=row.user_id,
        date_of_birth=row.date_of_birth,
        jurisdiction=row.jurisdiction,
        identity_key=row.identity_key,
        registered_at=utc(row.registered_at),
        limits=limits_from_text(row.limits),
        restriction=restriction,
        highly_experienced_since=None if experienced is None else utc(experienced),
    )


class SqlPlayers:
    def __init__(self, db: Statements) -> None:
        self._db = db

    def add(self, profile: PlayerProfile) -> None:
        inserted = self._db.execute(self._db.insert_new(t.player_profiles).values(_values(profile)))
        if inserted.rowcount != 1:
            raise DuplicateRecord(f"player {profile.user_id} (or their identity) is registered")

    def get(self, user_id: str) -> PlayerProfile | None:
        row = self._db.execute(_GET, {"user_id": user_id}).first()
        return None if row is None else _profile(row)

    def by_identity(self, identity_key: str) -> str | None:
        table = t.player_profiles
        query = select(table.c.user_id).where(table.c.identity_key == identity_key)
        row = self._db.execute(query).first()
        return None if row is None else str(row.user_id)

    def lock(self, user_id: str) -> PlayerProfile | None:
        row = self._db.run(_LOCK, {"user_id": user_id}).first()
        return None if row is None else _profile(row)

    def lock_all(self, user_ids: Iterable[str]) -> dict[str, PlayerProfile]:
        return self._db.read(self.lock_all_read(user_ids))

    def lock_all_read(self, user_ids: Iterable[str]) -> Read[dict[str, PlayerProfile]]:
        """`lock_all` as a Read (SqlUnitOfWork.read_for_joins)."""
        wanted = sorted(set(user_ids))
        if not wanted:
            return Read((), lambda _: {})
        return Read(
            [(_LOCK_ALL, {"ids": wanted})],
            lambda results: {row.user_id: _profile(row) for row in results[0]},
        )

    def save(self, profile: PlayerProfile) -> None:
        table = t.player_profiles
        values = _values(profile)
        del values["user_id"]
        changed = self._db.execute(
            table.update().where(table.c.user_id == profile.user_id).values(values)
        )
        if changed.rowcount != 1:
            raise KeyError(f"no player {profile.user_id} to save")

    def highly_experienced(self, user_ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(user_ids))
        if not wanted:
            return set()
        table = t.player_profiles
        query = select(table.c.user_id).where(
            table.c.user_id.in_(wanted), table.c.highly_experienced_since.is_not(None)
        )
        return {str(row.user_id) for row in self._db.execute(query)}

    def restricted(self, now: datetime) -> list[str]:
        table = t.player_profiles
        query = (
            select(table.c.user_id)
            .where(
                table.c.restriction_kind.is_not(None),
                table.c.restriction_since <= now,
                or_(table.c.restriction_until.is_(None), table.c.restriction_until > now),
            )
            .order_by(table.c.user_id)
        )
        return [row.user_id for row in self._db.execute(query)]


class SqlTaxDetails:
    def __init__(self, db: Statements) -> None:
        self._db = db

    def get(self, user_id: str) -> TaxDetails | None:
        table = t.tax_details
        row = self._db.execute(select(table).where(table.c.user_id == user_id)).first()
        if row is None:
            return None
        return TaxDetails(
            user_id=row.user_id,
            legal_name=row.legal_name,
            address=row.address,
            taxpayer_id_sealed=row.taxpayer_id_sealed,
            taxpayer_id_last4=row.taxpayer_id_last4,
            submitted_at=utc(row.submitted_at),
        )

    def save(self, details: TaxDetails) -> None:
        values = {
            "user_id": details.user_id,
            "legal_name": details.legal_name,
            "address": details.address,
            "taxpayer_id_sealed": details.taxpayer_id_sealed,
            "taxpayer_id_last4": details.taxpayer_id_last4,
            "submitted_at": details.submitted_at,
        }
        self._db.execute(self._db.upsert(t.tax_details, values))
