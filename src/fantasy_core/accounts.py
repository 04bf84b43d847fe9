"""Player and operator accounts as stored: who may log in, with which role.

The core's rules know users only by id (entries, payouts, the audit trail); an account
is the record the apps log people in with (they hash and check the passwords), kept
behind the AccountStore port so that the platform's own database can hold it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from attrs import frozen


class Role(enum.Enum):
    PLAYER = "player"
    OPERATOR = "operator"


@frozen
class Account:
    user_id: str
    email: str
    password_hash: str
    role: Role
    created_at: datetime
