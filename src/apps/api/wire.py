"""The API's wire types (msgspec Structs) and their mapping from the core's objects.

Handlers never return domain objects: each response is built here from them.
Money is integer minor units with its currency; points are exact decimal strings.
Request types forbid unknown fields, so a misspelt field is a 400, not ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from adapters.sandbox import TEST_CARDS
from apps.accounts import MAX_DISPLAY_NAME_LENGTH, MIN_PASSWORD_LENGTH
from apps.templates import SPORT_OF_TEMPLATE
from fantasy_core.accounts import Account
from fantasy_core.alerting import StoredAlert
from fantasy_core.audit import AuditRecord
from fantasy_core.calendar import CalendarLine
from fantasy_core.contest import Contest
from fantasy_core.entries import Entry
from fantasy_core.leaderboard import LeaderboardPage
from fantasy_core.ledger import Conservation
from fantasy_core.lineups import SportTemplate, sport_template
from fantasy_core.payments import ChargeOutcome, Payout, Refund
from fantasy_core.payout_accounts import OnboardingLink, PayoutAccount
from fantasy_core.payouts import MultipleOfFee, PayoutStructure, RankTable, TopFraction
from fantasy_core.protection.fairplay import MonthFigures
from fantasy_core.protection.players import PlayerProfile
from fantasy_core.protection.restrictions import Restriction
from fantasy_core.scoring import format_points
from fantasy_core.usecases.connect import PlayerPayouts
from fantasy_core.usecases.console import BoardRow
from fantasy_core.usecases.queries import ContestSummary, PaymentsOf, Placing
from fantasy_core.usecases.reports import EntryExplanation, LedgerReport
from fantasy_core.usecases.visibility import LineupView

Email = Annotated[str, Meta(min_length=3, max_length=254)]
Password = Annotated[str, Meta(min_length=1, max_length=1024)]
# The rule apps.accounts enforces, stated where clients read it: the schema's minLength.
NewPassword = Annotated[
    str,
    Meta(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=1024,
        description=f"at least {MIN_PASSWORD_LENGTH} characters (any characters; a "
        "passphrase is fine); stored as an argon2id hash",
    ),
]
Text = Annotated[str, Meta(min_length=1, max_length=200)]
Reason = Annotated[str, Meta(min_length=3, max_length=500, pattern=r"\S")]


class Request(Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body."""


class ProblemOut(Struct, kw_only=True):
    """An RFC 9457 problem (application/problem+json): every error the API answers.

    `type` is stable (/problems/<code>); the optional members appear with the
    problems that have them.
    """

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, object]] | None = None  # 400: which fields were refused
    reason: str | None = None  # 409 join-refused, registration refused
    field: str | None = None  # 422 invalid-text, registration refused: the input at fault
    rule: str | None = None  # 422 invalid-lineup: the roster rule; invalid-text: why
    player_id: str | None = None  # 422 invalid-lineup: the player, if any
    hint: str | None = None  # 503: what to do
    entry_id: str | None = None  # 402 payment-declined, 409 join-refused
    decline_code: str | None = None  # 402 payment-declined
    limit: str | None = None  # 409 limit: which limit (fees_day, fees_week, ...)
    left: int | None = None  # 409 limit: what is left of it (cents, or entries)
    resets_at: str | None = None  # 409 limit: when its period starts again
    until: str | None = None  # 403 cool-off, self-excluded: when it ends (null: never)


# ---- accounts ---------------------------------------------------------------------------


class Credentials(Request):
    email: Email
    password: Password


DisplayName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=MAX_DISPLAY_NAME_LENGTH,
        description="what other players see on leaderboards; visible characters only (no "
        "control, bidirectional or invisible ones). Default: 'Player ' and six characters "
        "derived from the user id, never the email",
        examples=["Gridiron Ann"],
    ),
]


StateCode = Annotated[
    str,
    Meta(
        pattern=r"^[A-Z]{2}$",
        description="a US state code (two capitals; DC for the District of Columbia)",
        examples=["NJ"],
    ),
]


class RegisterIn(Request):
    email: Email
    password: NewPassword
    date_of_birth: Annotated[
        date, Meta(description="ISO date; paid play needs 18+ (19 AL, NE; 21 MA, AZ, IA)")
    ]
    jurisdiction: Annotated[StateCode, Meta(description="the US state the player lives in")]
    display_name: DisplayName | None = None


