"""A player's payout account and prizes: onboarding through the gateway, links, the payouts page.

The account id never comes from the player: the platform opens the connected account and
the gateway's onboarding collects the player's details. `PUT /me/payout-account` (attach a
known account id) exists in test environments only (`TestPayoutAccountController`).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.security.jwt import Token

from apps.api.auth import BEARER, PLAYERS_ONLY
from apps.api.problems import problem_responses
from apps.api.wire import (
    LinkOut,
    OnboardingIn,
    PayoutAccountIn,
    PayoutsOut,
    ProfileOut,
    link_out,
    payouts_out,
    profile_out,
)
from apps.bootstrap import Services
from fantasy_core.accounts import Account
from fantasy_core.platform import Platform
from fantasy_core.usecases.connect import (
    dashboard_link,
    payouts_of,
    refresh_account,
    start_onboarding,
)
from fantasy_core.usecases.payment_events import set_payout_account
from fantasy_core.usecases.protecting import player_profile
from fantasy_core.usecases.queries import payout_account

# Where Stripe sends the player back: the web app's payouts page, which calls the API
# again (a fresh link when `refresh`, the account read back when `return`).
RETURN_PATH = "/web/me/payouts?onboarding=return"
REFRESH_PATH = "/web/me/payouts?onboarding=refresh"


class PayoutsController(Controller):
    path = "/me"
    tags = ("payouts",)
    security = BEARER
    opt = PLAYERS_ONLY  # operators win no prizes

    @post(
        "/payout-account/onboarding",
        operation_id="startOnboarding",
        sync_to_thread=True,
        status_code=200,
        responses=problem_responses(400, 401, 403, 409, 422, 503),
    )
    def start_onboarding(
        self,
        data: JSONBody[OnboardingIn],
        request: Request[Account, Token, Any],
        services: NamedDependency[Services],
    ) -> LinkOut:
        """Start (or continue) the gateway's onboarding: the platform opens the caller's
        connected account the first time, and every call answers a fresh link to follow
        (an expired link is replaced by calling again)."""
        base = services.settings.public_url.rstrip("/")
        user = request.user
        link = start_onboarding(
            services.platform,
            user.user_id,
            user.email,
            data.country,
            base + REFRESH_PATH,
            base + RETURN_PATH,
        )
        return link_out(link)

    @post(
        "/payout-account/refresh",
        operation_id="refreshPayoutAccount",
        sync_to_thread=True,
        status_code=200,
        responses=problem_responses(401, 403, 409, 422, 503),
    )
    def refresh(
        self, request: Request[Account, Token, Any], platform: NamedDependency[Platform]
    ) -> PayoutsOut:
        """Back from onboarding: the account as the gateway says it is now, and the prizes."""
        refresh_account(platform, request.user.user_id)
        return payouts_out(payouts_of(platform, request.user.user_id))

    @post(
        "/payout-account/login-link",
        operation_id="payoutDashboardLink",
        sync_to_thread=True,
        status_code=200,
        responses=problem_responses(401, 403, 409, 422, 503),
    )
    def login_link(
        self, request: Request[Account, Token, Any], platform: NamedDependency[Platform]
    ) -> LinkOut:
        """A single-use link to the caller's Express dashboard (bank details, payouts)."""
        return link_out(dashboard_link(platform, request.user.user_id))

    @get(
        "/payouts",
        operation_id="myPayouts",
        sync_to_thread=True,
        responses=problem_responses(401, 403, 503),
    )
    def payouts(
        self, request: Request[Account, Token, Any], platform: NamedDependency[Platform]
    ) -> PayoutsOut:
        """What the caller is owed, has been sent, what was reversed or failed and why,
        and what the gateway still needs before it pays out."""
        return payouts_out(payouts_of(platform, request.user.user_id))


class TestPayoutAccountController(Controller):
    """Test environments only (tests, the demo): attach a known connected account id."""

    path = "/me"
    tags = ("payouts",)
    security = BEARER

    @put(
        "/payout-account",
        operation_id="setPayoutAccount",
        sync_to_thread=True,
        responses=problem_responses(400, 401, 503),
    )
    def set_payout_account(
        self,
        data: JSONBody[PayoutAccountIn],
        request: Request[Account, Token, Any],
        platform: NamedDependency[Platform],
    ) -> ProfileOut:
        """Test environments only: attach the connected account (acct_...) prizes are paid
        to, enabled. Production opens the account itself (POST /me/payout-account/onboarding)."""
        user = request.user
        set_payout_account(platform, user.user_id, data.account_id)
        return profile_out(
            user, payout_account(platform, user.user_id), player_profile(platform, user.user_id)
        )
