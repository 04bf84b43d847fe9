"""The e-mail alert channel: one message per notice, over SMTP with Python's smtplib.

FANTASY_SMTP_URL is smtp://[user:password@]host[:port] (STARTTLS when the server
offers it, required when a password is given) or smtps://... (TLS from the start).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import unquote, urlsplit

from attrs import frozen

from fantasy_core.errors import AlertDeliveryFailed, InvalidConfiguration
from fantasy_core.outbox import AlertNotice

TIMEOUT_SECONDS = 10.0


@frozen
class SmtpServer:
    host: str
    port: int
    tls: bool  # smtps: TLS from the first byte
    user: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        """The server of a FANTASY_SMTP_URL, or InvalidConfiguration naming the variable."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise InvalidConfiguration(
                f"FANTASY_SMTP_URL must start with smtp:// or smtps://, got {parts.scheme!r}"
            )
        if not parts.hostname:
            raise InvalidConfiguration("FANTASY_SMTP_URL names no host")
        try:
            port = parts.port
        except ValueError as error:
            raise InvalidConfiguration(f"FANTASY_SMTP_URL: bad port: {error}") from error
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=port or (465 if tls else 25),
            tls=tls,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class EmailChannel:
    name = "email"

    def __init__(
        self,
        smtp_url: str,
        to: tuple[str, ...],
        *,
        sender: str = "fantasy-alerts@localhost",
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        if not to or not all("@" in address for address in to):
            raise InvalidConfiguration(
                f"FANTASY_ALERT_EMAIL_TO must list e-mail addresses, got {', '.join(to)!r}"
            )
        self._server = SmtpServer.parse(smtp_url)
        self._to = to
        self._sender = sender
        self._timeout = timeout

    def message(self, notice: AlertNotice) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = notice.text()[:200]
        message["From"] = self._sender
        message["To"] = ", ".join(self._to)
        message["Date"] = format_datetime(notice.created_at)
        # A receiver may recognise a notice sent twice (a crash after sending) by its id.
        message["Message-ID"] = make_msgid(idstring=_safe(notice.notice_id), domain="fantasy")
        message["X-Fantasy-Notice"] = notice.notice_id
        message.set_content(
            f"{notice.text()}\n\n"
            f"alert:    {notice.key}\nincident: {notice.incident}\n"
            f"event:    {notice.change.value}\nseverity: {notice.severity.value}\n"
            f"contest:  {notice.contest_id or '-'}\nat:       {notice.created_at.isoformat()}\n"
        )
        return message

    def deliver(self, notice: AlertNotice) -> None:
        server = self._server
        try:
            if server.tls:
                context = ssl.create_default_context()
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    server.host, server.port, timeout=self._timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(server.host, server.port, timeout=self._timeout)
            with smtp:
                if not server.tls and (smtp.has_extn("starttls") or server.password):
                    smtp.starttls(context=ssl.create_default_context())
                if server.user is not None:
                    smtp.login(server.user, server.password or "")
                refused = smtp.send_message(self.message(notice))
        except (OSError, smtplib.SMTPException) as error:
            raise AlertDeliveryFailed(f"email: {type(error).__name__}: {error}") from error
        if refused:
            raise AlertDeliveryFailed(f"email: recipients refused: {refused}")


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "." for c in text)
