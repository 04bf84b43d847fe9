"""Mail to players (password reset links): over SMTP, or kept in the sandbox's mailbox."""

from adapters.mail.mailers import Mail, Mailer, MailNotSent, SandboxMailbox, SmtpMailer
from adapters.mail.smtp import SmtpServer, send_over_smtp

__all__ = [
    "Mail",
    "MailNotSent",
    "Mailer",
    "SandboxMailbox",
    "SmtpMailer",
    "SmtpServer",
    "send_over_smtp",
]
