"""Soak: a long run at half of the maximum load against the simulators with faults on, watching
for leaks (memory, file descriptors, connections) and stuck tasks.

    python ops/bench/soak.py [--minutes 30] [--workers 2]

Set-up: one API and ``--workers`` worker processes; agencies with realistic latency (lognormal,
median 50 ms) and faults: 5xx, 429 with Retry-After, malformed and wrong-type answers, dropped
connections, a few hangs past the timeout and slow drips; the bank simulator answers deferred
(2 s later) and calls back (signed) as well as being polled. The maximum load is probed first
without faults; the soak then submits at half of it (Poisson arrivals).

Every ``--sample-seconds`` it records, per service process: resident memory, open file
descriptors and TCP connections; PostgreSQL's client connections; and stuck tasks (running
with a lease lapsed for over a minute and not taken back, or due for over five minutes and not
claimed). After the load stops, every search must complete (the tasks that keep failing end as
expired at their deadline). Growth = last quarter's average against the second quarter's
(the first quarter is warm-up). It is judged on resident memory and on the connections each
process opens itself (to PostgreSQL, to the agencies); the inbound connections are the load
client's to decide (one per request in flight within its keep-alive window), so they are shown
and judged the way a leak would show: the API still holding any of them (open or in CLOSE_WAIT)
2 s after the client closed its pool.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import psutil
from common import (
    AGENCIES,
    Client,
    Postgres,
    Service,
    Simulators,
    add_debtors,
    debtors,
    install_uvloop,
    machine,
    now,
    reset_searches,
    seed_case,
    service_env,
    steady_rate,
    table,
    token,
    wait_completed,
    workspace,
    write_section,
)

CALLBACK_SECRET = "soak-banks-callback-secret"  # noqa: S105 - a benchmark's own, not a credential
LATENCY = {"latency_median_ms": 50.0, "latency_sigma": 0.6}
FAULTS = {"p_5xx": 0.02, "p_rate_limited": 0.01, "p_malformed": 0.005, "p_wrong_content_type": 0.003,
          "p_reset": 0.005, "p_hang": 0.001, "p_drip": 0.002, "hang_seconds": 30.0, "drip_seconds": 3.0,
          "retry_after_seconds": 1.0}
STUCK_SQL = """
SELECT count(*) FILTER (WHERE status = 'running' AND lease_expires_at < now() - interval '60 seconds') AS lapsed,
       count(*) FILTER (WHERE status IN ('queued', 'waiting') AND due_at < now() - interval '5 minutes') AS overdue,
       count(*) FILTER (WHERE status IN ('queued', 'running', 'waiting')) AS open