class PlayerDetailsIn(Request):
    """For an account made before registration asked: the date of birth and state."""

    date_of_birth: date
    jurisdiction: StateCode


class PasswordChangeIn(Request):
    current_password: Password
    new_password: NewPassword


class PasswordResetIn(Request):
    email: Email


class PasswordResetConfirmIn(Request):
    token: Annotated[
        str,
        Meta(min_length=1, max_length=512, description="the token of the reset mail's link"),
    ]
    new_password: NewPassword


class PasswordResetOut(Struct, kw_only=True):
    detail: str


class RestrictionOut(Struct, kw_only=True):
    kind: str  # cool_off or self_exclusion
    since: datetime
    until: datetime | None  # null: permanent


def restriction_out(restriction: Restriction) -> RestrictionOut:
    return RestrictionOut(
        kind=restriction.kind.value, since=restriction.since, until=restriction.until
    )


class TokenOut(Struct, kw_only=True):
    access_token: str
    token_type: str
    expires_in: int
    user_id: str
    role: str
    # A cool-off or self-exclusion in force (decision 0043): the token still reads entries
    # and payouts and takes tax details, but enters and plays no contest until `until`.
    break_from_play: RestrictionOut | None = None
    can_enter_contests: bool = True


class PayoutAccountIn(Request):
    account_id: Annotated[str, Meta(pattern=r"^acct_[A-Za-z0-9_-]{1,100}$")]


class OnboardingIn(Request):
    # Where the player's bank is: Stripe's country of the connected account (ISO 3166-1).
    country: Annotated[str, Meta(pattern=r"^[A-Z]{2}$")] = "US"


class LinkOut(Struct, kw_only=True):
    url: str
    expires_at: datetime | None


def link_out(link: OnboardingLink) -> LinkOut:
    expires = link.expires_at_epoch
    return LinkOut(
        url=link.url, expires_at=None if expires is None else datetime.fromtimestamp(expires, UTC)
    )


class PrizeOut(Struct, kw_only=True):
    contest_id: str
    entry_id: str
    amount_minor: int
    currency: str
    where: Literal["owed", "in_flight", "paid"]
    status: str
    reversals: int  # how often a transfer of this prize was reversed (each sent again)
    why: str | None  # why it is not paid (or why it was reversed or failed)
    transfer_id: str | None
    # Backup withholding kept from the prize (24%, no W-9 after a reportable win); null:
    # not decided yet (decided once, at its first send). transfer_minor = amount - withheld.
    withheld_minor: int | None
    transfer_minor: int


class PayoutsOut(Struct, kw_only=True):
    state: Literal["none", "onboarding", "enabled", "disabled"]
    account_id: str | None
    missing: list[str]  # what the player must do before prizes are sent
    owed_minor: int
    in_flight_minor: int
    paid_minor: int
    withheld_minor: int  # the totals above are what is transferred; this, what was withheld
    prizes: list[PrizeOut]


def payouts_out(page: PlayerPayouts) -> PayoutsOut:
    return PayoutsOut(
        state=page.state.value,
        account_id=page.account_id,
        missing=list(page.missing),
        owed_minor=page.total("owed"),
        in_flight_minor=page.total("in_flight"),
        paid_minor=page.total("paid"),
        withheld_minor=page.withheld,
        prizes=[
            PrizeOut(
                contest_id=x.contest_id,
                entry_id=x.entry_id,
                amount_minor=x.amount_minor,
                currency=x.currency,
                where=x.where,  # type: ignore[arg-type]  # one of the three
                status=x.status.value,
                reversals=x.reversals,
                why=x.why,
                transfer_id=x.transfer_id,
                withheld_minor=x.withheld_minor,
                transfer_minor=x.to_transfer_minor,
            )
            for x in page.prizes
        ],
    )


class ProfileOut(Struct, kw_only=True):
    user_id: str
    email: str
    display_name: str
    role: str
    payout_account_id: str | None
    payouts_enabled: bool
    jurisdiction: str | None = None  # where the player registered (None: not on file)
    highly_experienced: bool = False  # the platform's fair-play tier; permanent


