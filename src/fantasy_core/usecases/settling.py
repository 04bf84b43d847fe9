"""Settlement inside one transaction: scores, ranks, prizes, payouts, ledger and snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from itertools import compress

from fantasy_core.codec import sha256_of
from fantasy_core.contest import Contest
from fantasy_core.ledger import overlay_added, prize_awarded, rake_taken, surplus_kept
from fantasy_core.money import Money
from fantasy_core.payments import Payout, payout_fingerprint
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork
from fantasy_core.settlement import PrizePool, Standings, prize_pool, settle_lineups
from fantasy_core.snapshot import FeedReference, build_snapshot
from fantasy_core.usecases.stats import effective_lines

PRIZE = "prize"


def settle(p: Platform, uow: UnitOfWork, contest: Contest, now: datetime) -> str:
    """Settle a COMPLETE contest whose correction window has passed; returns the snapshot hash.

    Every payout record is written here, with its fingerprint, before anything is
    sent; the caller commits this together with the state change, or nothing.
    """
    contest.settle(now)
    # Returning from _settle frees its million-row locals before the bulk step ends (and,
    # wired by bootstrap, the garbage collector resumes).
    with p.bulk():
        return _settle(p, uow, contest)


def _settle(p: Platform, uow: UnitOfWork, contest: Contest) -> str:
    terms = contest.terms
    cid = contest.contest_id
    rows = uow.entries.for_settlement(cid)
    # Columns of the rows, in entry-id order: no mapping of a million entries is built.
    entry_ids = [entry_id for entry_id, _, _, _ in rows]
    users = [user_id for _, user_id, _, _ in rows]
    lineups = [players for _, _, _, players in rows]
    lines = effective_lines(uow, terms.slate_id)
    points = {player: terms.rules.score(line) for player, line in lines.items()}
    pool = prize_pool(
        sum(fee for _, _, fee, _ in rows),
        terms.rake_bps,
        None if terms.guaranteed_pool is None else terms.guaranteed_pool.minor,
        len(rows),
        terms.payout,
    )
    standings = settle_lineups(
        entry_ids, lineups, points, terms.payout, pool.pool, terms.entry_fee.minor
    )
    latest = uow.stats.latest(terms.slate_id)
    feed = (
        None if latest is None else FeedReference(latest.slate_id, latest.version, latest.sha256())
    )
    # The snapshot, most of settlement's own work, is written on another thread while
    # this one records the payouts: the database's work on them (index upkeep, on another
    # core) overlaps it. build_snapshot only reads values nothing changes meanwhile.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="settlement-snapshot") as worker:
        snapshot = worker.submit(
            build_snapshot, cid, terms.canonical(), feed, lines, users, lineups, pool, standings
        )
        _record_money(uow, cid, terms.currency, pool, standings, users)
        document = snapshot.result()
    digest = sha256_of(document)
    uow.settlements.store(cid, document, digest)
    p.audit(
        uow,
        "settlement.recorded",
        contest_id=cid,
        detail=f"{len(rows)} entries, pool {pool.pool} (rake {pool.rake}, overlay "
        f"{pool.overlay}), {sum(1 for x in standings.prizes if x)} prizes, snapshot {digest}",
    )
    return digest


def _record_money(
    uow: UnitOfWork,
    cid: str,
    currency: str,
    pool: PrizePool,
    standings: Standings,
    users: Sequence[str],
) -> None:
    """The ledger's rake, surplus, overlay and prizes awarded, and a payout record per prize."""
    if pool.rake:
        uow.ledger.record(rake_taken("rake:" + cid, cid, Money(pool.rake, currency)))
    if pool.surplus:
        uow.ledger.record(surplus_kept("surplus:" + cid, cid, Money(pool.surplus, currency)))
    if pool.overlay:
        uow.ledger.record(overlay_added("overlay:" + cid, cid, Money(pool.overlay, currency)))
    if standings.total_prizes:
        uow.ledger.record(
            prize_awarded("awarded:" + cid, cid, Money(standings.total_prizes, currency))
        )
    entry_ids, order, prizes = standings.entry_ids, standings.order, standings.prizes
    uow.payouts.add_all(
        [
            Payout(
                fingerprint=payout_fingerprint(cid, entry_ids[i], PRIZE),
                contest_id=cid,
                entry_id=entry_ids[i],
                user_id=users[order[i]],
                payout_id=PRIZE,
                amount_minor=prizes[i],
                currency=currency,
            )
            # The places with a prize (prizes are never negative), picked in C.
            for i in compress(range(len(prizes)), prizes)
        ]
    )
