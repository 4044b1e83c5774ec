"""E-mail over SMTP with STARTTLS and authentication (the standard library's smtplib, in a thread)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from vitalgate.notify.channels.base import Outgoing, SendResult
from vitalgate.notify.config import SmtpChannel


class SmtpTransport:
    name = "smtp"

    def __init__(self, config: SmtpChannel) -> None:
        self.config = config

    def _message(self, message: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.config.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Message-ID"] = make_msgid(domain=self.config.sender.rpartition("@")[2] or None)
        # The ledger's key: a receiving system (or a person reading headers) can tell a resend.
        mail["X-Idempotency-Key"] = message.idempotency_key
        mail["X-VitalGate-Delivery"] = str(message.delivery_id)
        mail["Content-Language"] = message.locale
        mail.set_content(message.text)
        return mail

    def _send_blocking(self, mail: EmailMessage) -> None:
        c = self.config
        with smtplib.SMTP(c.host, c.port, timeout=c.timeout_s) as smtp:
            if c.starttls:
                context = ssl.create_default_context(cafile=str(c.ca_file) if c.ca_file else None)
                smtp.starttls(context=context)
            if c.username:
                smtp.login(c.username, c.password.get_secret_value() if c.password else "")
            smtp.send_message(mail)

    async def send(self, message: Outgoing) -> SendResult:
        mail = self._message(message)
        try:
            await asyncio.to_thread(self._send_blocking, mail)
        except smtplib.SMTPRecipientsRefused as exc:
            return SendResult(False, error=f"recipient refused: {exc.recipients}"[:500], permanent=True)
        except smtplib.SMTPAuthenticationError as exc:
            return SendResult(False, error=f"SMTP authentication failed: {exc.smtp_code}")
        except (smtplib.SMTPException, OSError) as exc:
            return SendResult(False, error=f"{type(exc).__name__}: {exc}"[:500])
        return SendResult(True, provider_message_id=str(mail["Message-ID"]))

    async def close(self) -> None:
        return None
