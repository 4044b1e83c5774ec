"""A private Mosquitto started from the SHIPPED deploy/mosquitto/dynsec config (helpers, no tests here).

As in secure_broker.py, only what cannot work on a test host is replaced: the listener (a free
loopback port, no TLS), the plugin's JSON file (a temp one made by `mosquitto_ctrl dynsec init`)
and the persistence folder. Identities are created by the same code as `vitalgate admin --dynsec`.
"""

from __future__ import annotations

import getpass
import subprocess
from pathlib import Path

from tests.support.gateway_harness import MOSQUITTO, port_open, wait_for
from tests.support.secure_broker import SecureBroker
from vitalgate.app.broker_dynsec import MOSQUITTO_CTRL, add_dynsec_hub, add_dynsec_ingest
from vitalgate.app.broker_identity import new_password

DYNSEC = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "dynsec"
_REPLACED = (
    "user ",
    "listener",
    "certfile",
    "keyfile",
    "cafile",
    "tls_version",
    "plugin_opt_config_file",
    "persistence",
)


class DynsecBroker(SecureBroker):
    """Our own Mosquitto child with the dynamic-security plugin; identities via `add` once started."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir, persistence=False)
        self.admin_password = new_password()
        self.state = workdir / "dynamic-security.json"

    @property
    def admin_url(self) -> str:
        return f"mqtt://admin:{self.admin_password}@127.0.0.1:{self.port}"

    def add(self, username: str) -> str:
        """A fresh credential on the running broker (dynamic security applies it at once)."""
        password = new_password()
        if username == "ingest":
            add_dynsec_ingest(self.admin_url, username, password, replace=True)
        else:
            add_dynsec_hub(self.admin_url, username, password, replace=True)
        self.passwords[username] = password
        return password

    async def start(self) -> None:
        if not self.state.exists():
            subprocess.run(
                [MOSQUITTO_CTRL, "dynsec", "init", str(self.state), "admin", self.admin_password],
                check=True,
                capture_output=True,
            )
        kept = [
            line
            for line in (DYNSEC / "mosquitto.conf").read_text().splitlines()
            if not line.strip().startswith(_REPLACED)
        ]
        kept += [
            f"listener {self.port} 127.0.0.1",
            f"user {getpass.getuser()}",
            f"plugin_opt_config_file {self.state}",
            "persistence false",
        ]
        conf = self.workdir / "mosquitto.conf"
        conf.write_text("\n".join(kept) + "\n")
        log = (self.workdir / "mosquitto.log").open("ab")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=log)
        await wait_for(lambda: port_open(self.port), 20, f"mosquitto on port {self.port}")
