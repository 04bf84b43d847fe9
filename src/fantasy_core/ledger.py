"""The double-entry money ledger: balanced posting sets, account balances, per-contest conservation.

Sign convention: a posting's amount is positive for a debit and negative for a
credit; a posting set is recorded only when its amounts sum to zero per currency.

Accounts (ARCHITECTURE.md):
  cash:stripe            money held at Stripe (an asset: debit = more cash)
  pool:<contest>         a contest's entry fees and prize pool (owed to its players)
  prizes_payable:<c>     prizes awarded at settlement and owed to their winners: not yet
                         transferred, or transferred and reversed (owed again)
  house:rake             the house's rake revenue
  house:overlay          what the house adds to a guaranteed pool (an expense)
  house:surplus          what a fixed-amount table's fees after rake exceed its prizes by
  tax:backup_withholding 24% of a reportable prize kept from a winner with no W-9 (decision
                         0042): owed to the IRS, paid to nobody by transfer
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable

from attrs import field, frozen

from fantasy_core.errors import UnbalancedPostings
from fantasy_core.money import Money

CASH = "cash:stripe"
RAKE = "house:rake"
OVERLAY = "house:overlay"
SURPLUS = "house:surplus"
WITHHELD = "tax:backup_withholding"


def pool_account(contest_id: str) -> str:
    return f"pool:{contest_id}"


def payable_account(contest_id: str) -> str:
    return f"prizes_payable:{contest_id}"


class Movement(enum.Enum):
    """What a posting set records; conservation is counted by movement."""

    FEE_COLLECTED = "fee_collected"
    FEE_REFUNDED = "fee_refunded"
    # The house's take: the rake, and a fixed table's surplus (to house:surplus).
    RAKE_TAKEN = "rake_taken"
    OVERLAY_ADDED = "overlay_added"
    PRIZE_AWARDED = "prize_awarded"
    PRIZE_PAID = "prize_paid"
    PRIZE_REVERSED = "prize_reversed"
    # Backup withholding kept from a prize: still the winner's prize (net winnings, 1099).
    PRIZE_WITHHELD = "prize_withheld"


@frozen
class Posting:
    account: str
    amount: Money

    def __attrs_post_init__(self) -> None:
        if not self.account:
            raise UnbalancedPostings("a posting needs an account")
        if self.amount.minor == 0:
            raise UnbalancedPostings(f"a posting to {self.account} moves nothing")


def _check_balanced(_: object, __: object, postings: tuple[Posting, ...]) -> None:
    if len(postings) < 2:
        raise UnbalancedPostings("a posting set needs at least a debit and a credit")
    sums: dict[str, int] = defaultdict(int)
    for posting in postings:
        sums[posting.amount.currency] += posting.amount.minor
    unbalanced = {c: s for c, s in sums.items() if s != 0}
    if unbalanced:
        raise UnbalancedPostings(
            "debits and credits differ: "
            + ", ".join(f"{c} off by {s}" for c, s in sorted(unbalanced.items()))
        )


@frozen
class PostingSet:
    """One balanced money movement, keyed by a unique `key` so it is recorded at most once."""

    key: str
    contest_id: str
    movement: Movement
    postings: tuple[Posting, ...] = field(validator=_check_balanced)

    @property
    def amount(self) -> int:
        """The size of the movement: the sum of its debits."""
        return sum(p.amount.minor for p in self.postings if p.amount.minor > 0)


def transfer(
    key: str, contest_id: str, movement: Movement, debit: str, credit: str, amount: Money
) -> PostingSet:
    """A two-legged movement of `amount` from `credit` to `debit`."""
    return PostingSet(
        key=key,
        contest_id=contest_id,
        movement=movement,
        postings=(Posting(debit, amount), Posting(credit, -amount)),
    )


def fee_collected(key: str, contest_id: str, fee: Money) -> PostingSet:
    return transfer(key, contest_id, Movement.FEE_COLLECTED, CASH, pool_account(contest_id), fee)


def fee_refunded(key: str, contest_id: str, fee: Money) -> PostingSet:
    return transfer(key, contest_id, Movement.FEE_REFUNDED, pool_account(contest_id), CASH, fee)


def rake_taken(key: str, contest_id: str, rake: Money) -> PostingSet:
    return transfer(key, contest_id, Movement.RAKE_TAKEN, pool_account(contest_id), RAKE, rake)


def surplus_kept(key: str, contest_id: str, surplus: Money) -> PostingSet:
    """The house keeps a fixed table's surplus; conservation counts it with the rake."""
    return transfer(
        key, contest_id, Movement.RAKE_TAKEN, pool_account(contest_id), SURPLUS, surplus
    )


