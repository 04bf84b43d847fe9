"""Which Stripe keys each environment accepts: the rule alone, without the SDK.

The settings check it when they are read (every problem reported at once, naming its
variable), and the gateway again when it is built; neither needs `stripe` for it.
"""

from __future__ import annotations

from fantasy_core.errors import InvalidConfiguration

ENVIRONMENTS = ("test", "production")
_TEST_PREFIXES = ("sk_test_", "rk_test_")
_LIVE_PREFIXES = ("sk_live_", "rk_live_")


def check_api_key(api_key: str, environment: str) -> None:
    """Refuse a key that belongs to the other environment, saying which and why.

    Only the key's prefix is ever shown: the rest is a secret.
    """
    if environment not in ENVIRONMENTS:
        raise InvalidConfiguration(
            f"unknown environment {environment!r}: expected one of {', '.join(ENVIRONMENTS)}"
        )
    prefix = api_key[:8]
    if environment == "production" and api_key.startswith(_TEST_PREFIXES):
        raise InvalidConfiguration(
            f"the production configuration refuses a Stripe test key ({prefix}...): test-mode "
            "charges move no real money, so players would enter paid contests for free and "
            "winners would never be paid"
        )
    if environment == "test" and api_key.startswith(_LIVE_PREFIXES):
        raise InvalidConfiguration(
            f"the test configuration refuses a Stripe live key ({prefix}...): every charge, "
            "refund and transfer made with it moves real money"
        )
    if not api_key.startswith(_TEST_PREFIXES + _LIVE_PREFIXES):
        raise InvalidConfiguration(
            f"not a Stripe secret or restricted key ({prefix}...): expected sk_test_/rk_test_ "
            "or sk_live_/rk_live_ (publishable pk_ keys cannot move money)"
        )


_PUBLISHABLE = {"test": "pk_test_", "production": "pk_live_"}


def check_publishable_key(key: str, environment: str) -> None:
    """Refuse a publishable key of the other environment (or not a publishable key at all):
    the browser's card details would go to the other Stripe account mode than the
    server's charges, which then cannot find them."""
    if environment not in ENVIRONMENTS:
        raise InvalidConfiguration(
            f"unknown environment {environment!r}: expected one of {', '.join(ENVIRONMENTS)}"
        )
    wanted = _PUBLISHABLE[environment]
    if not key.startswith(wanted):
        other = "a live" if key.startswith("pk_live_") else "a test"
        kind = other if key.startswith(("pk_live_", "pk_test_")) else "not a publishable"
        raise InvalidConfiguration(
            f"the {environment} configuration needs a {wanted}... publishable key, got "
            f"{kind} key ({key[:8]}...)"
        )
