"""Password reset by mail: the signed single-use link, the routes, and the mail itself."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from api_support import PASSWORD, Api, assert_problem
from hypothesis import given
from hypothesis import strategies as st

from adapters.mail import Mail, MailNotSent, SandboxMailbox, SmtpMailer
from adapters.memory.accounts import MemoryAccountStore
from apps.accounts import AccountError, Accounts, Passwords
from apps.api.state import SERVICES
from apps.password_reset import RESET_TTL, PasswordReset, ResetTokens
from fantasy_core.accounts import Account, Role
from support.receivers import smtp_receiver

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
NEW_PASSWORD = "a brand new passphrase"


def an_account(**changes: object) -> Account:
    account = Account(
        user_id="user-1",
        email="ann@example.com",
        password_hash="hash-1",
        role=Role.PLAYER,
        created_at=NOW,
        display_name="Ann",
    )
    return attrs.evolve(account, **changes)


# ---- the token -----------------------------------------------------------------------------


def test_a_token_resets_its_account_until_it_expires_and_not_a_second_later() -> None:
    tokens = ResetTokens("s" * 32)
    account = an_account()
    token = tokens.issue(account, NOW)
    tokens.check(token, account, NOW)
    tokens.check(token, account, NOW + RESET_TTL - timedelta(seconds=1))
    with pytest.raises(AccountError, match="invalid, used or expired"):
        tokens.check(token, account, NOW + RESET_TTL)


@pytest.mark.parametrize(
    "changed",
    [
        {"password_hash": "hash-2"},  # the password changed since: the link was used
        {"token_generation": 1},  # logged out everywhere since
        {"user_id": "user-2"},  # another account's
    ],
)
def test_a_token_dies_with_any_change_of_what_it_signed(changed: dict[str, object]) -> None:
    tokens = ResetTokens("s" * 32)
    token = tokens.issue(an_account(), NOW)
    with pytest.raises(AccountError) as refused:
        tokens.check(token, an_account(**changed), NOW)
    assert refused.value.reason == "reset_token_invalid"


def test_a_token_of_another_secret_is_refused() -> None:
    token = ResetTokens("a" * 32).issue(an_account(), NOW)
    with pytest.raises(AccountError):
        ResetTokens("b" * 32).check(token, an_account(), NOW)


@given(
    st.integers(min_value=0),
    st.text(alphabet="0123456789abcdefABCDEF-_.", max_size=60) | st.text(max_size=8),
)
def test_no_tampered_token_is_taken(position: int, junk: str) -> None:
    tokens = ResetTokens("s" * 32)
    account = an_account()
    token = tokens.issue(account, NOW)
    at = position % (len(token) + 1)
    tampered = token[:at] + junk + token[at + len(junk) :]
    if tampered == token:
        return
    with pytest.raises(AccountError) as refused:
        tokens.check(tampered, account, NOW)
    assert refused.value.reason == "reset_token_invalid"


# ---- resetting -----------------------------------------------------------------------------


def a_reset() -> tuple[PasswordReset, Accounts]:
    accounts = Accounts(MemoryAccountStore(), Passwords(cheap=True))
    accounts.register("user-1", "ann@example.com", PASSWORD, Role.PLAYER, NOW)
    return PasswordReset(accounts, ResetTokens("s" * 32), "https://fantasy.example/"), accounts


def token_of(mail: Mail) -> str:
    found = re.search(r"/password-reset\?token=(\S+)", mail.body)
    assert found is not None
    return found.group(1)


def test_the_mail_links_the_public_url_and_no_mail_for_an_unknown_address() -> None:
    reset, _ = a_reset()
    mail = reset.mail_for(" Ann@Example.com", NOW)
    assert mail is not None
    assert mail.to == "ann@example.com"
    assert "https://fantasy.example/web/password-reset?token=user-1." in mail.body
    assert "30 minutes" in mail.body
    assert reset.mail_for("bob@example.com", NOW) is None


def test_a_reset_sets_the_password_once_and_revokes_every_earlier_token() -> None:
    reset, accounts = a_reset()
    mail = reset.mail_for("ann@example.com", NOW)
    assert mail is not None
    changed = reset.reset(token_of(mail), NEW_PASSWORD, NOW)
    assert changed.token_generation == 1
    assert accounts.login("ann@example.com", NEW_PASSWORD).user_id == "user-1"
    with pytest.raises(AccountError, match="invalid, used or expired"):
        reset.reset(token_of(mail), "yet another passphrase", NOW)
    assert accounts.login("ann@example.com", NEW_PASSWORD).user_id == "user-1"


def test_of_two_links_only_the_first_used_works() -> None:
    reset, _ = a_reset()
    first = reset.mail_for("ann@example.com", NOW)
    second = reset.mail_for("ann@example.com", NOW + timedelta(minutes=1))
    assert first is not None
    assert second is not None
    reset.reset(token_of(second), NEW_PASSWORD, NOW)
    with pytest.raises(AccountError):
        reset.reset(token_of(first), "yet another passphrase", NOW)


def test_a_weak_new_password_is_refused_and_the_link_still_works() -> None:
    reset, _ = a_reset()
    mail = reset.mail_for("ann@example.com", NOW)
    assert mail is not None
    with pytest.raises(AccountError) as refused:
        reset.reset(token_of(mail), "short", NOW)
    assert refused.value.reason == "weak_password"
    reset.reset(token_of(mail), NEW_PASSWORD, NOW)


def test_a_reset_racing_a_change_from_the_same_generation_loses() -> None:
    reset, accounts = a_reset()
    mail = reset.mail_for("ann@example.com", NOW)
    assert mail is not None
    account = accounts.store.get("user-1")
    assert account is not None
    # What a racing reset does between our check and our write: the generation moves on.
    assert accounts.set_password("user-1", NEW_PASSWORD, if_generation=0) is not None
    assert accounts.set_password("user-1", "other passphrase", if_generation=0) is None
    assert accounts.login("ann@example.com", NEW_PASSWORD).user_id == "user-1"


# ---- over HTTP -----------------------------------------------------------------------------


def sandbox_mail(api: Api, address: str) -> list[dict[str, str]]:
    response = api.client.get("/sandbox/mail", params={"to": address})
    assert response.status_code == 200
    mail: list[dict[str, str]] = response.json()
    return mail


def fresh_mailbox(api: Api) -> None:
    api.client.app.state[SERVICES].mailer = SandboxMailbox()


def test_a_player_resets_a_forgotten_password_over_http(api: Api) -> None:
    fresh_mailbox(api)
    old = api.player("ann")
    asked = api.client.post("/auth/password-reset", json={"email": "ann@example.com"})
    assert asked.status_code == 202
    unknown = api.client.post("/auth/password-reset", json={"email": "who@example.com"})
    assert (unknown.status_code, unknown.json()) == (202, asked.json())
    assert sandbox_mail(api, "who@example.com") == []
    [mail] = sandbox_mail(api, "ann@example.com")
    token = re.search(r"token=(\S+)", mail["body"])
    assert token is not None
    done = api.client.post(
        "/auth/password-reset/confirm",
        json={"token": token.group(1), "new_password": NEW_PASSWORD},
    )
    assert done.status_code == 200
    new = {"Authorization": f"Bearer {done.json()['access_token']}"}
    assert api.client.get("/me", headers=new).status_code == 200
    assert_problem(api.client.get("/me", headers=old), 401, "not-authenticated")
    assert api.login("ann@example.com", NEW_PASSWORD)
    again = api.client.post(
        "/auth/password-reset/confirm",
        json={"token": token.group(1), "new_password": "yet another passphrase"},
    )
    body = assert_problem(again, 422, "reset-token-invalid")
    assert body["field"] == "token"


def test_reset_refusals_over_http(api: Api) -> None:
    fresh_mailbox(api)
    api.player("ann")
    forged = api.client.post(
        "/auth/password-reset/confirm",
        json={"token": "user-1.99999999999.AAAA", "new_password": NEW_PASSWORD},
    )
    assert_problem(forged, 422, "reset-token-invalid")
    assert_problem(
        api.client.post(
            "/auth/password-reset/confirm", json={"token": "x", "new_password": "short"}
        ),
        400,
        "malformed",
    )
    assert_problem(api.client.post("/auth/password-reset", json={}), 400, "malformed")


def test_without_a_mail_server_a_reset_is_a_503_for_every_address(api: Api) -> None:
    api.player("ann")
    services = api.client.app.state[SERVICES]
    services.mailer = None
    for email in ("ann@example.com", "who@example.com"):
        assert_problem(
            api.client.post("/auth/password-reset", json={"email": email}),
            503,
            "mail-unavailable",
        )


def test_a_mail_the_server_refuses_is_alerted(api: Api) -> None:
    api.player("ann")

    class Refusing:
        def send(self, mail: Mail, at: datetime) -> None:
            raise MailNotSent("451 try again later")

    api.client.app.state[SERVICES].mailer = Refusing()
    asked = api.client.post("/auth/password-reset", json={"email": "ann@example.com"})
    assert asked.status_code == 202  # the asker learns nothing of it
    alerts = api.client.get("/operator/alerts", headers=api.operator).json()
    assert any(a["key"] == "mail-password-reset" for a in alerts)


# ---- the SMTP mailer -----------------------------------------------------------------------


def test_the_smtp_mailer_delivers_to_a_real_server_and_says_when_it_cannot() -> None:
    with smtp_receiver() as receiver:
        mailer = SmtpMailer(receiver.url, "no-reply@fantasy.example")
        mailer.send(Mail("ann@example.com", "Reset", "the link"), NOW)
        [message] = receiver.seen()
        assert message["To"] == "ann@example.com"
        assert message["From"] == "no-reply@fantasy.example"
        assert message.get_payload().strip() == "the link"  # type: ignore[union-attr]
        receiver.refusing = True
        with pytest.raises(MailNotSent, match="451"):
            mailer.send(Mail("ann@example.com", "Reset", "the link"), NOW)
