"""Bulk memory: does the API process's memory grow with the number of debtors submitted, or
only with what one request holds? Submission only, many requests, no worker.

    python ops/bench/bulk_memory.py [--requests 30] [--chunk 10000]

``bulk.py`` compares the peak of a 10,000-debtor run (one request, on a fresh process) with a
100,000-debtor run (ten requests). This one isolates the API: ``--requests`` NDJSON requests of
``--chunk`` debtors each to ``POST /api/v1/searches:batch`` one after the other, no worker
process (the tasks stay queued: the API's side is the same), and the API's resident memory
after each request. It runs twice on fresh processes: with CPython's own small-object
allocator (pymalloc, the default) and with ``PYTHONMALLOC=malloc`` (every object from the C
library's malloc). If the first curve climbs and then levels off while the second is flat from
the first request, the climb is the allocator keeping partly used 1 MiB arenas, not objects
that outlive their request.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from typing import Any

import psutil
from bulk import batch_session, post_batch
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
from fanout import NO_LATENCY

ALLOCATORS = {"pymalloc (default)": {}, "PYTHONMALLOC=malloc": {"PYTHONMALLOC": "malloc"}}


async def submit(service: Service, data_dir: Any, dsn: str, requests: int, chunk: int, offset: int) -> list[int]:
    """The API's RSS before the first request, then after each one."""
    people = debtors(requests * chunk, offset=offset)
    case_id = await seed_case(dsn, people)
    api = psutil.Process(service.pids()["api-0"])
    rss = [api.memory_info().rss]
    async with batch_session(data_dir) as session:
        for i in range(requests):
            await post_batch(session, service.url, case_id, people[i * chunk:(i + 1) * chunk])
            await asyncio.sleep(0.5)  # let the audit chainer and the event listener settle
            rss.append(api.memory_info().rss)
    return rss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--chunk", type=int, default=10_000, help="rows per POST (BATCH_MAX_SUBJECTS)")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--final", action="store_true", help="not preliminary: the machine was quiet")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    install_uvloop()
    started_at, machine_line = now(), machine()
    curves: dict[str, list[int]] = {}
    with workspace("bulk-memory", keep=args.keep) as work:
        pg = Postgres(work)
        dsn = pg.start()
        sims = Simulators.start(work, NO_LATENCY)
        try:
            for i, (name, extra) in enumerate(ALLOCATORS.items()):
                env = service_env(dsn, sims.urls, work / "data", BATCH_MAX_SUBJECTS=str(args.chunk), **extra)
                service = Service(work, env, workers=0)
                try:
                    asyncio.run(service.start())
                    print(f"{name}: {args.requests} requests of {args.chunk} debtors ...", flush=True)
                    curves[name] = asyncio.run(
                        submit(service, work / "data", dsn, args.requests, args.chunk, (i + 1) * 10_000_000))
                finally:
                    service.stop()
                asyncio.run(reset_searches(dsn))
        finally:
            sims.stop()
            pg.stop()

    mib = 1024 * 1024
    n = args.requests
    shown = sorted({1, 2, 3, 5} | set(range(10, n + 1, 5)) | {n})
    shown = [k for k in shown if k <= n]
    rows = [[f"{k:,}", f"{k * args.chunk:,}"] + [f"{c[k] / mib:.0f}" for c in curves.values()] for k in shown]
    out = table(["after request", "debtors submitted"] + [f"API RSS MiB, {name}" for name in curves], rows)
    half = max(1, n // 2)
    lines = []
    for name, c in curves.items():
        first_half = statistics.fmean(c[1:half + 1])
        second_half = statistics.fmean(c[half + 1:]) if n > 1 else first_half
        lines.append(
            f"{name}: {c[0] / mib:.0f} MiB before, {c[1] / mib:.0f} after the first request, "
            f"{c[half] / mib:.0f} after request {half}, {c[n] / mib:.0f} after request {n} "
            f"(request {half} to {n}: {c[n] / c[half] - 1:+.1%}; second half's average against the first's: "
            f"{second_half / first_half - 1:+.1%})")
    summary = "; ".join(lines) + "."
    print(out)
    print(summary)
    if not args.no_write:
        body = "\n".join([
            out, "", summary, "",
            f"Submission only: {n} NDJSON requests of {args.chunk:,} debtors to `POST /api/v1/searches:batch`, one "
            "after the other, one API process, no worker (the tasks stay queued), RSS read 0.5 s after each 202; "
            "each allocator on fresh processes.",
        ])
        write_section("bulk_memory", "Bulk memory by request (API, submission only)", body, started=started_at,
                      machine_line=machine_line, preliminary=not args.final)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
