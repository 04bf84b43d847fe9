"""What the platform knows of a player for protection: born when, registered where, one
identity per person, their limits, any break from play, and the fair-play tier earned."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from attrs import evolve, field, frozen

from fantasy_core.errors import InvalidProtectionRequest, UnderAge
from fantasy_core.protection.limits import LimitKind, Limits, LimitSchedule
from fantasy_core.protection.restrictions import Restriction
from fantasy_core.protection.rules import US_JURISDICTIONS, JurisdictionRules

OLDEST_AGE = 120
# Mail providers that ignore dots in an address's local part: one mailbox, many spellings.
_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


@frozen
class PlayerProfile:
    """A player's protection record; changed only by deriving a new one (`evolve`)."""

    user_id: str
    date_of_birth: date
    jurisdiction: str  # where the player registered (their home), a US state code
    identity_key: str
    registered_at: datetime
    limits: LimitSchedule = field(factory=LimitSchedule)
    restriction: Restriction | None = None
    # When the platform found the player highly experienced; never cleared (Michigan R 432.532a).
    highly_experienced_since: datetime | None = None

    def restricted(self, restriction: Restriction) -> PlayerProfile:
        return evolve(self, restriction=restriction)

    def with_limits(self, limits: LimitSchedule) -> PlayerProfile:
        return evolve(self, limits=limits)


def identity_key(email: str) -> str:
    """The key that makes one account per person: the mailbox an address reaches, hashed.

    `email` is already normalised (lower case, IDNA-decoded domain). A `+tag` in the local
    part and, at providers that ignore them, dots reach the same mailbox, so they are
    dropped: ann.smith+dfs@gmail.com and annsmith@googlemail.com are one person. Hashed so
    the table of keys is not a second copy of every address.
    """
    local, _, domain = email.rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _DOTLESS_DOMAINS:
        local, domain = local.replace(".", ""), _DOTLESS_DOMAINS[domain]
    return "mailbox:" + hashlib.sha256(f"{local}@{domain}".encode()).hexdigest()


def age_on(date_of_birth: date, day: date) -> int:
    """Whole years between `date_of_birth` and `day` (a 29 February birthday comes on 1 March
    in other years)."""
    years = day.year - date_of_birth.year
    if (day.month, day.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


def check_age(rules: JurisdictionRules, date_of_birth: date, jurisdiction: str, day: date) -> None:
    """UnderAge if a player born on `date_of_birth` is too young for paid play in
    `jurisdiction` on `day`."""
    minimum = rules.minimum_age(jurisdiction)
    if age_on(date_of_birth, day) < minimum:
        raise UnderAge(jurisdiction, minimum)


def new_profile(
    rules: JurisdictionRules,
    user_id: str,
    email: str,
    date_of_birth: date,
    jurisdiction: str,
    now: datetime,
) -> PlayerProfile:
    """A new player's record, or the refusal: a jurisdiction that is not a US state code or
    a date of birth that is not a real one (InvalidProtectionRequest), under age (UnderAge).

    A player from a jurisdiction with no paid play may register (and is refused each paid
    join); one from a jurisdiction with a default monthly cap starts with it."""
    if jurisdiction not in US_JURISDICTIONS:
        raise InvalidProtectionRequest(
            "bad_jurisdiction", f"{jurisdiction!r} is not a US state code (two capitals, or DC)"
        )
    today = now.date()
    if date_of_birth > today or age_on(date_of_birth, today) > OLDEST_AGE:
        raise InvalidProtectionRequest(
            "bad_date_of_birth", f"{date_of_birth.isoformat()} is not a plausible date of birth"
        )
    check_age(rules, date_of_birth, jurisdiction, today)
    cap = rules.monthly_caps.get(jurisdiction)
    limits = Limits({LimitKind.FEES_MONTH: cap} if cap is not None else {})
    return PlayerProfile(
        user_id=user_id,
        date_of_birth=date_of_birth,
        jurisdiction=jurisdiction,
        identity_key=identity_key(email),
        registered_at=now,
        limits=LimitSchedule(limits),
    )
