"""A player's payout account (a Stripe Connect Express account): a state the gateway moves.

The platform creates the connected account itself and sends the player through the
gateway's onboarding; whether prizes may be sent there is what the gateway says about
the account (`AccountStatus`), never what the player says. States:

  NONE        no connected account yet (a player who never started onboarding)
  ONBOARDING  the account exists; the player has not finished the gateway's forms
  ENABLED     the gateway pays out to the player's bank: prizes are sent
  DISABLED    onboarded once, payouts now off (requirements due, a bank payout failed)

A prize of a player whose account is not ENABLED stays owed (see payments.Payout).
"""

from __future__ import annotations

import enum

from attrs import define, field, frozen

from fantasy_core.transitions import check_move


class PayoutAccountState(enum.Enum):
    NONE = "none"
    ONBOARDING = "onboarding"
    ENABLED = "enabled"
    DISABLED = "disabled"


S = PayoutAccountState

# The gateway's word may come again (a repeated or late event re-reads the same account):
# every state but NONE may "move" to itself. NONE is left only by creating the account.
PAYOUT_ACCOUNT_MOVES: dict[PayoutAccountState, frozenset[PayoutAccountState]] = {
    S.NONE: frozenset({S.ONBOARDING, S.ENABLED}),
    S.ONBOARDING: frozenset({S.ONBOARDING, S.ENABLED, S.DISABLED}),
    S.ENABLED: frozenset({S.ENABLED, S.DISABLED}),
    S.DISABLED: frozenset({S.ENABLED, S.DISABLED}),
}


# Opening an account is the one move to ONBOARDING that only NONE may make.
_OPENING: dict[PayoutAccountState, frozenset[PayoutAccountState]] = {
    state: frozenset({S.ONBOARDING}) if state is S.NONE else frozenset() for state in S
}


@frozen
class AccountStatus:
    """What the gateway says of a connected account now (Stripe: the Account object).

    `requirements` are what the gateway still needs from the player (Stripe's
    `requirements.currently_due` and `past_due`, e.g. "external_account"), sorted.
    """

    account_id: str
    payouts_enabled: bool
    details_submitted: bool
    requirements: tuple[str, ...] = ()
    disabled_reason: str | None = None


@frozen
class OnboardingLink:
    """Where to send the player: the gateway's onboarding (or dashboard login) page."""

    url: str
    expires_at_epoch: int | None = None


@define
class PayoutAccount:
    """A user's connected account for receiving prizes; changes only through its methods.

    A stored account is rebuilt with whatever it was saved with (`state` etc. by alias).
    """

    user_id: str
    account_id: str | None = None
    _state: PayoutAccountState = field(default=PayoutAccountState.NONE, alias="state")
    _requirements: tuple[str, ...] = field(default=(), alias="requirements")
    _disabled_reason: str | None = field(default=None, alias="disabled_reason")

    @classmethod
    def enabled(cls, user_id: str, account_id: str) -> PayoutAccount:
        """An account the gateway has enabled (test worlds and the test-only attach route)."""
        return cls(user_id, account_id, PayoutAccountState.ENABLED)

    @property
    def state(self) -> PayoutAccountState:
        return self._state

    @property
    def requirements(self) -> tuple[str, ...]:
        """What the gateway still needs from the player before it pays out."""
        return self._requirements

    @property
    def disabled_reason(self) -> str | None:
        return self._disabled_reason

    @property
    def payouts_enabled(self) -> bool:
        return self._state is PayoutAccountState.ENABLED and self.account_id is not None

    def _move(self, target: PayoutAccountState) -> None:
        check_move(PAYOUT_ACCOUNT_MOVES, "payout account", self.user_id, self._state, target)
        self._state = target

    def opened(self, account_id: str) -> None:
        """The platform created the player's connected account: onboarding starts.

        Only from NONE: a player has one connected account, and its id never changes.
        """
        check_move(_OPENING, "payout account", self.user_id, self._state, S.ONBOARDING)
        self._move(PayoutAccountState.ONBOARDING)
        self.account_id = account_id

    def attached(self, account_id: str) -> None:
        """A known, enabled account attached directly (test environments only)."""
        self._move(PayoutAccountState.ENABLED)
        self.account_id = account_id
        self._requirements = ()
        self._disabled_reason = None

    def reported(self, status: AccountStatus) -> bool:
        """Apply what the gateway says of the account now; True when payouts became enabled.

        Not yet enabled and never submitted: still onboarding. Enabled: ENABLED. Anything
        else (submitted but not enabled, or enabled before and no longer): DISABLED.
        """
        was_enabled = self.payouts_enabled
        if status.payouts_enabled:
            target = PayoutAccountState.ENABLED
        elif self._state is PayoutAccountState.ONBOARDING and not status.details_submitted:
            target = PayoutAccountState.ONBOARDING
        else:
            target = PayoutAccountState.DISABLED
        self._move(target)
        self._requirements = tuple(sorted(set(status.requirements)))
        self._disabled_reason = None if status.payouts_enabled else status.disabled_reason
        return self.payouts_enabled and not was_enabled

    def bank_payout_failed(self, reason: str) -> None:
        """The gateway could not pay the player's bank: off until the player fixes it."""
        self._move(PayoutAccountState.DISABLED)
        self._requirements = tuple(sorted({*self._requirements, "external_account"}))
        self._disabled_reason = reason

    def transfer_reversed(self, reason: str) -> None:
        """A prize sent here was taken back: off until the gateway reports the account again."""
        self._move(PayoutAccountState.DISABLED)
        self._disabled_reason = f"a transfer was reversed: {reason}"

    def missing(self) -> tuple[str, ...]:
        """What the player must do before prizes can be sent, in words a page can show."""
        if self._state is PayoutAccountState.NONE:
            return ("start onboarding",)
        if self._state is PayoutAccountState.ENABLED:
            return ()
        if self._state is PayoutAccountState.ONBOARDING and not self._requirements:
            return ("finish onboarding",)
        return self._requirements or (self._disabled_reason or "fix the account",)