FROM agency_task
"""


def sample_processes(pids: dict[str, int], pg_port: int, agency_ports: set[int]) -> dict[str, dict[str, int]]:
    """Per process: resident memory, open descriptors, TCP connections in all and by peer
    (inbound to its own port, to PostgreSQL, to the agencies), and those the peer closed but the
    process has not (CLOSE_WAIT: the signature of a connection leak)."""
    out = {}
    for name, pid in pids.items():
        with contextlib.suppress(psutil.Error):
            p = psutil.Process(pid)
            conns = p.net_connections(kind="tcp")
            listening = {c.laddr.port for c in conns if c.status == psutil.CONN_LISTEN}
            row = {"rss": p.memory_info().rss, "fds": p.num_fds(), "tcp": len(conns), "inbound": 0,
                   "postgres": 0, "agencies": 0, "close_wait": 0}
            for c in conns:
                if c.status == psutil.CONN_CLOSE_WAIT:
                    row["close_wait"] += 1
                if c.status == psutil.CONN_LISTEN:
                    continue
                if c.laddr.port in listening:
                    row["inbound"] += 1
                elif c.raddr and c.raddr.port == pg_port:
                    row["postgres"] += 1
                elif c.raddr and c.raddr.port in agency_ports:
                    row["agencies"] += 1
            out[name] = row
    return out


async def sampler(dsn: str, pids: dict[str, int], agency_ports: set[int], every: float,
                  samples: list[dict[str, Any]], stop: asyncio.Event) -> None:
    conn = await asyncpg.connect(dsn)
    started = time.monotonic()
    try:
        while not stop.is_set():
            stuck = await conn.fetchrow(STUCK_SQL)
            pg_conns = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
            procs = sample_processes(pids, urlsplit(dsn).port or 0, agency_ports)
            samples.append({"t": time.monotonic() - started, "procs": procs,
                            "pg_connections": pg_conns, "lapsed": stuck["lapsed"], "overdue": stuck["overdue"],
                            "open": stuck["open"]})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)
    finally:
        await conn.close()


async def run(args: argparse.Namespace, work: Any, dsn: str, sims: Simulators, service: Service) -> dict[str, Any]:
    probe = debtors(args.probe)
    case_id = await seed_case(dsn, probe)
    client = Client(service.url, token(work / "data"), case_id, connections=args.client_connections)
    # The maximum load with this latency, faults off.
    done = await client.closed_loop(probe, 128)
    await wait_completed(dsn, len(done), timeout=900)
    max_rate = await steady_rate(dsn)
    rate = args.rate or max_rate / 2
    await reset_searches(dsn)
    n = int(rate * args.minutes * 60 * 1.1) + 10
    people = debtors(n, offset=5_000_000)
    await add_debtors(dsn, case_id, people)
    # Faults on; banks deferred with callbacks.
    await sims.configure({**LATENCY, **FAULTS})
    await sims.configure_one("banks", {"answer_delay_seconds": 2.0, "callback_url":
                                       f"{service.url}/api/v1/agencies/banks/callbacks",
                                       "callback_secret": CALLBACK_SECRET})
    samples: list[dict[str, Any]] = []
    stop = asyncio.Event()
    agency_ports = {urlsplit(u).port or 0 for u in sims.urls.values()}
    watch = asyncio.create_task(sampler(dsn, service.pids(), agency_ports, args.sample_seconds, samples, stop))
    load_started = time.time()
    deadline = load_started + args.minutes * 60
    submitted = 0
    rng = random.Random(5)
    pending: set[asyncio.Task[Any]] = set()
    async with client.session() as session:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        for person in people:
            if time.time() >= deadline:
                break
            next_at += rng.expovariate(rate)
            delay = next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(client.submit_one(session, person))
            pending.add(task)
            task.add_done_callback(pending.discard)
            submitted += 1
        if pending:
            await asyncio.gather(*pending)
        api_port = urlsplit(service.url).port
        client_ports = {c.laddr.port for c in psutil.Process().net_connections(kind="tcp")
                        if c.raddr and c.raddr.port == api_port}
    load_seconds = time.time() - load_started
    accepted = submitted - len(client.errors)
    # The load client has closed its connections: the service must let go of them too (a server
    # that leaks inbound connections keeps them, in CLOSE_WAIT or open). Only the client's own
    # are counted: the bank simulator's callbacks come in on connections of their own.
    await asyncio.sleep(2.0)
    after_client = {"client_connections": len(client_ports), "kept": len(
        [c for c in psutil.Process(service.pids()["api-0"]).net_connections(kind="tcp")
         if c.laddr.port == api_port and c.raddr and c.raddr.port in client_ports])}
    drain_started = time.time()
    drained = True
    try:
        await wait_completed(dsn, accepted, timeout=args.drain_minutes * 60, poll=1.0)
    except TimeoutError as exc:
        drained = False
        print(f"not drained: {exc}", file=sys.stderr)
    drain_seconds = time.time() - drain_started
    stop.set()
    await watch
    conn = await asyncpg.connect(dsn)
    try:
        statuses = {r["status"]: r["n"] for r in await conn.fetch(
            "SELECT status, count(*) AS n FROM agency_task GROUP BY status")}
        final = await conn.fetchrow(STUCK_SQL)
    finally:
        await conn.close()
    stats = await sims.stats()
    return {"after_client": after_client,
            "max_rate": max_rate, "rate": rate, "submitted": submitted, "refused": len(client.errors),
            "load_seconds": load_seconds, "drained": drained, "drain_seconds": drain_seconds, "samples": samples,
            "statuses": statuses, "final": dict(final), "faults": {a: s["faults"] for a, s in stats.items()}}


def own_connections(row: dict[str, int] | None) -> int | None:
    return None if row is None else row["tcp"] - row["inbound"]


def growth(samples: list[dict[str, Any]], get: Any) -> tuple[float, float, float]:
    """(second-quarter average, last-quarter average, relative growth)."""
    values = [get(s) for s in samples]
    values = [v for v in values if v is not None]
    q = max(1, len(values) // 4)
    early = statistics.fmean(values[q:2 * q]) if len(values) >= 4 else values[0]
    late = statistics.fmean(values[-q:])
    return early, late, (late / early - 1) if early else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=0.0, help="searches/s (default: half the probed maximum)")
    parser.add_argument("--probe", type=int, default=1000)
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    parser.add_argument("--drain-minutes", type=float, default=15.0)
    parser.add_argument("--client-connections", type=int, default=64,
                        help="the load client's keep-alive pool towards the API (a reverse proxy's, in production)")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--final", action="store_true", help="not preliminary: the machine was quiet")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    install_uvloop()
    started_at, machine_line = now(), machine()
    with workspace("soak", keep=args.keep) as work:
        pg = Postgres(work)
        dsn = pg.start()
        sims = Simulators.start(work, dict.fromkeys(AGENCIES, LATENCY))
        env = service_env(dsn, sims.urls, work / "data", AGENCY_BANKS_CALLBACK_SECRET=CALLBACK_SECRET)
        service = Service(work, env, workers=args.workers)
        try:
            asyncio.run(service.start())
            r = asyncio.run(run(args, work, dsn, sims, service))
        finally:
            service.stop()
            sims.stop()
            pg.stop()

    samples = r["samples"]
    mib = 1024 * 1024
    rows = []
    verdicts = []
    for name in sorted(samples[0]["procs"]):
        for metric, label, scale in (("rss", "RSS MiB", mib), ("fds", "open fds", 1), ("tcp", "TCP connections", 1),
                                     ("inbound", "  inbound", 1), ("postgres", "  to PostgreSQL", 1),
                                     ("agencies", "  to agencies", 1), ("close_wait", "  CLOSE_WAIT", 1)):
            early, late, g = growth(samples, lambda s, n=name, m=metric: s["procs"].get(n, {}).get(m))
            peak = max(s["procs"].get(name, {}).get(metric, 0) for s in samples)
            rows.append([name, label, f"{early / scale:.1f}", f"{late / scale:.1f}", f"{peak / scale:.1f}",
                         f"{g:+.1%}"])
            if metric == "rss":
                verdicts.append(g <= 0.10)
        # Connections the process opens itself (to PostgreSQL, to the agencies, and any other):
        # every TCP connection but the inbound ones, whose number the client's pool decides.
        early, late, g = growth(samples, lambda s, n=name: own_connections(s["procs"].get(n)))
        peak = max(own_connections(s["procs"].get(name)) or 0 for s in samples)
        rows.append([name, "  opened by it", f"{early:.1f}", f"{late:.1f}", f"{peak:.1f}", f"{g:+.1%}"])
        verdicts.append(g <= 0.10 or late - early <= 2)
    # Inbound connections follow the load client's pool (aiohttp keeps one per request in flight
    # during the last keep-alive window); what the service owes is to let them go once the
    # client has closed them.
    after = r["after_client"]
    verdicts.append(after["kept"] == 0)
    early, late, g = growth(samples, lambda s: s["pg_connections"])
    rows.append(["postgres", "client connections", f"{early:.1f}", f"{late:.1f}",
                 f"{max(s['pg_connections'] for s in samples)}", f"{g:+.1%}"])
    verdicts.append(g <= 0.10 or late - early <= 2)
    out = table(["process", "measure", "2nd quarter avg", "last quarter avg", "peak", "growth"], rows)
    stuck_max = max(max(s["lapsed"], s["overdue"]) for s in samples)
    no_stuck = stuck_max == 0 and r["drained"] and r["final"]["open"] == 0
    completed = "every search completed" if r["drained"] else "NOT every search completed"
    verdict = (f"{r['submitted']} searches in {r['load_seconds'] / 60:.1f} min at {r['rate']:.0f}/s "
               f"(half of the probed {r['max_rate']:.0f}/s; {r['refused']} refused); drained in "
               f"{r['drain_seconds']:.0f} s: {completed}. "
               f"Tasks by final status: {json.dumps(r['statuses'])}. Stuck tasks seen (lapsed lease > 1 min or "
               f"due > 5 min): max {stuck_max}. Of the load client's {after['client_connections']} connections "
               f"to the API, still open on the API's side 2 s after the client closed them: {after['kept']}. "
               f"Targets: no growth beyond 10% (resident memory; "
               f"connections the process opens; inbound ones let go once the client left): "
               f"**{'met' if all(verdicts) else 'missed'}**; no task stuck: **{'met' if no_stuck else 'missed'}**.")
    faults = "; ".join(f"{a}: {json.dumps(f)}" for a, f in sorted(r["faults"].items()))
    print(out)
    print(verdict)
    print("faults injected:", faults)
    if not args.no_write:
        body = "\n".join([
            out, "", verdict, "", f"Faults injected by the simulators: {faults}.", "",
            f"One API and {args.workers} worker processes; agencies lognormal latency (median 50 ms, sigma 0.6) with "
            f"faults {json.dumps(FAULTS)}; banks deferred 2 s with signed callbacks. Sampled every "
            f"{args.sample_seconds:g} s ({len(samples)} samples).",
        ])
        write_section("soak", f"Soak ({args.minutes:g} minutes, faults on)", body, started=started_at,
                      machine_line=machine_line, preliminary=not args.final)
    return 0


if __name__ == "__main__":
    sys.exit(main())
