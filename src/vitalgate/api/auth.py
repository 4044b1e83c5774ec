"""Signed tokens (JWT, HS256) and the signed-in principal (password hashing: vitalgate.core.passwords)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt

from vitalgate.domain import STAFF_ROLES, Role

ROLES: tuple[Role, ...] = tuple(Role)

_ALGORITHM = "HS256"
_ISSUER = "vitalgate"
TokenType = Literal["access", "session"]


class AuthError(Exception):
    """Missing, expired or invalid credentials (HTTP 401)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: the user, their role, their care teams or their own patient record."""

    user_id: int
    username: str
    display_name: str
    role: str
    team_ids: tuple[int, ...]
    patient_id: int | None
    session_id: str
    # A caregiver's patients (read-only), only those who consented to share with them.
    caregiver_of: tuple[int, ...] = ()

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified token says: whose it is, its id, when it was issued (whole seconds)."""

    user_id: int
    session_id: str
    issued_at: datetime


class TokenSigner:
    """Issues and verifies the bearer tokens and the web session cookie value."""

    def __init__(self, secret: str, *, access_minutes: int, session_hours: int) -> None:
        if not secret:
            # Development only (Settings refuses an empty secret in production): tokens do not
            # survive a restart, which is the safe failure.
            secret = secrets.token_urlsafe(48)
        self._secret = secret
        self._lifetimes = {"access": timedelta(minutes=access_minutes), "session": timedelta(hours=session_hours)}

    def lifetime(self, kind: TokenType) -> timedelta:
        return self._lifetimes[kind]

    def issue(self, user_id: int, role: str, kind: TokenType, now: datetime | None = None) -> str:
        """A signed token for one user, expiring after its kind's lifetime."""
        now = now or datetime.now(UTC)
        claims = {
            "sub": str(user_id),
            "role": role,
            "typ": kind,
            "iss": _ISSUER,
            "iat": now,
            "exp": now + self._lifetimes[kind],
            "jti": secrets.token_urlsafe(12),
            # `iat` is whole seconds; revocation compares against this exact instant so a token
            # issued earlier in the same second as a sign-out or relink is still refused.
            "iat_us": int(now.timestamp() * 1_000_000),
        }
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def verify(self, token: str, kind: TokenType) -> tuple[int, str]:
        """(user id, session id) of a valid token of this kind; AuthError otherwise."""
        claims = self.verify_claims(token, kind)
        return claims.user_id, claims.session_id

    def verify_claims(self, token: str, kind: TokenType) -> TokenClaims:
        """User id, session id and issue time of a valid token of this kind; AuthError otherwise."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                issuer=_ISSUER,
                options={"require": ["sub", "exp", "iat", "typ", "jti"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("token expired: sign in again") from exc
        except jwt.InvalidTokenError as exc:
            raise AuthError("invalid token") from exc
        if claims.get("typ") != kind:
            raise AuthError("wrong token type")
        try:
            issued_us = int(claims.get("iat_us", int(claims["iat"]) * 1_000_000))
            issued_at = datetime.fromtimestamp(issued_us / 1_000_000, UTC)
            return TokenClaims(int(claims["sub"]), str(claims["jti"]), issued_at)
        except (ValueError, TypeError, OverflowError) as exc:
            raise AuthError("invalid token") from exc

    def csrf_token(self, session_id: str) -> str:
        """The form token bound to one web session (double submit, keyed with the secret)."""
        return hmac.new(self._secret.encode(), f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()[:32]

    def check_csrf(self, session_id: str, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(self.csrf_token(session_id), token)
