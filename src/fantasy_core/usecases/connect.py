"""Players' payout accounts: onboarding through the gateway, and what a player is owed and paid.

The platform creates each player's connected account (once, under a key derived from the
player) and sends the player to the gateway's onboarding; the gateway, never the player,
says whether prizes may be sent there (payment_events.account_updated).
"""

from __future__ import annotations

from attrs import frozen

from fantasy_core.errors import NoPayoutAccount
from fantasy_core.payments import Payout, PayoutStatus
from fantasy_core.payout_accounts import OnboardingLink, PayoutAccount, PayoutAccountState
from fantasy_core.platform import Platform
from fantasy_core.usecases.payment_events import apply_account_status


def account_key(user_id: str) -> str:
    """The idempotency key of the player's account creation: one account per player."""
    return f"connect-account-{user_id}"


def start_onboarding(
    p: Platform, user_id: str, email: str, country: str, refresh_url: str, return_url: str
) -> OnboardingLink:
    """A fresh onboarding link for the player, creating their connected account first if
    they have none. Called again (the link expired, the player came back) it creates
    nothing and answers a new link to the same account."""
    account_id = _account_id(p, user_id)
    if account_id is None:
        created = p.gateway.open_account(account_key(user_id), email, country, {"user_id": user_id})
        account_id = _opened(p, user_id, created)
    return p.gateway.onboarding_link(account_id, refresh_url, return_url)


def _account_id(p: Platform, user_id: str) -> str | None:
    with p.reading() as uow:
        account = uow.accounts.get(user_id)
    return None if account is None else account.account_id


def _opened(p: Platform, user_id: str, account_id: str) -> str:
    """Record the created account; the one recorded first if a concurrent start won."""
    with p.uow() as uow:
        account = uow.accounts.lock(user_id) or PayoutAccount(user_id)
        if account.account_id is not None:
            return account.account_id
        account.opened(account_id)
        uow.accounts.save(account)
        p.audit(uow, "account.opened", subject=user_id, actor=user_id, detail=account_id)
        uow.commit()
    return account_id


def dashboard_link(p: Platform, user_id: str) -> OnboardingLink:
    """A login link to the player's Express dashboard (to fix bank details).

    Raises NoPayoutAccount for a player who never started onboarding; the gateway refuses
    (PayoutRejected) an account that has not finished it.
    """
    account_id = _account_id(p, user_id)
    if account_id is None:
        raise NoPayoutAccount(f"{user_id} has no payout account: start onboarding first")
    return p.gateway.login_link(account_id)


def refresh_account(p: Platform, user_id: str) -> PayoutAccount:
    """Read the player's account from the gateway and apply it (the player came back from
    onboarding; the webhook says the same a moment later). Raises NoPayoutAccount."""
    account_id = _account_id(p, user_id)
    if account_id is None:
        raise NoPayoutAccount(f"{user_id} has no payout account: start onboarding first")
    status = p.gateway.account_status(account_id)
    with p.uow() as uow:
        then = apply_account_status(p, uow, user_id, status)
        uow.commit()
        account = uow.accounts.get(user_id)
    if then is not None:
        then()
    assert account is not None  # it had an account id above, and accounts are never deleted
    return account


@frozen
class PrizeLine:
    """One prize as its winner sees it: where it is and, if it is not paid, why."""

    contest_id: str
    entry_id: str
    amount_minor: int
    currency: str
    where: str  # "owed", "in_flight" or "paid"
    status: PayoutStatus
    reversals: int
    why: str | None
    transfer_id: str | None
    # Backup withholding kept from the prize (decision 0042); None: not decided yet (it
    # is decided at the first send: a W-9 given before then avoids it).
    withheld_minor: int | None = None

    @property
    def to_transfer_minor(self) -> int:
        """What is (or will be, if nothing is withheld) transferred to the winner."""
        return self.amount_minor - (self.withheld_minor or 0)


@frozen
class PlayerPayouts:
    """A player's payouts page: their account, what is missing, and every prize."""

    state: PayoutAccountState
    account_id: str | None
    missing: tuple[str, ...]
    prizes: tuple[PrizeLine, ...]

    def total(self, where: str) -> int:
        """What is transferred (or to be) of the prizes `where` is: withholding aside."""
        return sum(x.to_transfer_minor for x in self.prizes if x.where == where)

    @property
    def withheld(self) -> int:
        return sum(x.withheld_minor or 0 for x in self.prizes)


def _where(payout: Payout) -> str:
    if payout.transferred:
        return "paid"
    if payout.status is PayoutStatus.SENDING:
        return "in_flight"
    return "owed"


def payouts_of(p: Platform, user_id: str) -> PlayerPayouts:
    with p.reading() as uow:
        account = uow.accounts.get(user_id) or PayoutAccount(user_id)
        payouts = uow.payouts.for_user(user_id)
    return PlayerPayouts(
        state=account.state,
        account_id=account.account_id,
        missing=account.missing(),
        prizes=tuple(
            PrizeLine(
                contest_id=x.contest_id,
                entry_id=x.entry_id,
                amount_minor=x.amount_minor,
                currency=x.currency,
                where=_where(x),
                status=x.status,
                reversals=x.reversals,
                why=x.last_error,
                transfer_id=x.transfer_id,
                withheld_minor=x.withheld_minor,
            )
            for x in payouts
        ),
    )