def profile_out(
    account: Account, payout: PayoutAccount | None, player: PlayerProfile | None = None
) -> ProfileOut:
    return ProfileOut(
        user_id=account.user_id,
        email=account.email,
        display_name=account.display_name,
        role=account.role.value,
        payout_account_id=None if payout is None else payout.account_id,
        payouts_enabled=payout is not None and payout.payouts_enabled,
        jurisdiction=None if player is None else player.jurisdiction,
        highly_experienced=player is not None and player.highly_experienced_since is not None,
    )


# ---- the lobby --------------------------------------------------------------------------


class ContestOut(Struct, kw_only=True):
    contest_id: str
    name: str
    state: str
    sport: str
    sport_template: str
    slate_id: str
    entry_fee_minor: int
    currency: str
    capacity: int
    seats_taken: int
    max_entries_per_player: int
    lock_at: datetime
    guaranteed_pool_minor: int | None


class SlatePlayerOut(Struct, kw_only=True):
    player_id: str
    name: str
    position: str
    team: str
    game_id: str
    salary: int


class RulesOut(Struct, kw_only=True):
    name: str
    fingerprint: str


class RosterSlotOut(Struct, kw_only=True):
    name: str
    positions: list[str]


class RosterOut(Struct, kw_only=True):
    """What a lineup must be: one player per slot in this order, salaries (whole dollars)
    adding up to at most the cap, players from at least `min_teams` real teams and
    `min_games` games."""

    template: str
    slots: list[RosterSlotOut]
    salary_cap: int
    min_teams: int
    min_games: int


def roster_out(template: SportTemplate) -> RosterOut:
    return RosterOut(
        template=template.name,
        slots=[
            RosterSlotOut(name=slot.name, positions=sorted(p.value for p in slot.eligible))
            for slot in template.slots
        ],
        salary_cap=template.salary_cap,
        min_teams=template.min_teams,
        min_games=template.min_games,
    )


# A payout table, by its `kind` (the core's canonical form, as the rules fingerprint hashes it).
Tier = Annotated[
    tuple[int, int, int], Meta(description="first place, last place (1-based, inclusive), value")
]


class RankTableOut(Struct, kw_only=True, tag="rank_table", tag_field="kind"):
    """The pool shared by weight: each tier's places take `value` shares each."""

    tiers: list[Tier]


class TopFractionOut(Struct, kw_only=True, tag="top_fraction", tag_field="kind"):
    """The best `floor(entries * fraction)` places share the pool equally."""

    fraction: Annotated[str, Meta(examples=["1/2"])]


class MultipleOfFeeOut(Struct, kw_only=True, tag="multiple_of_fee", tag_field="kind"):
    """As many places as the pool can pay `multiple` entry fees share it equally."""

    multiple: int


class FixedTableOut(Struct, kw_only=True, tag="fixed_table", tag_field="kind"):
    """Fixed prizes: each tier's places win `value` minor units each."""

    currency: str
    tiers: list[Tier]


PayoutTableOut = RankTableOut | TopFractionOut | MultipleOfFeeOut | FixedTableOut


def payout_table_out(payout: PayoutStructure) -> PayoutTableOut:
    if isinstance(payout, RankTable):
        return RankTableOut(tiers=[(t.first, t.last, t.weight) for t in payout.tiers])
    if isinstance(payout, TopFraction):
        fraction = payout.fraction
        return TopFractionOut(fraction=f"{fraction.numerator}/{fraction.denominator}")
    if isinstance(payout, MultipleOfFee):
        return MultipleOfFeeOut(multiple=payout.multiple)
    return FixedTableOut(
        currency=payout.currency,
        tiers=[(t.first, t.last, t.amount.minor) for t in payout.tiers],
    )


class ContestDetailOut(ContestOut, kw_only=True):
    roster: RosterOut
    rules: RulesOut
    payout: PayoutTableOut
    rake_bps: int
    min_entries: int
    withdraw_deadline: datetime
    correction_window_seconds: int
    cancel_reason: str | None
    late_swap: bool
    fair_play: str  # open, beginners (fewer than 50 contests entered), no_highly_experienced
    kickoffs: dict[str, datetime]
    players: list[SlatePlayerOut]


