"""Overhead: what the service adds to a search beyond the agencies' own time.

    python ops/bench/overhead.py [--probe 1500] [--seconds 30] [--median-ms 50] [--sigma 0.6] [--combined]

The agencies answer with realistic latency: lognormal, median 50 ms, sigma 0.6 (p99 about
4x the median: a long tail), drawn independently per call. The service runs as one API and one
worker process (``--combined``: one ``serve --role all`` process doing both, the default
deployment; on two cores its single event loop queues the API behind the dispatcher).
First the maximum load is probed (searches submitted as fast as the client can;
the sustained completion rate between the 10th and 90th percentile); then searches arrive at half
that rate (Poisson) for
``--seconds``, and for each one:

    overhead = (completed in the database) - (client sent the POST) - (slowest agency's answer)

where an agency's answer time is measured inside the simulator (from the request's arrival to
its response, simulated latency included), keyed by the search's idempotency key.

The bank simulator is left out: banks answer in hours to days through tickets and batches (a
batch waits up to 2 s to fill by design), so a millisecond overhead figure means nothing for
them; the four synchronous agencies are measured.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any
from urllib.parse import urlsplit

from common import (
    SYNC_AGENCIES,
    Client,
    CpuMeter,
    Postgres,
    Service,
    Simulators,
    add_debtors,
    cpu_speed,
    debtors,
    install_uvloop,
    machine,
    now,
    percentile,
    reset_searches,
    search_times,
    seed_case,
    service_env,
    steady_rate,
    table,
    token,
    wait_completed,
    workspace,
    write_section,
)


async def run(args: argparse.Namespace, work: Any, dsn: str, sims: Simulators, service: Service,
              postmaster: int | None = None, pg: Postgres | None = None) -> dict[str, Any]:
    probe_people = debtors(args.probe)
    case_id = await seed_case(dsn, probe_people)
    client = Client(service.url, token(work / "data"), case_id, connections=256)

    # 1. the maximum load with this latency
    await client.closed_loop(probe_people[:100], 32)  # warm-up
    await wait_completed(dsn, 100, timeout=300)
    await reset_searches(dsn)
    probed = await client.closed_loop(probe_people[100:], args.probe_concurrency)
    await wait_completed(dsn, len(probed), timeout=900)
    max_rate = await steady_rate(dsn)
    await reset_searches(dsn)

    # 2. half of it, open loop
    rate = max_rate / 2
    n = int(rate * args.seconds)
    load_people = debtors(n, offset=1_000_000)
    await add_debtors(dsn, case_id, load_people)
    if pg is not None:
        await pg.statements_report()  # reset: only the measured load is reported
    speed = cpu_speed()
    meter = CpuMeter({"api": [service.procs[0].pid], "workers": [p.pid for p in service.procs[1:]],
                      "simulators": [p.pid for p in sims.procs]},
                     postgres_port=urlsplit(dsn).port, postmaster=postmaster)
    meter.start()
    submitted = await client.open_loop(load_people[:n], rate)
    await wait_completed(dsn, len(submitted), timeout=900)
    meter.stop()
    if pg is not None:
        print(await pg.statements_report(top=20), flush=True)
    times = await search_times(dsn)
    agency = await sims.timings()
    overheads, totals, slowest, accept, before, after = [], [], [], [], [], []
    missing = 0
    for s in submitted:
        _created, completed = times[s.search_id]
        answers = agency.get(s.search_id, {})
        if completed is None or len(answers) < len(sims.urls):
            missing += 1
            continue
        total = completed.timestamp() - s.sent_at
        worst = max(a[0] for a in answers.values())
        totals.append(total)
        slowest.append(worst)
        overheads.append(total - worst)
        accept.append(s.accepted_at - s.sent_at)
        before.append(min(a[1] for a in answers.values()) - s.sent_at)
        after.append(completed.timestamp() - max(a[2] for a in answers.values()))
    if client.errors:
        print(f"{len(client.errors)} submissions refused, e.g. {client.errors[:3]}", file=sys.stderr)
    return {"max_rate": max_rate, "rate": rate, "n": len(submitted), "measured": len(overheads), "missing": missing,
            "overhead": overheads, "total": totals, "slowest": slowest, "accept": accept, "before": before,
            "after": after, "cpu": meter.summary(), "speed": speed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--probe", type=int, default=1500, help="searches to find the maximum load")
    parser.add_argument("--probe-concurrency", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=30.0, help="duration at half the maximum load")
    parser.add_argument("--median-ms", type=float, default=50.0)
    parser.add_argument("--sigma", type=float, default=0.6)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--combined", action="store_true",
                        help="one process serving the API and dispatching (serve --role all, the default deployment)")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--final", action="store_true", help="not preliminary: the machine was quiet")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--pg-statements", action="store_true", help="report pg_stat_statements for the measured load")
    args = parser.parse_args()
    install_uvloop()
    started_at, machine_line = now(), machine()
    latency = {"latency_median_ms": args.median_ms, "latency_sigma": args.sigma}
    with workspace("overhead", keep=args.keep) as work:
        pg = Postgres(work)
        dsn = pg.start(statements=args.pg_statements)
        sims = Simulators.start(work, dict.fromkeys(SYNC_AGENCIES, latency), agencies=SYNC_AGENCIES, timing=True)
        service = Service(work, service_env(dsn, sims.urls, work / "data"), workers=args.workers,
                          combined=args.combined)
        try:
            asyncio.run(service.start())
            r = asyncio.run(run(args, work, dsn, sims, service, pg.postmaster_pid(),
                                pg if args.pg_statements else None))
        finally:
            service.stop()
            sims.stop()
            pg.stop()

    ms = 1000.0
    rows = [
        [name, f"{percentile(v, 0.5) * ms:.1f}", f"{percentile(v, 0.9) * ms:.1f}", f"{percentile(v, 0.99) * ms:.1f}",
         f"{max(v) * ms:.1f}"]
        for name, v in (("overhead (completion - slowest agency)", r["overhead"]),
                        ("search completion (POST sent -> completed)", r["total"]),
                        ("slowest agency's answer", r["slowest"]),
                        ("POST /api/v1/searches answered (202)", r["accept"]),
                        ("POST sent -> first agency call arrives", r["before"]),
                        ("last agency answer -> search completed", r["after"]))
    ]
    out = table(["per search, ms", "p50", "p90", "p99", "max"], rows)
    p50, p99 = percentile(r["overhead"], 0.5) * ms, percentile(r["overhead"], 0.99) * ms
    verdict = (f"Maximum load with this latency: {r['max_rate']:.0f} searches/s; measured at {r['rate']:.0f}/s "
               f"for {args.seconds:.0f} s ({r['measured']} searches; {r['missing']} without a full set of "
               f"agency timings; machine speed before it {r['speed']:.0f} ms, lower is faster: see fanout). "
               f"Targets: overhead p50 <= 5 ms **{'met' if p50 <= 5 else 'missed'}** "
               f"({p50:.1f} ms), p99 <= 25 ms **{'met' if p99 <= 25 else 'missed'}** ({p99:.1f} ms).")
    print(out)
    print(verdict)
    print(r["cpu"])
    topology = ("one process serving the API and dispatching (`serve --role all`)" if args.combined
                else f"one API and {args.workers} worker process(es)")
    if not args.no_write:
        body = "\n".join([
            out, "", verdict, "",
            f"Agencies: vehicles, exit-entry, social insurance, hotels, each in its own process, latency lognormal "
            f"(median {args.median_ms:g} ms, sigma {args.sigma:g}) per call; banks left out (deferred, batched by "
            f"design). Service: {topology}, default settings except the "
            f"agencies' politeness caps. Open-loop Poisson arrivals. {r['cpu']}.",
        ])
        write_section("overhead", "Overhead at half of the maximum load", body, started=started_at,
                      machine_line=machine_line, preliminary=not args.final)
    return 0


if __name__ == "__main__":
    sys.exit(main())
