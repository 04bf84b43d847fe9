"""Settlement inside one transaction: scores, ranks, prizes, payouts, ledger and snapshot."""

from __future__ import annotations

from datetime import datetime

from fantasy_core.contest import Contest
from fantasy_core.ledger import overlay_added, prize_awarded, rake_taken
from fantasy_core.money import Money
from fantasy_core.payments import Payout, payout_fingerprint
from fantasy_core.platform import Platform
from fantasy_core.ports import UnitOfWork
from fantasy_core.settlement import prize_pool, settle_entries
from fantasy_core.snapshot import FeedReference, build_snapshot, sha256_of
from fantasy_core.usecases.stats import effective_lines

PRIZE = "prize"


def settle(p: Platform, uow: UnitOfWork, contest: Contest, now: datetime) -> str:
    """Settle a COMPLETE contest whose correction window has passed; returns the snapshot hash.

    Every payout record is written here, with its fingerprint, before anything is
    sent; the caller commits this together with the state change, or nothing.
    """
    terms = contest.terms
    cid = contest.contest_id
    contest.settle(now)
    rows = uow.entries.for_settlement(cid)
    lines = effective_lines(uow, terms.slate_id)
    points = {player: terms.rules.score(line) for player, line in lines.items()}
    pool = prize_pool(
        sum(fee for _, _, fee, _ in rows),
        terms.rake_bps,
        None if terms.guaranteed_pool is None else terms.guaranteed_pool.minor,
        len(rows),
    )
    lineups = {entry_id: players for entry_id, _, _, players in rows}
    standings = settle_entries(lineups, points, terms.payout, pool.pool, terms.entry_fee.minor)
    currency = terms.currency
    if pool.rake:
        uow.ledger.record(rake_taken("rake:" + cid, cid, Money(pool.rake, currency)))
    if pool.overlay:
        uow.ledger.record(overlay_added("overlay:" + cid, cid, Money(pool.overlay, currency)))
    if standings.total_prizes:
        uow.ledger.record(
            prize_awarded("awarded:" + cid, cid, Money(standings.total_prizes, currency))
        )
    users = {entry_id: user_id for entry_id, user_id, _, _ in rows}
    uow.payouts.add_all(
        [
            Payout(
                fingerprint=payout_fingerprint(cid, entry_id, PRIZE),
                contest_id=cid,
                entry_id=entry_id,
                user_id=users[entry_id],
                payout_id=PRIZE,
                amount_minor=prize,
                currency=currency,
            )
            for entry_id, prize in zip(standings.entry_ids, standings.prizes, strict=True)
            if prize > 0
        ]
    )
    latest = uow.stats.latest(terms.slate_id)
    feed = (
        None if latest is None else FeedReference(latest.slate_id, latest.version, latest.sha256())
    )
    document = build_snapshot(cid, terms.canonical(), feed, lines, users, lineups, pool, standings)
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