def contest_out(summary: ContestSummary) -> ContestOut:
    contest = summary.contest
    terms = contest.terms
    return ContestOut(
        contest_id=contest.contest_id,
        name=terms.name,
        state=contest.state.value,
        sport=SPORT_OF_TEMPLATE.get(terms.sport_template, "unknown"),
        sport_template=terms.sport_template,
        slate_id=terms.slate_id,
        entry_fee_minor=terms.entry_fee.minor,
        currency=terms.currency,
        capacity=terms.capacity,
        seats_taken=summary.seats_taken,
        max_entries_per_player=terms.max_entries_per_player,
        lock_at=terms.lock_at,
        guaranteed_pool_minor=(
            None if terms.guaranteed_pool is None else terms.guaranteed_pool.minor
        ),
    )


def contest_detail_out(summary: ContestSummary) -> ContestDetailOut:
    contest = summary.contest
    terms = contest.terms
    return ContestDetailOut(
        **msgspec.structs.asdict(contest_out(summary)),
        roster=roster_out(sport_template(terms.sport_template)),
        rules=RulesOut(name=terms.rules.name, fingerprint=terms.rules.fingerprint),
        payout=payout_table_out(terms.payout),
        rake_bps=terms.rake_bps,
        min_entries=terms.min_entries,
        withdraw_deadline=terms.withdraw_deadline(),
        correction_window_seconds=int(terms.correction_window.total_seconds()),
        cancel_reason=contest.cancel_reason,
        late_swap=terms.late_swap,
        fair_play=terms.fair_play.value,
        kickoffs=dict(terms.kickoffs),
        players=[
            SlatePlayerOut(
                player_id=p.player_id,
                name=p.name,
                position=p.position.value,
                team=p.team,
                game_id=p.game_id,
                salary=p.salary,
            )
            for p in terms.pool.players.values()
        ],
    )


# ---- entries ----------------------------------------------------------------------------


class PickIn(Request):
    slot: Text
    player_id: Text


def _payment_method_description() -> str:
    cards = "; ".join(f"`{card}`: {behaviour}" for card, behaviour in TEST_CARDS.items())
    return (
        "A Stripe PaymentMethod id (pm_...). In a test environment without a Stripe key "
        f"the sandbox gateway takes the payments, and these test methods do as Stripe's "
        f"test cards do: {cards}. Any other id is declined by the sandbox."
    )


PaymentMethod = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=200,
        description=_payment_method_description(),
        examples=list(TEST_CARDS),
    ),
]


class JoinIn(Request):
    lineup: Annotated[list[PickIn], Meta(min_length=1, max_length=30)]
    payment_method: PaymentMethod
    location: Annotated[
        StateCode | None,
        Meta(
            description="where the player is now, as the client's geolocation says (absent: "
            "the state they registered in); paid play is by where the player is"
        ),
    ] = None


class LineupIn(Request):
    """An entry's new lineup (an edit before lock, or a late swap)."""

    lineup: Annotated[list[PickIn], Meta(min_length=1, max_length=30)]


class BulkJoinIn(Request):
    """Several lineups for one contest at once (DraftKings' bulk upload), each with its
    payment method; at most the contest's entry limit per player."""

    entries: Annotated[list[JoinIn], Meta(min_length=1, max_length=150)]


class BulkItemOut(Struct, kw_only=True):
    """One lineup's answer: the status a single join would have answered, and the entry
    (201, 202) or the problem (402, 409, 422, 503...)."""

    index: int
    idempotency_key: str
    status: int
    entry: EntryOut | None
    problem: dict[str, object] | None


class BulkJoinOut(Struct, kw_only=True):
    contest_id: str
    results: list[BulkItemOut]


class PickOut(Struct, kw_only=True):
    """One pick of a lineup. `player_id` is null where the viewer may not see it yet:
    another player's pick whose game has not started, until the contest completes."""

    slot: str
    player_id: str | None


class PaymentActionOut(Struct, kw_only=True):
    """What a client needs to finish a payment the bank wants confirmed (3-D Secure).

    With Stripe, pass `client_secret` to Stripe.js (`stripe.handleNextAction({clientSecret})`,
    as the web join page does) with the publishable key; in test environments on the
    sandbox gateway, POST it to `confirm_url`.
    The outcome arrives as a payment event; the entry's status says how it ended. A
    payment not confirmed within 15 minutes (or before lock) gives its seat back.
    """

    payment_intent: str
    status: str
    client_secret: str
    confirm_url: str | None


