"""Named domain errors: each rule the core enforces fails with one of these, never a string."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the core raises on purpose; adapters and apps translate these."""


class InvalidMoney(DomainError):
    """An amount or currency that money cannot hold (floats, mixed currencies, negative shares)."""


class CurrencyMismatch(InvalidMoney):
    """Two amounts of different currencies were combined."""


class InvalidScoringRules(DomainError):
    """A rule set that cannot score exactly or consistently."""


class UnknownRules(DomainError):
    """No scoring preset has this name."""


class InvalidStatLine(DomainError):
    """A stat value that is not an exact, finite number."""


class InvalidLineup(DomainError):
    """A lineup broke a roster rule; `rule` names the rule and `player_id` the player (if any)."""

    def __init__(self, rule: str, message: str, player_id: str | None = None) -> None:
        self.rule = rule
        self.player_id = player_id
        super().__init__(message)


class InvalidPayoutTable(DomainError):
    """A payout structure that cannot pay its prize pool exactly."""


class IllegalTransition(DomainError):
    """A status change that the record's current status does not allow.

    `record` says what kind of record (contest, entry, payout, refund): each kind states
    its legal moves once, in a table (`lifecycle.TRANSITIONS`, `entries.ENTRY_MOVES`,
    `payments.PAYOUT_MOVES`, `payments.REFUND_MOVES`).
    """

    def __init__(
        self, record: str, record_id: str, current: str, attempted: str, why: str = ""
    ) -> None:
        self.record = record
        self.record_id = record_id
        self.current = current
        self.attempted = attempted
        detail = f": {why}" if why else ""
        super().__init__(f"{record} {record_id} cannot go from {current} to {attempted}{detail}")


class WithholdingRefused(DomainError):
    """A payout's backup withholding decided twice, after a send, out of range, or a send
    before it was decided (decision 0042: decided once, before the first transfer attempt)."""


class UnbalancedPostings(DomainError):
    """A set of ledger postings whose debits and credits differ; it cannot be recorded."""


class InvalidSportTemplate(DomainError):
    """A roster template that no lineup could satisfy (no slots, unknown positions, bad limits)."""


class UnknownSportTemplate(DomainError):
    """No sport template has this name."""


class InvalidPlayerPool(DomainError):
    """A slate's player pool with a malformed player, a duplicate id or a non-positive salary."""


class InvalidEntryLimit(DomainError):
    """A per-player entry limit that cannot be applied, or its stored form is malformed."""


class UnknownContest(DomainError):
    """No contest has this id."""


class UnknownEntry(DomainError):
    """No entry has this id."""


class UnknownPayout(DomainError):
    """No payout has this fingerprint."""


class DuplicateRecord(DomainError):
    """A record with this unique key exists already."""


class ConcurrentUpdate(DomainError):
    """Another transaction changed this record first; the use case may be retried."""


class StoreUnavailable(DomainError):
    """The store cannot be reached right now (the server is gone, the connection was lost, the
    database stayed locked): the unit of work did not commit, so the use case may be retried.

    Only a lost connection during `commit()` itself leaves the outcome unknown; the use cases
    are idempotent (fingerprints, compare-and-set on states), so a retry is safe either way.
    """


class JoinRefused(DomainError):
    """A join that cannot go ahead: `reason` is a stable code (locked, full, entry_limit, ...)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class IdempotencyKeyReused(DomainError):
    """A client's idempotency key sent again with another request (another lineup or payment
    method): the first outcome belongs to the first request, so this one is refused."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


class NotYourEntry(DomainError):
    """A player acting on an entry that is another player's (withdraw, change its lineup)."""


class WithdrawRefused(DomainError):
    """A withdrawal that the contest's rules do not allow (past the cut-off, not active)."""


class LineupChangeRefused(DomainError):
    """An edit or swap of an entry's lineup the contest's rules do not allow: `reason` is a
    stable code (not_active, locked, player_started)."""

    def __init__(self, reason: str, message: str, player_id: str | None = None) -> None:
        self.reason = reason
        self.player_id = player_id
        super().__init__(message)


class LineupsNotPublic(DomainError):
    """A contest's lineups are published (exported) only from its lock on, and not for a
    cancelled contest."""


class StandingsNotLive(DomainError):
    """A contest's live standings are streamed from its lock until it settles."""


