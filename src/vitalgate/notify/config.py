"""Which channel carries each medium, per program: pydantic models read from TOML (VITALGATE_NOTIFY_CONFIG).

    [notify]                                   # worker-wide
    public_base_url = "https://vitalgate.example.org"
    receipt_secret = "..."                     # signs receipts posted to /notify/receipts

    [notify.programs.default]
    include_values = false                     # no values or diagnosis in message text
    [notify.programs.default.channels.sms]
    kind = "webhook"                           # a program's own SMS gateway
    url = "https://sms.example.org/send"
    secret = "..."
    [notify.programs.default.channels.email]
    kind = "smtp"
    host = "smtp.example.org"
    port = 587
    username = "vitalgate"
    password = "..."
    sender = "care@example.org"
    [notify.programs.default.channels.app]
    kind = "apprise"
    url = "ntfys://ntfy.example.org/topic"     # any Apprise URL: Twilio, SNS, WeCom, ntfy...

A program without its own table uses `default`. Secrets are SecretStr (never printed).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr

from vitalgate.domain import Medium


class WebhookChannel(BaseModel):
    kind: Literal["webhook"] = "webhook"
    url: str = Field(pattern=r"^https?://")
    secret: SecretStr
    timeout_s: float = Field(default=10.0, gt=0, le=120)


class SmtpChannel(BaseModel):
    kind: Literal["smtp"] = "smtp"
    host: str
    port: int = 587
    starttls: bool = True
    username: str | None = None
    password: SecretStr | None = None
    sender: str
    timeout_s: float = Field(default=20.0, gt=0, le=120)
    # The CA file that signs the server's certificate (None: the system's); tests use their own CA.
    ca_file: Path | None = None


class AppriseChannel(BaseModel):
    kind: Literal["apprise"] = "apprise"
    url: SecretStr  # Apprise URLs carry tokens


ChannelConfig = Annotated[WebhookChannel | SmtpChannel | AppriseChannel, Field(discriminator="kind")]


class ProgramNotify(BaseModel):
    """One program's channels (by medium) and what its messages may say."""

    channels: dict[Medium, ChannelConfig] = Field(default_factory=dict)
    include_values: bool = False  # the program allows values / diagnosis in message text


class NotifyConfig(BaseModel):
    public_base_url: str = "http://127.0.0.1:8000"
    receipt_secret: SecretStr | None = None
    replay_window_s: int = Field(default=300, ge=10, le=3600)
    programs: dict[str, ProgramNotify] = Field(default_factory=lambda: {"default": ProgramNotify()})
    max_attempts: int = Field(default=3, ge=1, le=10)
    # Seconds before attempt 2, 3, ...; the last value repeats.
    backoff_s: list[float] = Field(default_factory=lambda: [30.0, 300.0])
    lease_s: float = Field(default=60.0, gt=0)  # a claimed message whose worker died is retried after this
    batch_size: int = Field(default=200, ge=1, le=5000)
    concurrency: int = Field(default=32, ge=1, le=1000)
    poll_s: float = Field(default=2.0, gt=0)

    def program(self, name: str) -> ProgramNotify:
        return self.programs.get(name) or self.programs.get("default") or ProgramNotify()

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return self.backoff_s[min(attempt, len(self.backoff_s)) - 1] if self.backoff_s else 0.0


CONFIG_ENV = "VITALGATE_NOTIFY_CONFIG"


def load(path: Path | str | None = None) -> NotifyConfig:
    """The `[notify]` table of a TOML file (path, else $VITALGATE_NOTIFY_CONFIG, else built-in defaults)."""
    path = path or os.environ.get(CONFIG_ENV)
    if not path:
        return NotifyConfig()
    data = tomllib.loads(Path(path).read_text())
    return NotifyConfig.model_validate(data.get("notify", data))
