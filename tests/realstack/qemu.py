"""The real-stack guest as seen from the host: boot it, run commands in it, power it off.

Serial ports: ttyS0 the console (a log file), ttyS1 the Bluetooth controller (qemu connects to the
host's bumble tcp-server; the guest runs `btattach -P h4` on it), ttyS2 the command channel
(guest/runner.py). The work tree is shared read-only over 9p; the root filesystem is opened with
snapshot=on, so the cached image is never written. Networking is qemu user mode with restrict=on:
the guest reaches only 10.0.2.100:1883, forwarded to the host's private broker.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
GUEST_BROKER = "10.0.2.100"


def qemu_binary() -> str | None:
    return shutil.which("qemu-system-x86_64")


def kvm_usable() -> bool:
    """KVM here is a software nested one on which the Debian kernel hangs: opt in with VITALGATE_REALSTACK_KVM=1."""
    import os

    return os.environ.get("VITALGATE_REALSTACK_KVM") == "1" and os.access("/dev/kvm", os.R_OK | os.W_OK)


@dataclass(frozen=True, slots=True)
class GuestResult:
    rc: int
    out: str
    seconds: float


class Guest:
    """One booted guest; `run` executes a command in it and returns its exit status and output."""

    def __init__(self, image: Path, workdir: Path, *, hci_port: int, broker_port: int) -> None:
        self.image, self.workdir = image, workdir
        self.hci_port, self.broker_port = hci_port, broker_port
        self.console = workdir / "console.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._chan: socket.socket | None = None
        self._buf = b""
        self.boot_s = 0.0  # kernel start -> command channel ready (guest uptime)
        self.wall_boot_s = 0.0

    def argv(self, cmd_port: int) -> list[str]:
        relay = f"cmd:{sys.executable} {HERE / 'tcp_relay.py'} {self.broker_port}"
        accel = "kvm" if kvm_usable() else "tcg"
        return [
            qemu_binary() or "qemu-system-x86_64",
            "-accel", accel, "-m", "768", "-smp", "1", "-display", "none", "-monitor", "none", "-no-reboot",
            "-kernel", str(self.image / "vmlinuz"), "-initrd", str(self.image / "initrd.img"),
            "-append", "console=ttyS0 root=/dev/vda rw init=/sbin/realstack-init panic=-1 quiet",
            "-drive", f"file={self.image / 'rootfs.ext4'},if=virtio,format=raw,snapshot=on",
            "-serial", f"file:{self.console}",
            "-serial", f"tcp:127.0.0.1:{self.hci_port}",
            "-serial", f"tcp:127.0.0.1:{cmd_port}",
            "-virtfs", f"local,path={REPO},mount_tag=vg,security_model=none,readonly=on",
            "-netdev", f"user,id=n0,restrict=on,guestfwd=tcp:{GUEST_BROKER}:1883-{relay}",
            "-device", "virtio-net-pci,netdev=n0",
        ]  # fmt: skip

    def start(self, boot_timeout: float = 300.0) -> None:
        started = time.monotonic()
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(30)
        with (self.workdir / "qemu.log").open("wb") as qlog:
            self.proc = subprocess.Popen(self.argv(listener.getsockname()[1]), stdout=qlog, stderr=qlog)
        try:
            self._chan, _ = listener.accept()
        finally:
            listener.close()
        ready = self._receive(boot_timeout)
        self.boot_s = float(ready["boot_s"])
        self.wall_boot_s = time.monotonic() - started

    def run(
        self,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        timeout: float = 300.0,
        tty_input: str | None = None,
    ) -> GuestResult:
        """Run `argv` in the guest; `tty_input`: stdin is a terminal with this typed ahead (else no stdin)."""
        assert self._chan is not None, "guest not started"
        started = time.monotonic()
        request = {"argv": argv, "env": env or {}, "timeout": timeout, "tty_input": tty_input}
        self._chan.sendall(json.dumps(request).encode() + b"\n")
        reply = self._receive(timeout + 30)
        return GuestResult(int(reply["rc"]), str(reply["out"]), time.monotonic() - started)

    def poweroff(self, timeout: float = 60.0) -> None:
        if self.proc is None:
            return
        try:
            if self._chan is not None and self.proc.poll() is None:
                self._chan.sendall(b'{"poweroff": true}\n')
            self.proc.wait(timeout)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(10)
        finally:
            if self._chan is not None:
                self._chan.close()

    def _receive(self, timeout: float) -> dict:
        assert self._chan is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self.proc is not None and self.proc.poll() is not None):
                raise AssertionError(f"guest did not answer within {timeout:.0f} s; console:\n{self.console_tail()}")
            self._chan.settimeout(min(remaining, 1.0))
            try:
                chunk = self._chan.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise AssertionError(f"guest closed the command channel; console:\n{self.console_tail()}")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def console_tail(self, chars: int = 3000) -> str:
        try:
            return self.console.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no console log)"
