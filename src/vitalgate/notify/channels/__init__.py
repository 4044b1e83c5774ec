"""Transports behind one interface: `Transport.send(Outgoing) -> SendResult` (webhook, SMTP, Apprise)."""

from vitalgate.notify.channels.base import Outgoing, SendResult, Transport
from vitalgate.notify.channels.factory import build_transport

__all__ = ["Outgoing", "SendResult", "Transport", "build_transport"]
