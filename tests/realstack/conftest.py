"""Real-stack level: the hub's bleak path through BlueZ 5.66 and a Linux 6.1 kernel in a qemu guest,
against virtual peripherals on a bumble controller on the host (README.md beside this file).

Every test here is marked `realstack`. The whole level shares one guest boot (session fixture
`stack`). Skipped, with the reason, only where qemu is missing, or where the image is not cached
yet and debootstrap is missing to build it; any other failure (build, boot, Bluetooth) fails.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.realstack.bumble_fixes import BUMBLE_VERSION
from tests.realstack.qemu import Guest, qemu_binary

HERE = Path(__file__).resolve().parent
GATEWAY_ID = "gw-realstack-01"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.realstack)


def _image() -> Path:
    """The cached image directory, built first if needed (build_image.sh; minutes on a cold cache)."""
    started = time.monotonic()
    env = {**os.environ, "VITALGATE_REALSTACK_PYTHON": sys.executable}
    done = subprocess.run(["bash", str(HERE / "build_image.sh")], env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        pytest.fail(f"realstack image build failed ({done.returncode}):\n{done.stderr[-3000:]}")
    image = Path(done.stdout.strip().splitlines()[-1])
    print(f"\nrealstack image {image.name}: ready in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return image


@dataclass
class Stack:
    guest: Guest
    radio: object  # host_radio.HostRadio (imported lazily: bumble)

    def hub(
        self, data: str, *args: str, env: dict[str, str] | None = None, timeout: float = 240.0, typed: str | None = None
    ):
        """Run `vitalgate gateway ARGS` in the guest on the bleak radio, with its own hub data dir."""
        hub_env = {
            "VITALGATE_DATA_DIR": f"/tmp/hub-{data}",
            "VITALGATE_GATEWAY_ID": GATEWAY_ID,
            "VITALGATE_MQTT_URL": "mqtt://10.0.2.100:1883",
            "VITALGATE_MQTT_PROTOCOL": "5",
            "VITALGATE_GATEWAY_RADIO": "bleak",
            "VITALGATE_LOG_FORMAT": "json",
            "COLUMNS": "200",
            **(env or {}),
        }
        argv = ["python3", "-m", "vitalgate", "gateway", *args]
        result = self.guest.run(argv, env=hub_env, timeout=timeout, tty_input=typed)
        with (self.guest.workdir / "hub.log").open("a") as log:  # every command's output, for a failure's reader
            log.write(
                f"\n$ gateway {' '.join(args)}  [{data}] -> rc {result.rc} in {result.seconds:.1f} s\n{result.out}"
            )
        return result


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if qemu_binary() is None:
        pytest.skip("realstack: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")
    installed = importlib.metadata.version("bumble")
    if installed != BUMBLE_VERSION:
        pytest.fail(f"realstack: bumble {installed} installed; the harness's fixes were checked with {BUMBLE_VERSION}")
    if shutil.which("debootstrap") is None and not _image_cached():
        pytest.skip("realstack: the guest image is not cached and debootstrap is not installed to build it")
    from tests.realstack.host_radio import HostRadio

    image = _image()
    workdir = tmp_path_factory.mktemp("realstack")
    radio = HostRadio(workdir, GATEWAY_ID)
    radio.start()
    guest = Guest(image, workdir, hci_port=radio.hci_port, broker_port=radio.broker.port)
    try:
        guest.start()
        print(f"realstack guest: ready {guest.wall_boot_s:.1f} s after qemu started "
              f"(guest uptime {guest.boot_s:.1f} s)", file=sys.stderr)  # fmt: skip
        yield Stack(guest, radio)
    finally:
        guest.poweroff()
        radio.stop()


def _image_cached() -> bool:
    """True if build_image.sh would reuse a cached image (it prints the directory at once)."""
    env = {**os.environ, "VITALGATE_REALSTACK_CHECK_ONLY": "1"}
    done = subprocess.run(["bash", str(HERE / "build_image.sh")], env=env, capture_output=True, text=True)
    return done.returncode == 0
