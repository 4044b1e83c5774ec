"""Gateway benchmark: 20 virtual devices synced by one hub process; peak RSS and readings/s.

`.venv/bin/python -m benchmarks.gateway_bench [--meters 15 --cuffs 5 --records 1000]`

Each measurement runs in a fresh child process so peak RSS (VmHWM) is that run's alone:
- baseline: the same virtual devices downloaded by the bare profile drivers (no outbox, no MQTT);
- hub: `run_hub` pairing and syncing them with the SQLite outbox and publishing to our own broker
  (a mosquitto child on a free port, or amqtt if mosquitto is missing).
The virtual devices live in the measured process too (bumble controllers), so the baseline's RSS
is mostly theirs; the difference is the hub's own cost. Target: hub peak RSS < 80 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RSS_MB = 80.0


def _vmhwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


async def _fleet(radio: object, meters: int, cuffs: int, records: int) -> list[str]:
    from gateway.fleet import add_demo_fleet

    return await add_demo_fleet(radio, meters=meters, cuffs=cuffs, records=records)


async def _baseline(meters: int, cuffs: int, records: int) -> dict[str, float]:
    from devices.profiles import sync_blood_pressure, sync_glucose
    from devices.virtual import VirtualRadio

    async with VirtualRadio() as radio:
        addresses = await _fleet(radio, meters, cuffs, records)
        clients = [radio.client(a) for a in addresses]
        for client in clients:  # pair outside the timed part, as the hub benchmark does
            async with client:
                await client.pair()
        limit = asyncio.Semaphore(4)  # the hub's default max_concurrent_syncs
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


def _imports() -> dict[str, float]:
    """Peak RSS of a process that only imports what a production (bleak) hub imports."""
    import devices.adapters.bleak_client  # noqa: F401
    import gateway.cli  # noqa: F401
    import gateway.hub  # noqa: F401
    import gateway.publisher  # noqa: F401

    return {"readings": 0, "seconds": 0.0, "rss_mb": _vmhwm_mb()}


async def _hub(meters: int, cuffs: int, records: int, mqtt_url: str, protocol: str, workdir: str) -> dict[str, float]:
    from devices.virtual import VirtualRadio
    from gateway.config import HubConfig
    from gateway.hub import run_hub
    from gateway.outbox import HubStore
    from gateway.pairing import pair_device
    from gateway.publisher import Publisher
    from gateway.radio import VirtualHubRadio
    from vitalgate.settings import MqttConfig

    config = HubConfig(radio="virtual", sync_timeout_s=600)
    store = HubStore(Path(workdir) / "hub.sqlite", max_rows=config.outbox_max_rows)
    async with VirtualRadio() as vr:
        radio = VirtualHubRadio(vr)
        for address in await _fleet(vr, meters, cuffs, records):
            await pair_device(radio, store, address)
        publisher = Publisher(store, MqttConfig.from_url(mqtt_url, protocol=protocol), f"gw-bench-{os.getpid()}", config)
        start = time.perf_counter()
        run = await run_hub(store, radio, config, publisher=publisher, once=True, drain_timeout_s=600)
        elapsed = time.perf_counter() - start
    published = store.published()
    store.close()
    if run.failures or published != sum(o.queued for o in run.outcomes):
        raise SystemExit(f"hub run incomplete: failures={run.failures} published={published}")
    return {"readings": published, "seconds": elapsed, "rss_mb": _vmhwm_mb()}


def _child(mode: str, args: argparse.Namespace, env_extra: dict[str, str], extra: tuple[str, ...] | list[str] = ()) -> dict[str, float]:
    cmd = [sys.executable, "-m", "benchmarks.gateway_bench", "--child", mode, "--meters", str(args.meters),
           "--cuffs", str(args.cuffs), "--records", str(args.records), *extra]
    env = {**os.environ, **env_extra, "VITALGATE_LOG_FORMAT": "json"}
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{mode} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _start_broker(workdir: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    from vitalgate.embedded import free_port

    port = free_port()
    if shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists():
        conf = workdir / "mosquitto.conf"
        conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        protocol = "5"
    else:
        proc = subprocess.Popen([sys.executable, "-m", "vitalgate.embedded", "broker", "--port", str(port)])
        protocol = "3.1.1"
    import socket

    for _ in range(200):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"mqtt://127.0.0.1:{port}", protocol
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("benchmark broker did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=15)
    parser.add_argument("--cuffs", type=int, default=5)
    parser.add_argument("--records", type=int, default=1000, help="stored records per device")
    parser.add_argument("--child", choices=["baseline", "hub", "imports"])
    parser.add_argument("--mqtt-url")
    parser.add_argument("--protocol", default="5")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    from vitalgate.logs import configure_logging

    configure_logging("json", level=40)  # errors only: the benchmark prints its own figures
    if args.child == "imports":
        print(json.dumps(_imports()))
        return
    if args.child == "baseline":
        print(json.dumps(asyncio.run(_baseline(args.meters, args.cuffs, args.records))))
        return
    if args.child == "hub":
        print(json.dumps(asyncio.run(_hub(args.meters, args.cuffs, args.records, args.mqtt_url, args.protocol, args.workdir))))
        return

    with tempfile.TemporaryDirectory(prefix="vg-gateway-bench-") as tmp:
        broker, url, protocol = _start_broker(Path(tmp))
        try:
            imports = _child("imports", args, {})
            base = _child("baseline", args, {})
            hub = _child("hub", args, {}, ["--mqtt-url", url, "--protocol", protocol, "--workdir", tmp])
        finally:
            broker.terminate()
            broker.wait(10)
    devices = args.meters + args.cuffs
    base_rate, hub_rate = base["readings"] / base["seconds"], hub["readings"] / hub["seconds"]
    print(f"gateway benchmark: {devices} virtual devices ({args.meters} meters, {args.cuffs} cuffs), {args.records} records each")
    print(f"{'run':<34}{'readings':>10}{'seconds':>10}{'readings/s':>12}{'peak RSS MB':>13}")
    print(f"{'baseline: drivers only, no hub':<34}{base['readings']:>10.0f}{base['seconds']:>10.2f}{base_rate:>12.0f}{base['rss_mb']:>13.1f}")
    print(f"{'hub: sync + outbox + MQTT QoS 1':<34}{hub['readings']:>10.0f}{hub['seconds']:>10.2f}{hub_rate:>12.0f}{hub['rss_mb']:>13.1f}")
    print(f"ratio hub/baseline: throughput {hub_rate / base_rate:.2f}x, peak RSS {hub['rss_mb'] / base['rss_mb']:.2f}x "
          f"(+{hub['rss_mb'] - base['rss_mb']:.1f} MB for outbox, MQTT and mapping)")
    own = imports["rss_mb"] + hub["rss_mb"] - base["rss_mb"]
    print(f"production hub imports alone (bleak path, no virtual devices): {imports['rss_mb']:.1f} MB; "
          f"estimated hub without in-process virtual devices: {own:.1f} MB")
    verdict = "PASS" if hub["rss_mb"] < TARGET_RSS_MB else "FAIL"
    print(f"target: hub process peak RSS < {TARGET_RSS_MB:.0f} MB with the 20 virtual devices in the same process "
          f"-> {verdict} ({hub['rss_mb']:.1f} MB)")


if __name__ == "__main__":
    main()
