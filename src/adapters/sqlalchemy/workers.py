"""When each worker last completed a pass (its heartbeat), one row per worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.statements import Statements


class SqlWorkerPasses:
    def __init__(self, db: Statements) -> None:
        self._db = db

    def completed(self, worker_id: str, at: datetime) -> None:
        values = {"worker_id": worker_id, "completed_at": at}
        self._db.execute(self._db.upsert(t.worker_passes, values))

    def forget(self, worker_id: str) -> None:
        self._db.execute(t.worker_passes.delete().where(t.worker_passes.c.worker_id == worker_id))

    def last_passes(self) -> dict[str, datetime]:
        query = select(t.worker_passes).order_by(t.worker_passes.c.worker_id)
        return {row.worker_id: row.completed_at for row in self._db.execute(query)}
