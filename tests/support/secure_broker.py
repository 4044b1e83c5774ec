"""A private Mosquitto started from the SHIPPED deploy/mosquitto config and ACL (helpers, no tests here).

Only what cannot work on a test host is replaced: the listener (a free loopback port, no TLS),
the password file (a temp one written by `add_identity`) and the persistence folder.
"""

from __future__ import annotations

import asyncio
import getpass
import subprocess
from pathlib import Path

from tests.support.gateway_harness import MOSQUITTO, port_open, wait_for
from vitalgate.app.broker_identity import add_identity
from vitalgate.app.embedded import free_port
from vitalgate.core.settings import MqttConfig

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"
_REPLACED = (
    "user ",
    "listener",
    "certfile",
    "keyfile",
    "cafile",
    "tls_version",
    "password_file",
    "acl_file",
    "persistence",
)


def render_config(workdir: Path, port: int, *, persistence: bool) -> Path:
    """The shipped mosquitto.conf with test paths; every other line (allow_anonymous false, ...) as shipped."""
    kept = [
        line for line in (DEPLOY / "mosquitto.conf").read_text().splitlines() if not line.strip().startswith(_REPLACED)
    ]
    (workdir / "store").mkdir(exist_ok=True)
    kept += [
        f"listener {port} 127.0.0.1",
        # Run as root, Mosquitto drops to user `mosquitto`, who cannot read a test's temp folder.
        f"user {getpass.getuser()}",
        f"password_file {workdir / 'passwd'}",
        f"acl_file {DEPLOY / 'acl'}",
        f"persistence {'true' if persistence else 'false'}",
        f"persistence_location {workdir / 'store'}/",
    ]
    conf = workdir / "mosquitto.conf"
    conf.write_text("\n".join(kept) + "\n")
    return conf


class SecureBroker:
    """Our own Mosquitto child on a free port with the shipped ACL; identities via `add`."""

    protocol = "5"
    kind = "mosquitto"

    def __init__(self, workdir: Path, *, persistence: bool = True) -> None:
        self.workdir, self.port, self.persistence = workdir, free_port(), persistence
        self.passwords: dict[str, str] = {}
        self.proc: subprocess.Popen[bytes] | None = None
        (workdir / "passwd").touch(mode=0o600)

    def add(self, username: str) -> str:
        """A fresh credential (call before start, or restart/HUP to apply)."""
        self.passwords[username] = add_identity(self.workdir / "passwd", username, replace=True)
        return self.passwords[username]

    def config(self, username: str | None = None, password: str | None = None) -> MqttConfig:
        secret = password if password is not None else self.passwords.get(username or "")
        return MqttConfig.from_url(
            f"mqtt://{username}:{secret}@127.0.0.1:{self.port}" if username else f"mqtt://127.0.0.1:{self.port}",
            protocol="5",
        )

    def url(self, username: str) -> str:
        return f"mqtt://{username}:{self.passwords[username]}@127.0.0.1:{self.port}"

    async def start(self) -> None:
        conf = render_config(self.workdir, self.port, persistence=self.persistence)
        log = (self.workdir / "mosquitto.log").open("ab")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=log)
        await wait_for(lambda: port_open(self.port), 20, f"mosquitto on port {self.port}")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            await asyncio.to_thread(self.proc.wait, 10)
        self.proc = None
        await wait_for(lambda: not port_open(self.port), 10, "broker port to close")
