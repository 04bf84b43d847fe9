"""Player and operator accounts as stored: who may log in, with which role.

The core's rules know users only by id (entries, payouts, the audit trail); an account
is the record the apps log people in with (they hash and check the passwords), kept
behind the AccountStore port so that the platform's own database can hold it.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime

from attrs import frozen


class Role(enum.Enum):
    PLAYER = "player"
    OPERATOR = "operator"


@frozen
class Account:
    """`display_name` is what other players see (leaderboards); the email never is.
    `token_generation` is the generation of the account's valid login tokens: a password
    change moves it on, and every token issued in an earlier one is refused."""

    user_id: str
    email: str
    password_hash: str
    role: Role
    created_at: datetime
    display_name: str
    token_generation: int = 0


_NAME_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud without doubt


def default_display_name(user_id: str) -> str:
    """ "Player 4KJ7QZ": six characters of a hash of the (already public) user id, the name
    of a player who chose none (and of accounts made before display names existed).

    Not the email's local part: leaderboards are public, and "ann.smith" of
    ann.smith@bank.example names a person and half their address. The hash reveals
    nothing the user id does not (not even when the account was made, which a
    time-ordered id does), and it is stable, so it needs no storing.
    """
    number = int.from_bytes(hashlib.sha256(user_id.encode()).digest()[:8], "big")
    letters = []
    for _ in range(6):
        number, index = divmod(number, len(_NAME_ALPHABET))
        letters.append(_NAME_ALPHABET[index])
    return "Player " + "".join(letters)
