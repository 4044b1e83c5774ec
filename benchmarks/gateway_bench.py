"""Gateway benchmark: 20 virtual devices synced by one hub process; peak RSS and readings/s.

`.venv/bin/python -m benchmarks.gateway_bench [--meters 15 --cuffs 5 --records 1000]`

The virtual devices run in their own process (`vitalgate.app.fleet_hci`: a bumble LocalLink served as
an HCI dongle over TCP), so the measured process is the gateway alone, talking HCI as it would
to a USB controller (`VITALGATE_GATEWAY_RADIO=hci`). Each measurement is a fresh child process,
so its peak RSS (VmHWM) is that run's alone:
- baseline: the bare profile drivers downloading every device (no outbox, no MQTT, no pydantic);
- hub: `run_hub` syncing the same devices into the SQLite outbox and publishing them with QoS 1
  to our own broker (a mosquitto child on a free port; amqtt if mosquitto is missing).
Target: hub peak RSS < 80 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RSS_MB = 80.0
CONCURRENCY = 4  # the hub's default max_concurrent_syncs, used by the baseline too


def _vmhwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    for _ in range(400):
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited early with {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"{what} did not start")


async def _baseline(transport: str, addresses: list[str], meters: int) -> dict[str, float]:
    from vitalgate.devices.profiles import sync_blood_pressure, sync_glucose
    from vitalgate.gateway.radio.hci import open_hci_radio

    async with open_hci_radio(transport) as radio:
        clients = [radio.client(a) for a in addresses]
        for client in clients:  # bond outside the timed part, as the hub run does when pairing
            async with client:
                await client.pair()
        limit = asyncio.Semaphore(CONCURRENCY)
        counts: list[int] = []

        async def one(index: int) -> None:
            async with limit:
                client = clients[index]
                async with client:
                    await client.pair()
                    if index < meters:
                        counts.append(len((await sync_glucose(client, timeout=600)).records))
                    else:
                        counts.append(len((await sync_blood_pressure(client, timeout=600)).records))

        start = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for i in range(len(clients)):
                group.create_task(one(i))
        elapsed = time.perf_counter() - start
    return {"readings": sum(counts), "seconds": elapsed, "rss_mb": _vmhwm_mb()}


async def _hub(transport: str, addresses: list[str], mqtt_url: str, protocol: str, workdir: str) -> dict[str, float]:
    from vitalgate.core.settings import MqttConfig
    from vitalgate.gateway.config import HubConfig
    from vitalgate.gateway.hub import run_hub
    from vitalgate.gateway.outbox import HubStore
    from vitalgate.gateway.pairing import pair_device
    from vitalgate.gateway.publisher import Publisher
    from vitalgate.gateway.radio.hci import open_hci_radio

    config = HubConfig(radio="hci", hci_transport=transport, sync_timeout_s=600, max_concurrent_syncs=CONCURRENCY)
    store = HubStore(Path(workdir) / "hub.sqlite", max_rows=config.outbox_max_rows)
    async with open_hci_radio(transport) as radio:
        for address in addresses:
            await pair_device(radio, store, address)
        publisher = Publisher(
            store, MqttConfig.from_url(mqtt_url, protocol=protocol), f"gw-bench-{os.getpid()}", config
        )
        start = time.perf_counter()
        run = await run_hub(store, radio, config, publisher=publisher, once=True, drain_timeout_s=600)
        elapsed = time.perf_counter() - start
    published = store.published()
    store.close()
    if run.failures or published != sum(o.queued for o in run.outcomes):
        raise SystemExit(f"hub run incomplete: failures={run.failures} published={published}")
    return {"readings": published, "seconds": elapsed, "rss_mb": _vmhwm_mb()}


def _child(mode: str, args: argparse.Namespace, extra: list[str]) -> dict[str, float]:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.gateway_bench",
        "--child",
        mode,
        "--meters",
        str(args.meters),
        "--cuffs",
        str(args.cuffs),
        "--records",
        str(args.records),
        *extra,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{mode} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _start_broker(workdir: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    from vitalgate.app.embedded import free_port

    port = free_port()
    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if binary:
        conf = workdir / "mosquitto.conf"
        conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
        proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        protocol = "5"
    else:
        proc = subprocess.Popen([sys.executable, "-m", "vitalgate.app.embedded", "broker", "--port", str(port)])
        protocol = "3.1.1"
    _wait_port(port, proc, "broker")
    return proc, f"mqtt://127.0.0.1:{port}", protocol


def _addresses(meters: int, cuffs: int) -> list[str]:
    """VirtualRadio numbers peripherals from 1 in the order vitalgate.app.fleet adds them (meters first)."""
    return [f"C0:DE:00:00:{n >> 8:02X}:{n & 0xFF:02X}" for n in range(1, meters + cuffs + 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=15)
    parser.add_argument("--cuffs", type=int, default=5)
    parser.add_argument("--records", type=int, default=1000, help="stored records per device")
    parser.add_argument("--child", choices=["baseline", "hub"])
    parser.add_argument("--transport")
    parser.add_argument("--mqtt-url")
    parser.add_argument("--protocol", default="5")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    from vitalgate.core.logs import configure_logging

    configure_logging("json", level=40)  # errors only: the benchmark prints its own figures
    addresses = _addresses(args.meters, args.cuffs)
    if args.child == "baseline":
        print(json.dumps(asyncio.run(_baseline(args.transport, addresses, args.meters))))
        return
    if args.child == "hub":
        print(json.dumps(asyncio.run(_hub(args.transport, addresses, args.mqtt_url, args.protocol, args.workdir))))
        return

    from vitalgate.app.embedded import free_port

    fleet_port = free_port()
    transport = f"tcp-client:127.0.0.1:{fleet_port}"
    fleet = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vitalgate.app.fleet_hci",
            "--port",
            str(fleet_port),
            "--meters",
            str(args.meters),
            "--cuffs",
            str(args.cuffs),
            "--records",
            str(args.records),
        ],
        stdout=subprocess.DEVNULL,
    )
    with tempfile.TemporaryDirectory(prefix="vg-gateway-bench-") as tmp:
        broker, url, protocol = _start_broker(Path(tmp))
        try:
            _wait_port(fleet_port, fleet, "virtual fleet")
            base = _child("baseline", args, ["--transport", transport])
            hub = _child(
                "hub", args, ["--transport", transport, "--mqtt-url", url, "--protocol", protocol, "--workdir", tmp]
            )
        finally:
            for proc in (broker, fleet):
                proc.terminate()
                proc.wait(10)
    devices = args.meters + args.cuffs
    base_rate, hub_rate = base["readings"] / base["seconds"], hub["readings"] / hub["seconds"]
    print(
        f"gateway benchmark: {devices} virtual devices ({args.meters} meters, {args.cuffs} cuffs), "
        f"{args.records} records each, in their own process over HCI/TCP; {CONCURRENCY} syncs at once"
    )
    print(f"{'run':<34}{'readings':>10}{'seconds':>10}{'readings/s':>12}{'peak RSS MB':>13}")
    print(
        f"{'baseline: drivers only, no hub':<34}{base['readings']:>10.0f}{base['seconds']:>10.2f}{base_rate:>12.0f}{base['rss_mb']:>13.1f}"
    )
    print(
        f"{'hub: sync + outbox + MQTT QoS 1':<34}{hub['readings']:>10.0f}{hub['seconds']:>10.2f}{hub_rate:>12.0f}{hub['rss_mb']:>13.1f}"
    )
    print(
        f"ratio hub/baseline: throughput {hub_rate / base_rate:.2f}x, peak RSS {hub['rss_mb'] / base['rss_mb']:.2f}x "
        f"(+{hub['rss_mb'] - base['rss_mb']:.1f} MB for outbox, MQTT, contract models and mapping)"
    )
    verdict = "PASS" if hub["rss_mb"] < TARGET_RSS_MB else "FAIL"
    print(f"target: gateway peak RSS < {TARGET_RSS_MB:.0f} MB -> {verdict} ({hub['rss_mb']:.1f} MB)")


if __name__ == "__main__":
    main()
