"""One SMTP server, parsed from FANTASY_SMTP_URL, and sending one message through it.

smtp://[user:password@]host[:port] (STARTTLS when the server offers it, required when a
password is given) or smtps://... (TLS from the start). Shared by the alert e-mail channel
and the players' mail.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from attrs import frozen

from fantasy_core.errors import InvalidConfiguration

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


def send_over_smtp(server: SmtpServer, message: EmailMessage, timeout: float) -> None:
    """Hand `message` to `server`. Raises OSError or smtplib.SMTPException if it was not
    taken (SMTPRecipientsRefused when any recipient was refused)."""
    if server.tls:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            server.host, server.port, timeout=timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=timeout)
    with smtp:
        if not server.tls and (smtp.has_extn("starttls") or server.password):
            smtp.starttls(context=ssl.create_default_context())
        if server.user is not None:
            smtp.login(server.user, server.password or "")
        refused = smtp.send_message(message)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)
