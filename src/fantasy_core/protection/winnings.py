"""Net winnings per player, read from the ledger: prizes paid (less any reversed) minus the
entry fees collected and not refunded, in the contests asked about. The ledger's posting
sets carry the record they came from in their keys (fee:<entry fingerprint>,
refund:refund-<...>, paid:<payout fingerprint>, reversed:<payout fingerprint>,
withheld:<payout fingerprint>); the entries and payouts say whose they are. A prize's
backup withholding is still the winner's prize: it counts in `prizes`, and in `withheld`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from attrs import define

from fantasy_core.ledger import Movement, PostingSet


@define
class Winnings:
    """One player's money in the contests counted (minor units)."""

    fees: int = 0  # collected and kept (refunds deducted)
    prizes: int = 0  # paid (less reversed) and withheld
    withheld: int = 0  # backup withholding kept from those prizes (1099-MISC box 4)

    @property
    def net(self) -> int:
        return self.prizes - self.fees


def entry_fingerprint_of(key: str, movement: Movement) -> str | None:
    """The join fingerprint a fee or refund posting set was recorded for."""
    if movement is Movement.FEE_COLLECTED and key.startswith("fee:"):
        return key.removeprefix("fee:")
    if movement is Movement.FEE_REFUNDED and key.startswith("refund:refund-"):
        return "join-" + key.removeprefix("refund:refund-")
    return None


def payout_fingerprint_of(key: str, movement: Movement) -> str | None:
    """The payout fingerprint a prize paid or reversed was recorded for."""
    if movement is Movement.PRIZE_PAID and key.startswith("paid:"):
        return key.removeprefix("paid:")
    if movement is Movement.PRIZE_REVERSED and key.startswith("reversed:"):
        return key.removeprefix("reversed:")
    if movement is Movement.PRIZE_WITHHELD and key.startswith("withheld:"):
        return key.removeprefix("withheld:")
    return None


def winnings_by_player(
    sets: Iterable[PostingSet],
    entry_owner: Mapping[str, str],
    payout_owner: Mapping[str, str],
) -> dict[str, Winnings]:
    """Each player's fees and prizes in `sets`; `entry_owner` maps join fingerprints and
    `payout_owner` payout fingerprints to user ids. A posting set of a record not in the
    maps raises KeyError: every fee and prize belongs to someone."""
    found: dict[str, Winnings] = {}
    for posting_set in sets:
        movement, key, amount = posting_set.movement, posting_set.key, posting_set.amount
        entry = entry_fingerprint_of(key, movement)
        if entry is not None:
            winnings = found.setdefault(entry_owner[entry], Winnings())
            winnings.fees += amount if movement is Movement.FEE_COLLECTED else -amount
            continue
        payout = payout_fingerprint_of(key, movement)
        if payout is not None:
            winnings = found.setdefault(payout_owner[payout], Winnings())
            winnings.prizes += -amount if movement is Movement.PRIZE_REVERSED else amount
            if movement is Movement.PRIZE_WITHHELD:
                winnings.withheld += amount
    return found
