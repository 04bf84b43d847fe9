"""The contest aggregate: its terms fixed at creation, and the only way its state can change."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from attrs import define, evolve, field, frozen

from fantasy_core.entry_limits import (
    EntryLimit,
    entry_limit_canonical,
    entry_limit_from_canonical,
)
from fantasy_core.errors import DomainError, IllegalTransition
from fantasy_core.lifecycle import TRANSITIONS, ContestState, ContestTransitioned
from fantasy_core.lineups import PlayerPool, sport_template
from fantasy_core.money import Money
from fantasy_core.payouts import FixedTable, PayoutStructure, payout_from_canonical
from fantasy_core.protection.fairplay import FairPlay
from fantasy_core.scoring import ScoringRules
from fantasy_core.text import display_text
from fantasy_core.transitions import check_move

SYSTEM = "system"
MAX_NAME_LENGTH = 200


class InvalidContestTerms(DomainError):
    """Terms that no contest can run by (a free contest, a lock time without a zone, ...)."""


def _aware(_: object, attribute: object, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidContestTerms(f"{value!r} must carry a time zone")


def _to_kickoffs(value: Mapping[str, datetime]) -> Mapping[str, datetime]:
    if not isinstance(value, Mapping):
        raise InvalidContestTerms(f"kickoffs must map game ids to instants, got {value!r}")
    kickoffs: dict[str, datetime] = {}
    for game_id in sorted(value):
        instant = value[game_id]
        if not isinstance(game_id, str) or not isinstance(instant, datetime):
            raise InvalidContestTerms(f"kickoff of {game_id!r} must be an instant, got {instant!r}")
        if instant.utcoffset() is None:
            raise InvalidContestTerms(f"kickoff of game {game_id} must carry a time zone")
        kickoffs[game_id] = instant.astimezone(UTC)
    return MappingProxyType(kickoffs)


class PostponedPolicy(enum.Enum):
    SCORE_ZERO = "score_zero"
    WAIT = "wait"


@frozen
class ContestTerms:
    """Everything fixed when a contest is created; settlement uses these and nothing newer."""

    name: str
    sport_template: str
    pool: PlayerPool
    lock_at: datetime = field(validator=_aware)
    entry_fee: Money
    capacity: int
    entry_limit: EntryLimit
    rules: ScoringRules
    payout: PayoutStructure
    rake_bps: int
    guaranteed_pool: Money | None = None
    min_entries: int = 2
    withdraw_cutoff: timedelta = timedelta(0)
    correction_window: timedelta = timedelta(hours=1)
    # A postponed game: SCORE_ZERO completes without it (its players score 0, as
    # DraftKings does); WAIT keeps the contest LIVE up to `postponed_wait` after lock
    # in case it is played, then scores it 0. Cancelled games always score 0.
    postponed_policy: PostponedPolicy = PostponedPolicy.SCORE_ZERO
    postponed_wait: timedelta = timedelta(hours=48)
    # Each game's scheduled kickoff when the contest was created, by game id (empty for
    # contests created without the schedule). Late swap and hidden lineups read it, beside
    # the feed's own reports (fantasy_core.game_starts).
    kickoffs: Mapping[str, datetime] = field(factory=dict, converter=_to_kickoffs, hash=False)
    # Late swap (DraftKings): after lock, each player stays swappable until his own game
    # starts. Off (FanDuel): the whole lineup locks at the contest's lock.
    late_swap: bool = False
    # Who may join (fantasy_core.protection.fairplay): everyone, beginners only, or all but
    # highly experienced players.
    fair_play: FairPlay = FairPlay.OPEN

    def __attrs_post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidContestTerms("a contest needs a name")
        display_text("name", self.name, MAX_NAME_LENGTH)  # raises InvalidText
        sport_template(self.sport_template)  # raises UnknownSportTemplate
        if not self.entry_fee.is_positive:
            raise InvalidContestTerms(f"the entry fee must be positive, got {self.entry_fee}")
        if type(self.capacity) is not int or self.capacity < 2:
            raise InvalidContestTerms(f"capacity must be at least 2 entries, got {self.capacity}")
        if not 0 <= self.rake_bps < 10_000:
            raise InvalidContestTerms(f"rake must lie in 0..9999 basis points, got {self.rake_bps}")
        if not 1 <= self.min_entries <= self.capacity:
            raise InvalidContestTerms(
                f"minimum entries {self.min_entries} must lie in 1..capacity {self.capacity}"
            )
        if self.guaranteed_pool is not None:
            if self.guaranteed_pool.currency != self.entry_fee.currency:
                raise InvalidContestTerms("the guaranteed pool and the fee differ in currency")
            if not self.guaranteed_pool.is_positive:
                raise InvalidContestTerms("a guaranteed pool must be positive")
        if isinstance(self.payout, FixedTable):
            self._check_fixed_prizes(self.payout)
        if min(self.withdraw_cutoff, self.correction_window, self.postponed_wait) < timedelta(0):
            raise InvalidContestTerms(
                "the withdraw cut-off and correction window cannot be negative"
            )
        if not isinstance(self.fair_play, FairPlay):
            raise InvalidContestTerms(f"fair_play must be a FairPlay, got {self.fair_play!r}")
        if type(self.late_swap) is not bool:
            raise InvalidContestTerms(f"late_swap must be true or false, got {self.late_swap!r}")
        if self.late_swap:
            self._check_kickoffs()

    def _check_kickoffs(self) -> None:
        """Late swap locks each player at his game's kickoff: every game needs one."""
        games = sorted({player.game_id for player in self.pool.players.values()})
        missing = [game_id for game_id in games if game_id not in self.kickoffs]
        if missing:
            raise InvalidContestTerms(
                f"late swap needs every game's kickoff; none for {', '.join(missing)}"
            )

    def _check_fixed_prizes(self, table: FixedTable) -> None:
        """A fixed table is a promise: its total is the guaranteed pool (decision 0011)."""
        total = table.total
        if total.currency != self.entry_fee.currency:
            raise InvalidContestTerms("the fixed prizes and the fee differ in currency")
        if self.guaranteed_pool != total:
            raise InvalidContestTerms(
                f"a fixed prize table pays {total} in all: the guaranteed pool must be "
                f"that amount, got {self.guaranteed_pool}"
            )

    @property
    def slate_id(self) -> str:
        return self.pool.slate_id

    @property
    def currency(self) -> str:
        return self.entry_fee.currency

    @property
    def guaranteed(self) -> bool:
        return self.guaranteed_pool is not None

    @property
    def max_entries_per_player(self) -> int:
        return self.entry_limit.max_entries(self.capacity)

    def withdraw_deadline(self) -> datetime:
        return self.lock_at - self.withdraw_cutoff

    def waits_for_postponed(self, now: datetime) -> bool:
        """Whether a postponed game still holds the contest LIVE at `now`."""
        return self.postponed_policy is PostponedPolicy.WAIT and now < (
            self.lock_at + self.postponed_wait
        )

    def canonical(self) -> dict[str, object]:
        """The terms as JSON-able data (storage, settlement snapshots); exact and ordered."""
        return {
            "name": self.name,
            "sport_template": self.sport_template,
            "pool": self.pool.canonical(),
            "lock_at": _instant(self.lock_at),
            "entry_fee": self.entry_fee.minor,
            "currency": self.entry_fee.currency,
            "capacity": self.capacity,
            "entry_limit": entry_limit_canonical(self.entry_limit),
            "rules": self.rules.canonical(),
            "rules_fingerprint": self.rules.fingerprint,
            "payout": self.payout.canonical(),
            "rake_bps": self.rake_bps,
            "guaranteed_pool": None if self.guaranteed_pool is None else self.guaranteed_pool.minor,
            "min_entries": self.min_entries,
            "withdraw_cutoff_seconds": int(self.withdraw_cutoff.total_seconds()),
            "correction_window_seconds": int(self.correction_window.total_seconds()),
            "postponed_policy": self.postponed_policy.value,
            "postponed_wait_seconds": int(self.postponed_wait.total_seconds()),
            # Written only when set, so terms made before these existed keep their bytes
            # (stored terms and published settlement snapshots hash to what they did).
            **(
                {"kickoffs": {g: _instant(t) for g, t in self.kickoffs.items()}}
                if self.kickoffs
                else {}
            ),
            **({"late_swap": True} if self.late_swap else {}),
            **({"fair_play": self.fair_play.value} if self.fair_play is not FairPlay.OPEN else {}),
        }

    @classmethod
    def from_canonical(cls, data: dict[str, object]) -> ContestTerms:
        """Rebuild stored terms, checking the rules still have the fingerprint recorded."""
        try:
            currency = str(data["currency"])
            rules = ScoringRules.from_canonical(data["rules"])
            if rules.fingerprint != data["rules_fingerprint"]:
                raise InvalidContestTerms(
                    f"stored rules hash to {rules.fingerprint}, "
                    f"not the recorded {data['rules_fingerprint']}"
                )
            guaranteed = data["guaranteed_pool"]
            pool = data["pool"]
            return cls(
                name=str(data["name"]),
                sport_template=str(data["sport_template"]),
                pool=PlayerPool.from_canonical(pool),
                lock_at=datetime.fromisoformat(str(data["lock_at"])),
                entry_fee=Money(_int(data["entry_fee"]), currency),
                capacity=_int(data["capacity"]),
                entry_limit=entry_limit_from_canonical(data["entry_limit"]),
                rules=rules,
                payout=payout_from_canonical(data["payout"]),
                rake_bps=_int(data["rake_bps"]),
                guaranteed_pool=None if guaranteed is None else Money(_int(guaranteed), currency),
                min_entries=_int(data["min_entries"]),
                withdraw_cutoff=timedelta(seconds=_int(data["withdraw_cutoff_seconds"])),
                correction_window=timedelta(seconds=_int(data["correction_window_seconds"])),
                postponed_policy=PostponedPolicy(data["postponed_policy"]),
                postponed_wait=timedelta(seconds=_int(data["postponed_wait_seconds"])),
                kickoffs=_kickoffs_from(data.get("kickoffs", {})),
                late_swap=_bool(data.get("late_swap", False)),
                fair_play=FairPlay(data.get("fair_play", FairPlay.OPEN.value)),
            )
        except KeyError as missing:
            raise InvalidContestTerms(f"stored contest terms lack {missing}") from missing
        except ValueError as error:
            raise InvalidContestTerms(f"stored contest terms: {error}") from error


