"""The test World on a real SQL database (and optionally the Stripe adapter): a campaign's hands.

Ids are time-ordered (unique across runs and processes), since several worlds may
share one database one after another.
"""

from __future__ import annotations

from datetime import timedelta

import attrs
from sqlalchemy import Engine

from adapters.ids import TimeOrderedIds
from adapters.sqlalchemy import SqlDatabase, make_engine
from fantasy_core.contest import Contest
from fantasy_core.payout_accounts import PayoutAccount
from fantasy_core.ports import PaymentGateway
from fantasy_core.stats import GameStatus
from fantasy_core.usecases.lifecycle import tick
from fantasy_core.usecases.stats import ingest
from support.world import LOCK, SLATE, World, snapshot


class SqlWorld(World):
    """The World's platform with its data in a SQL database (the other adapters the fakes)."""

    def __init__(
        self,
        database: str | Engine,
        gateway: PaymentGateway | None = None,
        *,
        sequential_ids: bool = False,
    ) -> None:
        """`database`: a URL (the world makes its engine, and disposes of it on `close`) or
        an engine a fixture owns. `sequential_ids`: the fakes' ids (entry-00000001, ...),
        for a database of its own."""
        super().__init__()
        self._owns_engine = isinstance(database, str)
        self.engine = make_engine(database) if isinstance(database, str) else database
        self.db = SqlDatabase(self.engine)
        self.p = attrs.evolve(
            self.p,
            uow=self.db.unit_of_work,
            gateway=gateway or self.gateway,
            ids=self.ids if sequential_ids else TimeOrderedIds(),
        )

    def give_account(self, user: str, account_id: str | None = None) -> None:
        with self.p.uow() as uow:
            uow.accounts.save(PayoutAccount.enabled(user, account_id or f"acct_{user}"))
            uow.commit()

    def state(self, contest: Contest) -> str:
        with self.p.uow() as uow:
            return uow.contests.get(contest.contest_id).state.value

    def settle_without_paying(self) -> None:
        """Lock, play and settle every contest of the world, sending no payout (no run_once)."""
        self.clock.set(LOCK)
        tick(self.p)
        self.feed.publish(snapshot(GameStatus.IN_PROGRESS, 2))
        self.clock.advance(timedelta(minutes=1))
        ingest(self.p, SLATE)
        tick(self.p)
        self.clock.advance(timedelta(hours=3))
        self.feed.publish(snapshot(GameStatus.FINAL, 3))
        ingest(self.p, SLATE)
        tick(self.p)
        self.clock.advance(timedelta(hours=1, minutes=1))
        tick(self.p)

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()