def overlay_added(key: str, contest_id: str, overlay: Money) -> PostingSet:
    return transfer(
        key, contest_id, Movement.OVERLAY_ADDED, OVERLAY, pool_account(contest_id), overlay
    )


def prize_awarded(key: str, contest_id: str, prize: Money) -> PostingSet:
    return transfer(
        key,
        contest_id,
        Movement.PRIZE_AWARDED,
        pool_account(contest_id),
        payable_account(contest_id),
        prize,
    )


def prize_paid(key: str, contest_id: str, prize: Money) -> PostingSet:
    return transfer(key, contest_id, Movement.PRIZE_PAID, payable_account(contest_id), CASH, prize)


def prize_withheld(key: str, contest_id: str, withheld: Money) -> PostingSet:
    """Part of a prize kept as backup withholding: out of the prizes payable, to nobody."""
    return transfer(
        key, contest_id, Movement.PRIZE_WITHHELD, payable_account(contest_id), WITHHELD, withheld
    )


def balances(sets: Iterable[PostingSet]) -> dict[tuple[str, str], int]:
    """The balance of every (account, currency) touched by `sets` (debits positive)."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for posting_set in sets:
        for posting in posting_set.postings:
            totals[(posting.account, posting.amount.currency)] += posting.amount.minor
    return dict(totals)


@frozen
class Conservation:
    """A closed contest's money, counted by movement: collected + overlay must equal the rest.

    `rake` is the house's whole take: the rake and a fixed table's surplus.
    """

    contest_id: str
    collected: int
    refunded: int
    rake: int
    overlay: int
    awarded: int
    paid_out: int
    withheld: int = 0

    @property
    def owed(self) -> int:
        """Prizes awarded and not (or no longer) paid nor withheld: a liability to the winners.

        Zero once every prize is paid; a prize whose transfer was reversed after its
        contest was PAID is owed again until it is sent again.
        """
        return self.awarded - self.paid_out - self.withheld

    @property
    def conserved(self) -> bool:
        return (
            self.collected + self.overlay
            == self.paid_out + self.withheld + self.owed + self.rake + self.refunded
            and self.paid_out >= 0
            and self.withheld >= 0
            and self.paid_out + self.withheld <= self.awarded
        )

    def describe(self) -> str:
        return (
            f"contest {self.contest_id}: collected {self.collected} + overlay {self.overlay}"
            f" vs paid out {self.paid_out} + withheld {self.withheld} + owed {self.owed}"
            f" + rake {self.rake} + refunded {self.refunded} (awarded {self.awarded})"
        )


def conservation(contest_id: str, sets: Iterable[PostingSet]) -> Conservation:
    by_movement: dict[Movement, int] = defaultdict(int)
    for posting_set in sets:
        if posting_set.contest_id == contest_id:
            by_movement[posting_set.movement] += posting_set.amount
    return Conservation(
        contest_id=contest_id,
        collected=by_movement[Movement.FEE_COLLECTED],
        refunded=by_movement[Movement.FEE_REFUNDED],
        rake=by_movement[Movement.RAKE_TAKEN],
        overlay=by_movement[Movement.OVERLAY_ADDED],
        awarded=by_movement[Movement.PRIZE_AWARDED],
        paid_out=by_movement[Movement.PRIZE_PAID] - by_movement[Movement.PRIZE_REVERSED],
        withheld=by_movement[Movement.PRIZE_WITHHELD],
    )
