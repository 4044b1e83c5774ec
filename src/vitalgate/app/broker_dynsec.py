"""Broker identities for Mosquitto's dynamic-security plugin, created through `mosquitto_ctrl`.

Why a second set-up next to the acl_file one: Mosquitto 2.0 checks an acl_file only when it delivers
a message, so any hub may SUBSCRIBE to the ingest share group and take its round-robin share.
Dynamic security checks SUBSCRIBE itself (default: deny) and answers "not authorized" (0x87).

Roles (deploy/mosquitto/dynsec/README.md): `vitalgate-ingest` for ingest, and one role per hub,
`vitalgate-hub-<id>`, naming the hub's own topics (dynsec in 2.0 has no %u substitution).
`mosquitto_ctrl` exits 0 even when a command fails, so failures are read from its stderr.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from vitalgate.app.broker_identity import IdentityError, check_hub_id

MOSQUITTO_CTRL = shutil.which("mosquitto_ctrl") or "/usr/bin/mosquitto_ctrl"
INGEST_ROLE = "vitalgate-ingest"
_ALREADY = ("already exists",)


@dataclass(frozen=True, slots=True)
class Acl:
    """One dynsec ACL: `kind` is publishClientSend, subscribeLiteral, subscribePattern, ..."""

    kind: str
    topic: str

    def spec(self) -> list[str]:
        return [self.kind, self.topic, "allow"]


class DynsecError(RuntimeError):
    """mosquitto_ctrl reported an error (connection refused, unknown role, ...)."""


def hub_role(gateway_id: str) -> str:
    return f"vitalgate-hub-{gateway_id}"


def hub_acls(gateway_id: str) -> tuple[Acl, ...]:
    """A hub writes its readings, claims and status; it may subscribe only to its receipts and status."""
    base = f"vitalgate/v1/{gateway_id}"
    return (
        Acl("publishClientSend", f"{base}/readings"),
        Acl("publishClientSend", f"{base}/claims"),
        Acl("publishClientSend", f"{base}/status"),
        Acl("subscribeLiteral", f"{base}/receipts"),
        Acl("subscribeLiteral", f"{base}/status"),
    )


def ingest_acls(group: str = "ingest") -> tuple[Acl, ...]:
    """Ingest joins its share group (or, MQTT 3.1.1, the plain filters), reads status, writes receipts.

    subscribePattern: the client's filter must be matched by the pattern, so `+` here also admits a
    single hub's topic (`$share/ingest/vitalgate/v1/gw-1/readings`); nothing else is granted.
    """
    acls = [Acl("publishClientSend", "vitalgate/v1/+/receipts"), Acl("subscribePattern", "vitalgate/v1/+/status")]
    for kind in ("readings", "claims"):
        acls += [
            Acl("subscribePattern", f"$share/{group}/vitalgate/v1/+/{kind}"),
            Acl("subscribePattern", f"vitalgate/v1/+/{kind}"),
        ]
    return tuple(acls)


def connection_args(admin_url: str) -> list[str]:
    """mosquitto_ctrl options for `mqtt[s]://admin:password@host:port` (2.0.11's own -L wants a topic)."""
    url = urlsplit(admin_url)
    if url.scheme not in ("mqtt", "mqtts") or not url.hostname or not url.username or url.password is None:
        raise DynsecError("the dynamic-security admin URL must be mqtt[s]://USER:PASSWORD@HOST[:PORT]")
    tls = url.scheme == "mqtts"
    args = ["-h", url.hostname, "-p", str(url.port or (8883 if tls else 1883))]
    args += ["-u", unquote(url.username), "-P", unquote(url.password)]
    return [*args, "--capath", "/etc/ssl/certs"] if tls else args


def _ctrl(admin_url: str, *args: str, tolerate: tuple[str, ...] = ()) -> None:
    done = subprocess.run(
        [MOSQUITTO_CTRL, *connection_args(admin_url), "dynsec", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    errors = [line for line in done.stderr.splitlines() if "rror" in line]
    if done.returncode != 0 or any(not any(t in line for t in tolerate) for line in errors):
        # The command line holds passwords: report only the verb.
        raise DynsecError(f"mosquitto_ctrl dynsec {args[0]}: {'; '.join(errors) or done.returncode}")


def _role(admin_url: str, role: str, acls: tuple[Acl, ...]) -> None:
    _ctrl(admin_url, "createRole", role, tolerate=_ALREADY)
    for acl in acls:
        _ctrl(admin_url, "addRoleACL", role, *acl.spec(), tolerate=_ALREADY)


def _client(admin_url: str, username: str, password: str, role: str, *, replace: bool) -> None:
    try:
        _ctrl(admin_url, "createClient", username, "-p", password)
    except DynsecError as exc:
        if "already exists" not in str(exc):
            raise
        if not replace:
            raise IdentityError(
                f"{username!r} already exists in dynamic security (use --rotate to replace it)"
            ) from exc
        # The client keeps its role (2.0.11 answers a repeated addClientRole with "Internal error").
        _ctrl(admin_url, "setClientPassword", username, password)
        return
    _ctrl(admin_url, "addClientRole", username, role)


def add_dynsec_hub(admin_url: str, gateway_id: str, password: str, *, replace: bool = False) -> None:
    """Create (or, with `replace`, re-key) hub `gateway_id` with its own role on a running broker."""
    check_hub_id(gateway_id)
    _role(admin_url, hub_role(gateway_id), hub_acls(gateway_id))
    _client(admin_url, gateway_id, password, hub_role(gateway_id), replace=replace)


def add_dynsec_ingest(
    admin_url: str, username: str, password: str, *, group: str = "ingest", replace: bool = False
) -> None:
    """Create ingest's client with the `vitalgate-ingest` role on a running broker."""
    _role(admin_url, INGEST_ROLE, ingest_acls(group))
    _client(admin_url, username, password, INGEST_ROLE, replace=replace)