class EntryOut(Struct, kw_only=True):
    """An entry. `display_name` is its player's; `points` and `rank` appear once the
    contest locked (live until settled, `final` after) for an active entry."""

    entry_id: str
    contest_id: str
    user_id: str
    display_name: str | None = None
    status: str
    reason: str | None
    fee_minor: int
    created_at: datetime
    lineup: list[PickOut]
    points: str | None = None
    rank: int | None = None
    final: bool = False
    payment: PaymentActionOut | None = None


def payment_action_out(outcome: ChargeOutcome, confirm_url: str | None) -> PaymentActionOut:
    if outcome.charge_id is None or outcome.client_secret is None:
        raise ValueError("a payment waiting for the player has an id and a client secret")
    return PaymentActionOut(
        payment_intent=outcome.charge_id,
        status="requires_action",
        client_secret=outcome.client_secret,
        confirm_url=confirm_url,
    )


class SandboxConfirmIn(Request):
    """The player's answer to the bank's challenge, as the sandbox plays it."""

    client_secret: Annotated[str, Meta(min_length=1, max_length=200)]
    outcome: Literal["succeeded", "failed"]


def entry_out(
    entry: Entry,
    payment: PaymentActionOut | None = None,
    *,
    display_name: str | None = None,
    placing: Placing | None = None,
    view: LineupView | None = None,
) -> EntryOut:
    """`view`: the lineup as the caller may see it (hidden lineups); None shows it all."""
    picks = entry.lineup.picks if view is None else view.picks
    return EntryOut(
        payment=payment,
        entry_id=entry.entry_id,
        contest_id=entry.contest_id,
        user_id=entry.user_id,
        display_name=display_name,
        points=None if placing is None else format_points(placing.score),
        rank=None if placing is None else placing.rank,
        final=placing is not None and placing.final,
        status=entry.status.value,
        reason=entry.reason,
        fee_minor=entry.fee_minor,
        created_at=entry.created_at,
        lineup=[PickOut(slot=slot, player_id=pid) for slot, pid in picks],
    )


class StandingOut(Struct, kw_only=True):
    rank: int
    entry_id: str
    user_id: str
    display_name: str
    score: str
    prize_minor: int
    highly_experienced: bool = False  # the platform's fair-play tier (Michigan R 432.532a)


class LeaderboardOut(Struct, kw_only=True):
    contest_id: str
    state: str
    final: bool
    total: int
    offset: int
    limit: int
    next_offset: int | None
    rows: list[StandingOut]


def leaderboard_out(
    board: LeaderboardPage,
    offset: int,
    limit: int,
    names: Mapping[str, str],
    experienced: AbstractSet[str] = frozenset(),
) -> LeaderboardOut:
    """`names`: display names by user id (an unknown user shows as its id); `experienced`:
    the users on the page found highly experienced."""
    following = offset + limit
    return LeaderboardOut(
        contest_id=board.contest_id,
        state=board.state.value,
        final=board.final,
        total=board.total,
        offset=offset,
        limit=limit,
        next_offset=following if following < board.total else None,
        rows=[
            StandingOut(
                rank=row.rank,
                entry_id=row.entry_id,
                user_id=row.user_id,
                display_name=names.get(row.user_id, row.user_id),
                score=format_points(row.score),
                prize_minor=row.prize_minor,
                highly_experienced=row.user_id in experienced,
            )
            for row in board.rows
        ],
    )


class ScoreLineOut(Struct, kw_only=True, omit_defaults=True):
    """One rule that fired: the stat's value x the rule = points.

    `source` appears only on a line whose value a correction set, saying which one
    ("corrected by operator: <reason>", or, for the provider's correction of a game
    already final, "corrected by the provider: <old> -> <new> (version <from> -> <to>)").
    """

    stat: str
    value: str
    rule: str
    points: str
    source: str | None = None


class PlayerScoreOut(Struct, kw_only=True):
    player_id: str
    points: str
    lines: list[ScoreLineOut]


class ExplanationOut(Struct, kw_only=True):
    entry_id: str
    total: str
    players: list[PlayerScoreOut]


