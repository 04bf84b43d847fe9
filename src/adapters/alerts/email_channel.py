"""The e-mail alert channel: one message per notice, over SMTP (adapters.mail.smtp)."""

from __future__ import annotations

import smtplib
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from adapters.mail.smtp import TIMEOUT_SECONDS, SmtpServer, send_over_smtp
from fantasy_core.errors import AlertDeliveryFailed, InvalidConfiguration
from fantasy_core.outbox import AlertNotice

# A notice id (X-Fantasy-Notice) is one long ASCII word: folded at the default 78
# characters it would be RFC 2047-encoded (=?utf-8?q?...?=), and a receiver matching ids
# would have to decode it first. RFC 5322 allows lines of up to 998 characters.
_HEADERS_AS_WRITTEN = policy.SMTP.clone(max_line_length=998)


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
        message = EmailMessage(policy=_HEADERS_AS_WRITTEN)
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
        try:
            send_over_smtp(self._server, self.message(notice), self._timeout)
        except (OSError, smtplib.SMTPException) as error:
            raise AlertDeliveryFailed(f"email: {type(error).__name__}: {error}") from error


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "." for c in text)
