"""Broker identities: Mosquitto password-file lines written in Python (no mosquitto_passwd needed).

The format is Mosquitto 2's `$7$` (PBKDF2-HMAC-SHA512): `user:$7$<iterations>$<salt b64>$<hash b64>`.
The passwords we create are 32 random bytes (256 bits), so key stretching protects nothing a brute
force could reach; a modest iteration count keeps each CONNECT cheap for the broker when a fleet of
hubs reconnects at once after an outage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

# Mosquitto's own default is 101; 1,000 costs ~4 ms of CPU per CONNECT (hashlib, measured on the 2-core test host).
PBKDF2_ITERATIONS = 1000
SALT_BYTES = 12  # what mosquitto_passwd uses
# A gateway id is also an MQTT username and a topic level: no '/', '+', '#' (the contract's pattern).
GATEWAY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Usernames the shipped ACL gives other rights to: a hub may never take them.
RESERVED_USERNAMES = frozenset({"ingest", "admin", "root"})


class IdentityError(ValueError):
    """An identity that cannot be created (bad name, already present)."""


def hash_password(password: str, *, iterations: int = PBKDF2_ITERATIONS, salt: bytes | None = None) -> str:
    """A Mosquitto `$7$` hash of `password`."""
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, hashed: str) -> bool:
    """Check a `$7$` hash (used by the tests and `add-hub --check`)."""
    try:
        _, kind, iterations, salt, digest = hashed.split("$")
    except ValueError:
        return False
    if kind != "7":
        return False
    got = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(iterations))
    return hmac.compare_digest(base64.b64encode(got).decode(), digest)


def usernames(path: Path) -> set[str]:
    """Usernames already in a password file."""
    if not path.exists():
        return set()
    return {line.split(":", 1)[0] for line in path.read_text().splitlines() if ":" in line}


def check_hub_id(gateway_id: str) -> None:
    """A hub id must be a safe topic level and not a reserved username."""
    if not GATEWAY_ID_PATTERN.fullmatch(gateway_id):
        raise IdentityError(f"hub id {gateway_id!r}: 1-64 characters of A-Z a-z 0-9 _ . - (it is a topic level)")
    if gateway_id.lower() in RESERVED_USERNAMES:
        raise IdentityError(f"hub id {gateway_id!r} is reserved for the server's own identities")


def new_password() -> str:
    """32 random bytes, URL-safe (it goes into VITALGATE_MQTT_URL)."""
    return secrets.token_urlsafe(32)


def add_identity(path: Path, username: str, *, replace: bool = False) -> str:
    """Append `username` with a fresh random password to the password file; returns the password (shown once)."""
    if not GATEWAY_ID_PATTERN.fullmatch(username):
        raise IdentityError(f"username {username!r}: 1-64 characters of A-Z a-z 0-9 _ . -")
    existing = path.read_text().splitlines() if path.exists() else []
    if any(line.split(":", 1)[0] == username for line in existing):
        if not replace:
            raise IdentityError(f"{username!r} already has a credential in {path} (use --rotate to replace it)")
        existing = [line for line in existing if line.split(":", 1)[0] != username]
    password = new_password()
    lines = [*existing, f"{username}:{hash_password(password)}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    # The file holds only hashes, still: readable by its owner (the broker) alone.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("\n".join(lines) + "\n")
    # The broker (user `mosquitto`) must keep reading it: keep the replaced file's owner and mode,
    # or give a new file to the owner of its folder (chown the folder to the broker's user).
    st = path.stat() if path.exists() else None
    if st is not None:
        os.chmod(tmp, st.st_mode & 0o777)
    if os.geteuid() == 0:
        owner = st or path.parent.stat()
        os.chown(tmp, owner.st_uid, owner.st_gid)
    os.replace(tmp, path)
    return password
