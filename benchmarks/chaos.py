"""Chaos soak: hubs publish while a driver SIGKILLs and restarts ingest, the scheduler, the API or the broker.

`.venv/bin/python -m benchmarks.chaos [--minutes 2] [--hubs 4] [--kill-every-s 4]`

Loopback only: a private Mosquitto (shipped config and ACL, persistence on, in a temp dir, never the
shared broker on 1883) and a fresh `chaos_<random>` database on the PostgreSQL server of
VITALGATE_DATABASE_URL, dropped at the end. Running: N hubs (SQLite outbox; a row is deleted only on
ingest's commit receipt), two `vitalgate ingest run` in one shared-subscription group, `vitalgate
followup run` and `vitalgate api serve`. Some readings are level 2 lows (< 54 mg/dL, ADA Standards of
Care 2024, section 6) from meters bound to patients. After the chaos window everything is restarted,
drained (bounded wait) and counted; the exit code is 1 if any count is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import structlog

from benchmarks.chaos_fleet import Broker, Hub, Server, drop_database, port_open, scratch_database, server_env
from vitalgate.app.embedded import free_port
from vitalgate.store import people
from vitalgate.store.db import connect
from vitalgate.store.migrate import upgrade

DEFAULT_DATABASE = "postgresql://127.0.0.1:5432/postgres"


async def bind_urgent_patients(url: str, hubs: list[Hub], per_hub: int, tag: str) -> list[tuple[Hub, str, int]]:
    """`per_hub` patients per hub, each with one meter bound to it and owned by that hub."""
    conn = await connect(url)
    out = []
    since = datetime.now(UTC) - timedelta(days=1)  # readings before a binding are held for review
    async with conn.transaction():
        team = await people.create_care_team(conn, f"chaos-{tag}")
        for hub in hubs:
            for n in range(per_hub):
                patient = await people.create_patient(conn, "Chaos Patient", team, external_ref=f"{hub.gateway_id}-{n}")
                serial = f"BND-{hub.gateway_id}-{n:03d}"
                await people.bind_device(conn, serial, "glucose_meter", patient, valid_from=since)
                await conn.execute(
                    "UPDATE devices SET hub_id = %s, hub_since = now() WHERE serial = %s", (hub.gateway_id, serial)
                )
                out.append((hub, serial, patient))
    await conn.close()
    return out


def counts(url: str, hubs: list[Hub]) -> dict[str, int]:
    """Published vs stored ids, doubled ids, urgent readings with a task (blocking: run in a thread)."""
    published: set[str] = set().union(*(h.published_ids for h in hubs))
    urgent = {rid: pid for h in hubs for rid, pid in h.urgent_ids.items()}
    with psycopg.connect(url) as conn:
        rows: dict[str, int] = dict(conn.execute("SELECT id::text, count(*) FROM readings GROUP BY id").fetchall())
        tasked = {
            pid for (pid,) in conn.execute("SELECT DISTINCT patient_id FROM tasks WHERE severity = 'urgent'").fetchall()
        }
    return {
        "published": len(published),
        "stored": len(rows),
        "lost": len(published - rows.keys()),
        "doubled": sum(1 for n in rows.values() if n > 1),
        "unexpected": len(rows.keys() - published),
        "urgent_readings": len(urgent),
        "urgent_tasked": sum(1 for pid in urgent.values() if pid in tasked),
    }


def _ok(c: dict[str, int]) -> bool:
    return (
        c["lost"] == 0
        and c["doubled"] == 0
        and c["unexpected"] == 0
        and c["stored"] == c["published"]
        and c["urgent_tasked"] == c["urgent_readings"]
        and c["backlog"] == 0
    )


async def run(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    # The in-process hubs log every batch; only their warnings matter here.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    workdir = Path(tempfile.mkdtemp(prefix="vitalgate-chaos-"))
    url, admin = scratch_database(os.environ.get("VITALGATE_DATABASE_URL", DEFAULT_DATABASE))
    broker = Broker(workdir)
    broker.add("ingest")
    tag = workdir.name.rsplit("-", 1)[-1].lower().replace("_", "")
    hubs = [Hub(workdir, broker, f"gw-chaos-{tag}-{i}", seed=i) for i in range(args.hubs)]
    servers: list[Server] = []
    passed = False
    try:
        upgrade(url)
        bound = await bind_urgent_patients(url, hubs, args.urgent_per_hub, tag)
        env = server_env(url, broker.url("ingest"))
        api_port = free_port()
        servers = [
            Server(
                f"ingest-{i}", ["ingest", "run", "--client-id", f"chaos-ingest-{i}"], env, workdir / f"ingest-{i}.log"
            )
            for i in (1, 2)
        ]
        servers.append(
            Server(
                "followup",
                ["followup", "run", "--interval", "1", "--evaluate-every", "2"],
                env,
                workdir / "followup.log",
            )
        )
        api_args = ["api", "serve", "--host", "127.0.0.1", "--port", str(api_port)]
        servers.append(Server("api", api_args, env, workdir / "api.log"))
        broker.start()
        for server in servers:
            server.start()
        for hub in hubs:
            hub.start()
        kills: Counter[str] = Counter()
        victims: list[Broker | Server] = [broker, *servers]
        started = time.monotonic()
        end = started + args.minutes * 60
        pending_urgent = list(bound)
        rng.shuffle(pending_urgent)
        urgent_every = args.minutes * 60 * 0.9 / max(1, len(pending_urgent))
        next_kill, next_urgent = started + args.kill_every_s, started + 1.0
        restarts: list[tuple[float, Broker | Server]] = []
        print(
            f"chaos: {args.hubs} hubs, {len(bound)} bound patients, {args.minutes} min, workdir {workdir}", flush=True
        )
        while (now := time.monotonic()) < end:
            for hub in hubs:
                hub.add_routine(args.batch)
            if pending_urgent and now >= next_urgent:
                hub, serial, patient = pending_urgent.pop()
                hub.add_urgent(serial, patient)
                next_urgent = now + urgent_every
            if now >= next_kill:
                down = {id(v) for _, v in restarts}
                candidates = [v for v in victims if id(v) not in down]
                if candidates:
                    victim = rng.choice(candidates)
                    victim.kill()
                    kills[victim.kind] += 1
                    restarts.append((now + rng.uniform(0.3, 2.0), victim))
                next_kill = now + rng.uniform(0.5, 1.5) * args.kill_every_s
            for when, victim in list(restarts):
                if now >= when:
                    victim.start()
                    restarts.remove((when, victim))
            await asyncio.sleep(0.5)
        print(f"chaos window over after {time.monotonic() - started:.0f} s; draining", flush=True)
        for _, victim in restarts:
            victim.start()
        for victim in victims:
            if not victim.alive():
                victim.start()
        drain_end = time.monotonic() + args.drain_s
        while True:
            result = await asyncio.to_thread(counts, url, hubs)
            result["backlog"] = sum(h.store.backlog() for h in hubs)  # SQLite: this thread only
            if _ok(result) or time.monotonic() > drain_end:
                break
            await asyncio.sleep(2)
        alive = {s.name: s.alive() for s in servers} | {"broker": broker.alive()}
        alive["api_port"] = port_open(api_port)
        print(f"drained in {time.monotonic() - end:.0f} s", flush=True)
        report(result, alive, kills)
        passed = _ok(result) and all(alive.values())
        return 0 if passed else 1
    finally:
        for hub in hubs:
            await hub.close()
        for server in servers:
            server.stop()
        broker.stop()
        drop_database(admin, url)
        if passed:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"logs kept in {workdir}", flush=True)


def report(c: dict[str, int], alive: dict[str, bool], kills: Counter[str]) -> None:
    print(f"readings published (distinct ids): {c['published']}")
    print(f"readings stored in PostgreSQL:     {c['stored']}")
    print(f"  lost: {c['lost']}  doubled (ids with >1 row): {c['doubled']}  not published: {c['unexpected']}")
    print(f"  hub outbox backlog at the end: {c['backlog']}")
    print(f"urgent readings (< 54 mg/dL, bound): {c['urgent_readings']}  with an urgent task: {c['urgent_tasked']}")
    print("alive at the end: " + ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in alive.items()))
    print("SIGKILLs: " + ", ".join(f"{k}={v}" for k, v in sorted(kills.items())) + f" (total {sum(kills.values())})")
    print("RESULT: " + ("PASS" if _ok(c) and all(alive.values()) else "FAIL"), flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="length of the chaos window")
    parser.add_argument("--hubs", type=int, default=4)
    parser.add_argument("--batch", type=int, default=10, help="routine readings per hub every 0.5 s")
    parser.add_argument("--urgent-per-hub", type=int, default=5, help="bound patients per hub, one level 2 low each")
    parser.add_argument("--kill-every-s", type=float, default=4.0, help="mean seconds between SIGKILLs")
    parser.add_argument("--drain-s", type=float, default=180.0, help="bounded wait for the drain")
    parser.add_argument("--seed", type=int, default=13)
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
