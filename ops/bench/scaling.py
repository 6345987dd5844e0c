"""Scaling: durable fan-out throughput with 1, 2 and 4 worker processes (plus one API process).

    python ops/bench/scaling.py [--searches 2000] [--workers 1,2,4]

Same set-up as the durable variant of fanout.py (five simulators without latency, one process
each; embedded PostgreSQL, fsync off); each worker count gets a fresh set of service processes
and fresh debtors. On a machine with few cores, workers compete with the API, PostgreSQL and the
simulators for the same CPUs: the CPU line of each run says who used what.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from common import (
    Postgres,
    Service,
    Simulators,
    debtors,
    install_uvloop,
    machine,
    now,
    reset_searches,
    seed_case,
    service_env,
    table,
    workspace,
    write_section,
)
from fanout import NO_LATENCY, durable


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--searches", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--final", action="store_true", help="not preliminary: the machine was quiet")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    install_uvloop()
    started_at, machine_line = now(), machine()
    counts = [int(x) for x in args.workers.split(",")]
    results = []
    with workspace("scaling", keep=args.keep) as work:
        pg = Postgres(work)
        dsn = pg.start()
        sims = Simulators.start(work, NO_LATENCY)
        try:
            per_run = args.warmup + args.searches
            for i, workers in enumerate(counts):
                people = debtors(per_run, offset=i * per_run)
                service = Service(work, service_env(dsn, sims.urls, work / "data"), workers=workers)
                try:
                    asyncio.run(service.start())
                    case_id = asyncio.run(seed_case(dsn, people))
                    print(f"{workers} worker(s): {args.searches} searches ...", flush=True)
                    r = asyncio.run(durable(dsn, service, work / "data", people, case_id,
                                            concurrency=args.concurrency, warmup=args.warmup, sims=sims,
                                            postmaster=pg.postmaster_pid()))
                    results.append((workers, r))
                finally:
                    service.stop()
                asyncio.run(reset_searches(dsn))
        finally:
            sims.stop()
            pg.stop()

    base = results[0][1]["n"] / results[0][1]["seconds"]
    rows = []
    for workers, r in results:
        rate = r["n"] / r["seconds"]
        rows.append([workers, r["n"], f"{r['seconds']:.2f}", f"{rate:.0f}", f"{rate / base:.2f}x"])
    out = table(["worker processes", "searches", "seconds", "searches/s", "vs 1 worker"], rows)
    print(out)
    cpu = "\n".join(f"- {w} worker(s): {r['cpu']}" for w, r in results)
    print(cpu)
    if not args.no_write:
        body = "\n".join([
            out, "",
            "Where the CPU went in each run (the machine's cores are shared by every process):", "", cpu, "",
            "Five simulators without latency, one process each; one API process; the client keeps "
            f"{args.concurrency} submissions in flight; {args.warmup} warm-up searches per run.",
        ])
        write_section("scaling", "Scaling with worker processes", body, started=started_at,
                      machine_line=machine_line, preliminary=not args.final)
    return 0


if __name__ == "__main__":
    sys.exit(main())
