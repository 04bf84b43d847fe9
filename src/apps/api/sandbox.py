"""The sandbox gateway's stand-in for the bank's 3-D Secure page (test environments only).

With Stripe, a player's browser finishes a payment the bank wants confirmed through
Stripe.js and the outcome arrives as a signed webhook. With the sandbox there is no
browser page and, in the default configuration, no webhook secret: this route plays the
page (the payment's client secret authorises it, as with Stripe) and applies the event
the sandbox would have sent, once. The app registers it only on the sandbox gateway in
a test environment.
"""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_409_CONFLICT
from msgspec import Struct

from adapters.mail import SandboxMailbox
from adapters.sandbox import SandboxPayments
from adapters.sandbox.gateway import InvalidClientSecret, NoActionPending
from apps.api.problems import Problem, problem_responses
from apps.api.wire import EntryOut, SandboxConfirmIn, entry_out
from apps.bootstrap import Services
from fantasy_core.payments import ChargeOutcome
from fantasy_core.platform import Platform
from fantasy_core.usecases.payment_events import apply_payment_event
from fantasy_core.usecases.queries import entry_charged_by


class MailOut(Struct, kw_only=True):
    to: str
    subject: str
    body: str


class SandboxMailController(Controller):
    """The sandbox's mailbox (test environments without an SMTP server): the mail the
    platform would have sent, for a person trying the platform and for tests."""

    tags = ("sandbox (test environments only)",)

    @get(
        "/sandbox/mail",
        exclude_from_auth=True,
        operation_id="sandboxMail",
        sync_to_thread=False,
        responses=problem_responses(400, 404),
    )
    def mail(
        self,
        to: Annotated[str, QueryParameter(description="the address the mail went to")],
        services: NamedDependency[Services],
    ) -> list[MailOut]:
        """The mail kept for `to`, oldest first (the last 200 messages are kept)."""
        mailbox = services.mailer
        if not isinstance(mailbox, SandboxMailbox):
            raise NotFoundException("no sandbox mailbox: mail goes to the SMTP server")
        return [MailOut(to=m.to, subject=m.subject, body=m.body) for m in mailbox.to(to.lower())]


CONFIRM_PATH = "/sandbox/payments/{payment_intent}/confirm"


def sandbox_confirm_url(platform: Platform, outcome: ChargeOutcome) -> str | None:
    """Where a client confirms `outcome`'s payment: on the sandbox only (Stripe.js else)."""
    if not isinstance(platform.gateway, SandboxPayments) or outcome.charge_id is None:
        return None
    return CONFIRM_PATH.format(payment_intent=outcome.charge_id)


class SandboxController(Controller):
    tags = ("sandbox (test environments only)",)

    @post(
        CONFIRM_PATH.replace("{payment_intent}", "{payment_intent:str}"),
        exclude_from_auth=True,
        status_code=200,
        operation_id="sandboxConfirmPayment",
        responses=problem_responses(400, 404, 409),
    )
    async def confirm(
        self,
        payment_intent: FromPath[str],
        data: JSONBody[SandboxConfirmIn],
        platform: NamedDependency[Platform],
    ) -> EntryOut:
        """Pass or fail the bank's challenge for a payment waiting on it, with its client
        secret (from the join's 202 answer); the entry as it now stands.

        404 for a payment or secret that does not match; 409 for a payment that waits on
        nothing (confirmed or failed already).
        """
        gateway = platform.gateway
        if not isinstance(gateway, SandboxPayments):  # pragma: no cover - never registered so
            raise NotFoundException("the sandbox gateway is not in use")
        try:
            event = gateway.confirm(
                payment_intent, data.client_secret, succeeded=data.outcome == "succeeded"
            )
        except InvalidClientSecret as error:
            raise NotFoundException(str(error)) from error
        except NoActionPending as error:
            raise Problem(
                HTTP_409_CONFLICT, "nothing-to-confirm", "Nothing to confirm", str(error)
            ) from error
        await anyio.to_thread.run_sync(apply_payment_event, platform, event)
        entry = await anyio.to_thread.run_sync(entry_charged_by, platform, payment_intent)
        if entry is None:  # pragma: no cover - every sandbox charge is made for an entry
            raise NotFoundException(f"no entry was charged by {payment_intent}")
        return entry_out(entry)
