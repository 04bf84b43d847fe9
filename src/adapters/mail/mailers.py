"""Mailers: SMTP for real mail, the sandbox's mailbox where test environments keep it."""

from __future__ import annotations

import logging
import smtplib
import threading
from collections import deque
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol

from attrs import frozen

from adapters.mail.smtp import TIMEOUT_SECONDS, SmtpServer, send_over_smtp
from fantasy_core.errors import InvalidConfiguration

_log = logging.getLogger("fantasy.mail")
SANDBOX_KEEPS = 200  # messages the sandbox's mailbox holds, the oldest going first


@frozen
class Mail:
    to: str
    subject: str
    body: str


class MailNotSent(Exception):
    """The mail server did not take the message."""


class Mailer(Protocol):
    def send(self, mail: Mail, at: datetime) -> None:
        """Hand `mail` over; MailNotSent if it was not taken."""
        ...


class SmtpMailer:
    def __init__(self, smtp_url: str, sender: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        if "@" not in sender:
            raise InvalidConfiguration(f"FANTASY_MAIL_FROM must be an address, got {sender!r}")
        self._server = SmtpServer.parse(smtp_url)
        self._sender = sender
        self._timeout = timeout

    def send(self, mail: Mail, at: datetime) -> None:
        message = EmailMessage()
        message["Subject"] = mail.subject
        message["From"] = self._sender
        message["To"] = mail.to
        message["Date"] = format_datetime(at)
        message["Message-ID"] = make_msgid(domain="fantasy")
        message.set_content(mail.body)
        try:
            send_over_smtp(self._server, message, self._timeout)
        except (OSError, smtplib.SMTPException) as error:
            raise MailNotSent(f"{type(error).__name__}: {error}") from error


class SandboxMailbox:
    """Test environments without an SMTP server: mail is kept here (and its sending logged,
    without its body: it holds a reset link) for the sandbox's mailbox route and tests."""

    def __init__(self, keeps: int = SANDBOX_KEEPS) -> None:
        self._mail: deque[Mail] = deque(maxlen=keeps)
        self._lock = threading.Lock()

    def send(self, mail: Mail, at: datetime) -> None:
        with self._lock:
            self._mail.append(mail)
        _log.info("mail to %s kept in the sandbox mailbox: %s", mail.to, mail.subject)

    def to(self, address: str) -> list[Mail]:
        """The mail kept for `address`, oldest first."""
        with self._lock:
            return [mail for mail in self._mail if mail.to == address]