def explanation_out(explained: EntryExplanation, view: LineupView | None = None) -> ExplanationOut:
    """`view`: the lineup as the caller may see it; players hidden from it are left out."""
    shown = None if view is None else {pid for _, pid in view.picks if pid is not None}
    return ExplanationOut(
        entry_id=explained.entry_id,
        total=format_points(explained.total),
        players=[
            PlayerScoreOut(
                player_id=player,
                points=format_points(explanation.total),
                lines=[
                    ScoreLineOut(
                        stat=line.stat,
                        value=format_points(line.value),
                        rule=line.rule,
                        points=format_points(line.points),
                        source=explained.source(player, line.stat),
                    )
                    for line in explanation.lines
                ],
            )
            for player, explanation in explained.players
            if shown is None or player in shown
        ],
    )


class ChargeOut(Struct, kw_only=True):
    entry_id: str
    contest_id: str
    charge_id: str
    amount_minor: int
    entry_status: str


class RefundOut(Struct, kw_only=True):
    entry_id: str
    contest_id: str
    amount_minor: int
    status: str
    reason: str


class PayoutOut(Struct, kw_only=True):
    entry_id: str
    contest_id: str
    amount_minor: int
    currency: str
    status: str
    transfer_id: str | None
    withheld_minor: int | None  # backup withholding; null: not decided (never sent)


class PaymentsOut(Struct, kw_only=True):
    charges: list[ChargeOut]
    refunds: list[RefundOut]
    payouts: list[PayoutOut]


def _refund_out(refund: Refund) -> RefundOut:
    return RefundOut(
        entry_id=refund.entry_id,
        contest_id=refund.contest_id,
        amount_minor=refund.amount_minor,
        status=refund.status.value,
        reason=refund.reason,
    )


def _payout_out(payout: Payout) -> PayoutOut:
    return PayoutOut(
        entry_id=payout.entry_id,
        contest_id=payout.contest_id,
        amount_minor=payout.amount_minor,
        currency=payout.currency,
        status=payout.status.value,
        transfer_id=payout.transfer_id,
        withheld_minor=payout.withheld_minor,
    )


def payments_out(payments: PaymentsOf) -> PaymentsOut:
    return PaymentsOut(
        charges=[
            ChargeOut(
                entry_id=e.entry_id,
                contest_id=e.contest_id,
                charge_id=e.charge_id or "",
                amount_minor=e.fee_minor,
                entry_status=e.status.value,
            )
            for e in payments.charged
        ],
        refunds=[_refund_out(r) for r in payments.refunds],
        payouts=[_payout_out(x) for x in payments.payouts],
    )


class SettlementOut(Struct, kw_only=True):
    contest_id: str
    sha256: str
    snapshot_url: str
    check_with: str


# ---- operators --------------------------------------------------------------------------


class CreateContestIn(Request):
    template: Text
    slate_id: Text
    lock_at: Annotated[datetime, Meta(tz=True)] | None = None
    name: Text | None = None


class CancelIn(Request):
    reason: Reason


class CancelOut(Struct, kw_only=True):
    contest_id: str
    state: str
    refunds_owed: int


def cancel_out(contest: Contest, owed: int) -> CancelOut:
    return CancelOut(contest_id=contest.contest_id, state=contest.state.value, refunds_owed=owed)


class CorrectionIn(Request):
    slate_id: Text
    player_id: Text
    stat: Text
    value: Annotated[str, Meta(min_length=1, max_length=40)]
    reason: Reason


class CorrectionOut(Struct, kw_only=True):
    affected_contests: list[str]


class CalendarLineOut(Struct, kw_only=True):
    """A line of the contest calendar, and whether an operator paused it."""

    key: str
    sport: str
    template: str
    open_days_before: int
    count: int
    refill: bool
    refill_cap: int
    paused: bool


def calendar_line_out(line: CalendarLine, paused: bool) -> CalendarLineOut:
    return CalendarLineOut(
        key=line.key,
        sport=line.sport,
        template=line.template,
        open_days_before=line.open_days_before,
        count=line.count,
        refill=line.refill,
        refill_cap=line.refill_cap,
        paused=paused,
    )


class AlertOut(Struct, kw_only=True):
    key: str
    incident: int
    state: str
    severity: str
    message: str
    contest_id: str | None
    first_at: datetime
    last_at: datetime
    count: int
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None


def alert_out(alert: StoredAlert) -> AlertOut:
    return AlertOut(
        key=alert.key,
        incident=alert.incident,
        state=alert.state.value,
        severity=alert.severity.value,
        message=alert.message,
        contest_id=alert.contest_id,
        first_at=alert.first_at,
        last_at=alert.last_at,
        count=alert.count,
        acknowledged_by=alert.acknowledged_by,
        acknowledged_at=alert.acknowledged_at,
        resolved_by=alert.resolved_by,
        resolved_at=alert.resolved_at,
    )