def _int(value: object) -> int:
    if type(value) is not int:
        raise InvalidContestTerms(f"expected an integer, got {value!r}")
    return value


def _bool(value: object) -> bool:
    if type(value) is not bool:
        raise InvalidContestTerms(f"expected true or false, got {value!r}")
    return value


def _kickoffs_from(value: object) -> dict[str, datetime]:
    if not isinstance(value, dict):
        raise InvalidContestTerms(f"stored kickoffs must be an object, got {value!r}")
    return {str(game): datetime.fromisoformat(str(at)) for game, at in value.items()}


def _instant(value: datetime) -> str:
    """An instant as ISO-8601 in UTC, so equal instants always print the same."""
    return value.astimezone(UTC).isoformat()


@frozen
class ContestMark:
    """What a reader holding a copy of a contest needs to know whether it is current: the
    version (moved by every change of the contest: its state, its cancel reason, its
    terms) and the seats taken (which move without it, as entries come and go)."""

    contest_id: str
    version: int
    seats_taken: int


@define
class Contest:
    """The aggregate root of a contest. State changes only through its methods.

    Each method checks its guard, moves one step, and appends a `ContestTransitioned`
    event to `events` for the audit trail; callers collect and clear the events.
    """

    contest_id: str
    terms: ContestTerms
    # Read through `state`; set only by _move (or when a stored contest is rebuilt).
    _state: ContestState = field(default=ContestState.SCHEDULED, alias="state")
    completed_at: datetime | None = None
    cancel_reason: str | None = None
    version: int = 0
    events: list[ContestTransitioned] = field(factory=list, eq=False)

    @property
    def state(self) -> ContestState:
        """Where the contest is in its lifecycle; only the methods below move it."""
        return self._state

    def _move(self, target: ContestState, at: datetime, actor: str, reason: str) -> None:
        check_move(TRANSITIONS, "contest", self.contest_id, self.state, target)
        event = ContestTransitioned(self.contest_id, self.state, target, at, actor, reason)
        self._state = target
        self.version += 1
        self.events.append(event)

    def _refuse(self, target: ContestState, why: str) -> IllegalTransition:
        return IllegalTransition("contest", self.contest_id, self.state.value, target.value, why)

    def accepts_entries(self, now: datetime) -> bool:
        return self.state is ContestState.SCHEDULED and now < self.terms.lock_at

    def lock(self, now: datetime, entries: int) -> None:
        """At lock time: lock, or cancel a non-guaranteed contest below its minimum entries."""
        if self.state is ContestState.SCHEDULED and now < self.terms.lock_at:
            raise self._refuse(ContestState.LOCKED, f"lock time {self.terms.lock_at} not reached")
        if not self.terms.guaranteed and entries < self.terms.min_entries:
            self.cancel(
                now,
                f"{entries} entries at lock, below the minimum of {self.terms.min_entries}",
                SYSTEM,
            )
            return
        self._move(ContestState.LOCKED, now, SYSTEM, "lock time reached")

    def move_lock_earlier(self, lock_at: datetime) -> datetime:
        """The slate's first kick-off moved earlier before lock: lock at it instead; returns
        the lock time it replaces. The only change terms ever see, and only this way: a lock
        never moves later, and never once the contest has left SCHEDULED."""
        if self.state is not ContestState.SCHEDULED:
            raise self._refuse(ContestState.LOCKED, "only a SCHEDULED contest's lock can move")
        previous = self.terms.lock_at
        if lock_at >= previous:
            raise InvalidContestTerms(
                f"a lock only moves earlier: {lock_at} is not before {previous}"
            )
        self.terms = evolve(self.terms, lock_at=lock_at)
        self.version += 1
        return previous

    def go_live(self, now: datetime) -> None:
        """The first game of the slate has started (the caller checked the feed)."""
        self._move(ContestState.LIVE, now, SYSTEM, "first game started")

    def complete(self, now: datetime) -> None:
        """Every game is over and the data validated (the caller checked both)."""
        self._move(ContestState.COMPLETE, now, SYSTEM, "every game final and data valid")
        self.completed_at = now

    def settle_due_at(self) -> datetime | None:
        if self.completed_at is None:
            return None
        return self.completed_at + self.terms.correction_window

    def settle(self, now: datetime) -> None:
        due = self.settle_due_at()
        if self.state is ContestState.COMPLETE and due is not None and now < due:
            raise self._refuse(ContestState.SETTLED, f"stat-correction window open until {due}")
        self._move(ContestState.SETTLED, now, SYSTEM, "stat-correction window passed")

    def mark_paid(self, now: datetime, unconfirmed_payouts: int) -> None:
        if unconfirmed_payouts:
            raise self._refuse(
                ContestState.PAID, f"{unconfirmed_payouts} payouts not yet confirmed"
            )
        self._move(ContestState.PAID, now, SYSTEM, "every payout confirmed")

    def cancel_by_operator(
        self, now: datetime, reason: str, actor: str, *, live_data_accepted: bool
    ) -> None:
        """A person cancels: only while nobody can see how the slate is going.

        Once valid live data (a stat line) of the contest's slate has been accepted, the
        outcome can be seen, and cancelling then could favour some players over others:
        from that moment the contest runs to PAID.
        """
        if live_data_accepted:
            raise self._refuse(
                ContestState.CANCELLED,
                f"live data of slate {self.terms.slate_id} has been accepted; "
                "a contest whose results can be seen runs to PAID",
            )
        self.cancel(now, reason, actor)

    def cancel(self, now: datetime, reason: str, actor: str) -> None:
        if not reason.strip():
            raise self._refuse(ContestState.CANCELLED, "a cancellation needs a reason")
        self._move(ContestState.CANCELLED, now, actor, reason)
        self.cancel_reason = reason

    def take_events(self) -> list[ContestTransitioned]:
        events, self.events = self.events, []
        return events