class GatewayUnavailable(DomainError):
    """The payment gateway certainly did not act on the request; it may be retried."""


class GatewayRequestRefused(GatewayUnavailable):
    """The gateway refused the request as invalid (its message says why); nothing took effect.

    A GatewayUnavailable, so callers that retry later keep working, but sending the
    same request unchanged will be refused again: it needs a person to look at it.
    """


class PaymentOutcomeUnknown(DomainError):
    """The payment gateway may or may not have acted; look the outcome up before retrying."""


class GatewayAuthError(DomainError):
    """The platform's own payment account is invalid or disabled."""


class PayoutRejected(DomainError):
    """The gateway refused a transfer to this destination; `reason` says why."""


class UnknownConnectedAccount(DomainError):
    """The gateway has no connected account with this id."""


class NoPayoutAccount(DomainError):
    """The player has no connected account yet (a login link needs one): start onboarding."""


class InvalidWebhook(DomainError):
    """A payment webhook that cannot be trusted or read: bad signature, stale, or malformed."""


class InvalidConfiguration(DomainError):
    """A setting that cannot be used as given (a test key in production...): says which and why."""


class OperatorActionRefused(DomainError):
    """An operator action the contest's state does not allow (e.g. cancel after settlement)."""


class InvalidText(DomainError):
    """Display text that cannot be shown as it is (fantasy_core.text): `field` names the
    input, `rule` why (empty, too_long, control_character, bidi_control, ...)."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(message)


class InvalidCorrection(DomainError):
    """An operator's stat correction that cannot be accepted; `rule` names why (a feed
    validation rule such as `negative_count`, or `unknown_player`, `unknown_stat`, ...)."""

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(message)


class InvalidFeedData(DomainError):
    """Game data that cannot be read at all (malformed snapshot or game); the message says where."""


class FeedUnavailable(DomainError):
    """The stats provider cannot be reached or read right now; ask again later."""


class UnknownSlate(DomainError):
    """The stats feed has no slate with this id."""


class UnknownAlert(DomainError):
    """No alert has this key."""


class AlertDeliveryFailed(DomainError):
    """An alert channel did not accept a notice (unreachable, refused); the message says why."""


class PlayRefused(DomainError):
    """A player protection rule refuses paid play (fantasy_core.protection): `reason` is a
    stable code, one per rule, so that each has its own problem type over HTTP."""

    reason = "protection"


class UnderAge(PlayRefused):
    """The player is younger than the minimum age for paid play where they are."""

    reason = "age"

    def __init__(self, jurisdiction: str, minimum_age: int) -> None:
        self.jurisdiction = jurisdiction
        self.minimum_age = minimum_age
        super().__init__(f"paid contests in {jurisdiction} are for players aged {minimum_age}+")


class JurisdictionExcluded(PlayRefused):
    """Paid contests are not offered where the player is at the time of the join."""

    reason = "jurisdiction"

    def __init__(self, jurisdiction: str) -> None:
        self.jurisdiction = jurisdiction
        super().__init__(f"paid contests are not offered in {jurisdiction}")


class ProfileIncomplete(PlayRefused):
    """The player has no date of birth and jurisdiction on file (an account made before
    they were asked for): no paid play until they are given."""

    reason = "profile_incomplete"


class UnknownLocation(PlayRefused):
    """Where the player is cannot be established, so no paid join can be checked."""

    reason = "location"


class LimitReached(PlayRefused):
    """A join would take the player over one of their limits: `limit` names which
    (fees_day, fees_week, fees_month, entries_week), `left` what is left of it (cents or
    entries) and `resets_at` when its period starts again."""

    reason = "limit"

    def __init__(self, limit: str, left: int, resets_at: object, message: str) -> None:
        self.limit = limit
        self.left = left
        self.resets_at = resets_at
        super().__init__(message)


class PlayerRestricted(PlayRefused):
    """The player is in a cool-off or self-excluded: no joins until `until` (None: ever)."""

    def __init__(self, kind: str, until: object, message: str) -> None:
        self.reason = kind
        self.until = until
        super().__init__(message)


class TierRefused(PlayRefused):
    """The contest is not open to the player's fair-play tier (beginner, highly experienced)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class InvalidProtectionRequest(DomainError):
    """A limit, cool-off or self-exclusion request the rules do not allow: `rule` says why."""

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(message)