class AuditOut(Struct, kw_only=True):
    at: datetime
    actor: str
    action: str
    contest_id: str | None
    subject: str | None
    outcome: str
    detail: str


def audit_out(record: AuditRecord) -> AuditOut:
    return AuditOut(
        at=record.at,
        actor=record.actor,
        action=record.action,
        contest_id=record.contest_id,
        subject=record.subject,
        outcome=record.outcome.value,
        detail=record.detail,
    )


class ContestMoneyOut(Struct, kw_only=True):
    contest_id: str
    conserved: bool
    collected_minor: int
    refunded_minor: int
    rake_minor: int
    overlay_minor: int
    awarded_minor: int
    paid_out_minor: int
    withheld_minor: int  # backup withholding kept from prizes (decision 0042)


class LedgerOut(Struct, kw_only=True):
    ok: bool
    posting_sets: int
    unbalanced: list[str]
    closed_contests: list[ContestMoneyOut]


def _money_out(c: Conservation) -> ContestMoneyOut:
    return ContestMoneyOut(
        contest_id=c.contest_id,
        conserved=c.conserved,
        collected_minor=c.collected,
        refunded_minor=c.refunded,
        rake_minor=c.rake,
        overlay_minor=c.overlay,
        awarded_minor=c.awarded,
        paid_out_minor=c.paid_out,
        withheld_minor=c.withheld,
    )


def ledger_out(report: LedgerReport) -> LedgerOut:
    return LedgerOut(
        ok=report.ok,
        posting_sets=report.posting_sets,
        unbalanced=list(report.unbalanced),
        closed_contests=[_money_out(c) for c in report.closed_contests],
    )


class HealthOut(Struct, kw_only=True):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


class WebhookOut(Struct, kw_only=True):
    event_id: str | None
    applied: bool


class BoardRowOut(Struct, kw_only=True):
    contest_id: str
    name: str
    state: str
    slate_id: str
    seats_taken: int
    capacity: int
    lock_at: datetime
    waiting_for: str | None
    deadline: datetime | None
    overdue: bool
    payouts_outstanding: bool


def board_row_out(row: BoardRow) -> BoardRowOut:
    return BoardRowOut(
        contest_id=row.contest_id,
        name=row.name,
        state=row.state.value,
        slate_id=row.slate_id,
        seats_taken=row.seats_taken,
        capacity=row.capacity,
        lock_at=row.lock_at,
        waiting_for=row.waiting_for,
        deadline=row.deadline,
        overdue=row.overdue,
        payouts_outstanding=row.payouts_outstanding,
    )


class FairPlayOut(Struct, kw_only=True):
    """A month's published fair-play figures, from the ledger (decision 0041): the players
    of the contests whose games completed that month, their median and mean net winnings
    (prizes, withholding included, less the fees they kept) and the share of the prize
    money won by highly experienced players. Exact values are fractions of cents ("n" or
    "n/d"); the rounded ones (to the cent, half to even; to a tenth of a percent) are for
    display."""

    month: str
    complete: bool  # the month is over (figures of a month under way can still change)
    players: int
    prizes_minor: int
    median_net_minor: int
    median_net_exact: str
    mean_net_minor: int
    mean_net_exact: str
    highly_experienced_share: str  # of prizes_minor, exact ("0" when no prize was paid)
    highly_experienced_percent: str  # e.g. "12.5"


def _fraction(value: Fraction) -> str:
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def fair_play_out(month: str, complete: bool, figures: MonthFigures) -> FairPlayOut:
    tenths = round(figures.experienced_share * 1000)
    return FairPlayOut(
        month=month,
        complete=complete,
        players=figures.players,
        prizes_minor=figures.prizes_minor,
        median_net_minor=round(figures.median_net_minor),
        median_net_exact=_fraction(figures.median_net_minor),
        mean_net_minor=round(figures.mean_net_minor),
        mean_net_exact=_fraction(figures.mean_net_minor),
        highly_experienced_share=_fraction(figures.experienced_share),
        highly_experienced_percent=f"{tenths // 10}.{tenths % 10}",
    )
