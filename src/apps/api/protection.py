"""A player's own protection: their limits, a cool-off, a self-exclusion, tax details."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.security.jwt import Token
from msgspec import UNSET, Meta, Struct, UnsetType

from apps.api.auth import BEARER, PLAYERS_ONLY
from apps.api.problems import problem_responses
from apps.api.wire import Request as RequestBody
from apps.api.wire import RestrictionOut, restriction_out
from fantasy_core.accounts import Account
from fantasy_core.platform import Platform
from fantasy_core.protection.limits import MAX_LIMIT, LimitKind
from fantasy_core.protection.restrictions import ExclusionTerm
from fantasy_core.usecases.protecting import (
    LimitStatus,
    limits_of,
    set_limits,
    start_cool_off,
    start_self_exclusion,
)
from fantasy_core.usecases.tax import submit_tax_details

LimitValue = Annotated[int, Meta(ge=0, le=MAX_LIMIT)]


class LimitsIn(RequestBody):
    """The limits to set: cents for fees, a count for entries; null lifts a limit; a limit
    not named keeps its value. Tighter values apply at once, looser ones (or null) after
    90 days (Massachusetts 940 CMR 34.10): the answer says when."""

    fees_day: LimitValue | UnsetType | None = UNSET
    fees_week: LimitValue | UnsetType | None = UNSET
    fees_month: LimitValue | UnsetType | None = UNSET
    entries_week: LimitValue | UnsetType | None = UNSET


class PendingOut(Struct, kw_only=True):
    value: int | None
    effective_at: datetime


class LimitOut(Struct, kw_only=True):
    limit: str  # fees_day, fees_week, fees_month, entries_week
    period: str  # day (from midnight UTC), week (from Monday), month (from the 1st)
    value: int | None  # in force now; null: no limit
    used: int  # this period, cents or entries (declined, refunded, withdrawn: not counted)
    left: int | None
    resets_at: datetime
    pending: PendingOut | None  # a loosening waiting out its 90 days


class LimitsOut(Struct, kw_only=True):
    limits: list[LimitOut]


def limits_out(statuses: list[LimitStatus]) -> LimitsOut:
    return LimitsOut(
        limits=[
            LimitOut(
                limit=s.kind.value,
                period=s.kind.period.value,
                value=s.value,
                used=s.used,
                left=None if s.value is None else max(0, s.value - s.used),
                resets_at=s.resets_at,
                pending=None
                if s.pending is None
                else PendingOut(value=s.pending.value, effective_at=s.pending.effective_at),
            )
            for s in statuses
        ]
    )


class CoolOffIn(RequestBody):
    hours: Annotated[int, Meta(ge=72, le=720, description="from 72 hours to 30 days")]


class SelfExclusionIn(RequestBody):
    term: Literal["1y", "5y", "permanent"]


class TaxDetailsIn(RequestBody):
    """A W-9: the legal name and address, and the taxpayer id (SSN, ITIN or EIN, nine
    digits, dashes allowed). The id is stored encrypted; only its last four are shown."""

    legal_name: Annotated[str, Meta(min_length=1, max_length=200)]
    address: Annotated[str, Meta(min_length=1, max_length=200)]
    taxpayer_id: Annotated[str, Meta(min_length=9, max_length=11, pattern=r"^[0-9 -]+$")]


class TaxDetailsOut(Struct, kw_only=True):
    legal_name: str
    address: str
    taxpayer_id_last4: str
    submitted_at: datetime


class ProtectionController(Controller):
    path = "/me"
    tags = ("protection",)
    security = BEARER

    @get(
        "/limits",
        operation_id="myLimits",
        opt=PLAYERS_ONLY,
        sync_to_thread=True,
        responses=problem_responses(401, 403, 503),
    )
    def limits(
        self, request: Request[Account, Token, Any], platform: NamedDependency[Platform]
    ) -> LimitsOut:
        """Each limit in force, what this period used of it, when it resets, and any
        loosening waiting to take effect."""
        return limits_out(limits_of(platform, request.user.user_id))

    @put(
        "/limits",
        operation_id="setMyLimits",
        opt=PLAYERS_ONLY,
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 422, 503),
    )
    def set_limits(
        self,
        data: JSONBody[LimitsIn],
        request: Request[Account, Token, Any],
        platform: NamedDependency[Platform],
    ) -> LimitsOut:
        """Set limits: tighter at once, looser after 90 days (see `pending`)."""
        asked: dict[LimitKind, int | None] = {}
        for kind in LimitKind:
            value = getattr(data, kind.value)
            if value is not UNSET:
                asked[kind] = value
        set_limits(platform, request.user.user_id, asked)
        return limits_out(limits_of(platform, request.user.user_id))

    @post(
        "/cool-off",
        operation_id="coolOff",
        opt=PLAYERS_ONLY,
        status_code=200,
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 422, 503),
    )
    def cool_off(
        self,
        data: JSONBody[CoolOffIn],
        request: Request[Account, Token, Any],
        platform: NamedDependency[Platform],
    ) -> RestrictionOut:
        """A break from play from now: no joins until it ends; entries in contests that have
        not locked are withdrawn and refunded; prizes won are still paid. It cannot be
        shortened (422 `cannot_shorten`)."""
        duration = timedelta(hours=data.hours)
        return restriction_out(start_cool_off(platform, request.user.user_id, duration))

    @put(
        "/tax-details",
        operation_id="setTaxDetails",
        opt=PLAYERS_ONLY,
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 422, 503),
    )
    def set_tax_details(
        self,
        data: JSONBody[TaxDetailsIn],
        request: Request[Account, Token, Any],
        platform: NamedDependency[Platform],
    ) -> TaxDetailsOut:
        """Give (or replace) the W-9 needed once net winnings reach the year's reporting
        threshold ($600 for 2025, $2,000 from 2026); the answer shows only the last four
        digits of the taxpayer id."""
        details = submit_tax_details(
            platform, request.user.user_id, data.legal_name, data.address, data.taxpayer_id
        )
        return TaxDetailsOut(
            legal_name=details.legal_name,
            address=details.address,
            taxpayer_id_last4=details.taxpayer_id_last4,
            submitted_at=details.submitted_at,
        )

    @post(
        "/self-exclusion",
        operation_id="selfExclude",
        opt=PLAYERS_ONLY,
        status_code=200,
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 422, 503),
    )
    def self_exclusion(
        self,
        data: JSONBody[SelfExclusionIn],
        request: Request[Account, Token, Any],
        platform: NamedDependency[Platform],
    ) -> RestrictionOut:
        """Self-exclusion for a year, five years or for good: as a cool-off, and it can never
        be lifted early."""
        term = ExclusionTerm(data.term)
        return restriction_out(start_self_exclusion(platform, request.user.user_id, term))
