"""The transport a channel's configuration describes."""

from __future__ import annotations

from vitalgate.notify.channels.apprise_channel import AppriseTransport
from vitalgate.notify.channels.base import Transport
from vitalgate.notify.channels.smtp import SmtpTransport
from vitalgate.notify.channels.webhook import WebhookTransport
from vitalgate.notify.config import ChannelConfig


def build_transport(config: ChannelConfig) -> Transport:
    if config.kind == "webhook":
        return WebhookTransport(config)
    if config.kind == "smtp":
        return SmtpTransport(config)
    return AppriseTransport(config)
