"""Bulk: a batch search of many debtors, from submission to the last agency task dispatched,
with the service's peak memory; run at two sizes to show whether memory grows with the size.

    python ops/bench/bulk.py [--debtors 100000] [--compare 10000] [--chunk 10000]

The debtors (valid resident IDs, one open case of the judge) are submitted through
``POST /api/v1/searches:batch`` in requests of ``--chunk`` rows (the service's
``BATCH_MAX_SUBJECTS``, 10,000 by default: a 100,000-debtor search is ten requests), NDJSON.
"Dispatched" means claimed by a worker and sent to the agency (no task of the batch still
queued untried). The simulators answer without latency; every process's resident memory is
sampled every 0.2 s. Each size runs on fresh service processes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import psutil
from common import (
    Postgres,
    Service,
    Simulators,
    debtors,
    install_uvloop,
    machine,
    now,
    profiled,
    reset_searches,
    seed_case,
    service_env,
    summarize_profile,
    table,
    token,
    workspace,
    write_section,
)
from fanout import NO_LATENCY


class RssSampler:
    def __init__(self, pids: dict[str, int], interval: float = 0.2) -> None:
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.interval = interval
        self.peak: dict[str, int] = dict.fromkeys(pids, 0)
        self.first: dict[str, int] = {}
        self.last: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            for name, proc in self.procs.items():
                try:
                    rss = proc.memory_info().rss
                except psutil.Error:
                    continue
                self.first.setdefault(name, rss)
                self.last[name] = rss
                self.peak[name] = max(self.peak[name], rss)
            await asyncio.sleep(self.interval)

    def now(self) -> dict[str, int]:
        """Each process's resident memory at this moment."""
        out = {}
        for name, proc in self.procs.items():
            with contextlib.suppress(psutil.Error):
                out[name] = proc.memory_info().rss
        return out

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def batch_session(data_dir: Any) -> aiohttp.ClientSession:
    """A judge's session for NDJSON batch requests."""
    headers = {"Authorization": f"Bearer {token(data_dir)}", "Content-Type": "application/x-ndjson"}
    return aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=600))


async def post_batch(session: aiohttp.ClientSession, base_url: str, case_id: int,
                     people: Sequence[tuple[str, str]]) -> None:
    """One ``POST /api/v1/searches:batch`` of these debtors as NDJSON; raises unless 202."""
    body = "\n".join(
        json.dumps({"case_id": case_id, "subject": {"kind": "person", "id_number": p[0], "name": p[1]}},
                   ensure_ascii=False)
        for p in people
    ).encode()
    async with session.post(f"{base_url}/api/v1/searches:batch", data=body) as resp:
        if resp.status != 202:
            raise RuntimeError(f"batch refused: {resp.status} {(await resp.text())[:500]}")


async def one_size(dsn: str, service: Service, data_dir: Any, n: int, chunk: int, offset: int,
                   profile: Path | None = None) -> dict[str, Any]:
    people = debtors(n, offset=offset)
    case_id = await seed_case(dsn, people)
    sampler = RssSampler(service.pids())
    sampler.start()
    after_request: list[dict[str, int]] = []
    conn = await asyncpg.connect(dsn)
    spy = profiled(service.pids(), profile)
    spy.__enter__()
    try:
        started = time.time()
        async with batch_session(data_dir) as session:
            for start in range(0, n, chunk):
                await post_batch(session, service.url, case_id, people[start:start + chunk])
                after_request.append(sampler.now())
        submitted = time.time()
        total_tasks = await conn.fetchval("SELECT count(*) FROM agency_task")
        dispatched_at = completed_at = None
        # EXISTS, not count(*): counting half a million queued tasks twice a second cost the
        # database more than the service's own claims, and more as the batch grew
        while completed_at is None:
            if dispatched_at is None and not await conn.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM agency_task WHERE status = 'queued' AND attempts = 0)"):
                dispatched_at = time.time()
            if dispatched_at is not None and not await conn.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM search WHERE status = 'running')"):
                completed_at = time.time()
            await asyncio.sleep(0.5)
    finally:
        spy.__exit__(None, None, None)
        await conn.close()
        await sampler.stop()
    return {
        "n": n, "tasks": total_tasks, "submit": submitted - started, "dispatched": (dispatched_at or 0) - started,
        "completed": completed_at - started, "peak": sampler.peak, "first": sampler.first, "last": sampler.last,
        "after_request": after_request,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debtors", type=int, default=100_000)
    parser.add_argument("--compare", type=int, default=10_000, help="a smaller run for the memory comparison (0: none)")
    parser.add_argument("--chunk", type=int, default=10_000, help="rows per POST (BATCH_MAX_SUBJECTS)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--final", action="store_true", help="not preliminary: the machine was quiet")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--profile", type=Path, help="py-spy the service processes of the larger run into this folder")
    parser.add_argument("--pg-statements", action="store_true", help="report pg_stat_statements of each run")
    args = parser.parse_args()
    install_uvloop()
    started_at, machine_line = now(), machine()
    sizes = [s for s in (args.compare, args.debtors) if s]
    results = []
    with workspace("bulk", keep=args.keep) as work:
        pg = Postgres(work)
        dsn = pg.start(statements=args.pg_statements)
        sims = Simulators.start(work, NO_LATENCY)
        try:
            for i, n in enumerate(sizes):
                env = service_env(dsn, sims.urls, work / "data", BATCH_MAX_SUBJECTS=str(max(args.chunk, 1)))
                service = Service(work, env, workers=args.workers)
                try:
                    asyncio.run(service.start())
                    print(f"bulk search of {n} debtors ...", flush=True)
                    profile = args.profile if i == len(sizes) - 1 else None
                    results.append(asyncio.run(one_size(dsn, service, work / "data", n, args.chunk,
                                                        offset=i * 10_000_000, profile=profile)))
                    if args.pg_statements:
                        print(asyncio.run(pg.statements_report()))
                    if profile:
                        for folded in sorted(profile.glob("*.folded")):
                            print(summarize_profile(folded))
                finally:
                    service.stop()
                asyncio.run(reset_searches(dsn))
        finally:
            sims.stop()
            pg.stop()

    mib = 1024 * 1024
    rows = []
    for r in results:
        peaks = ", ".join(f"{k} {v / mib:.0f}" for k, v in sorted(r["peak"].items()))
        rows.append([f"{r['n']:,}", f"{r['tasks']:,}", f"{r['submit']:.1f}", f"{r['dispatched']:.1f}",
                     f"{r['completed']:.1f}", f"{r['n'] / r['dispatched']:.0f}", peaks])
    out = table(["debtors", "agency tasks", "submitted (s)", "last task dispatched (s)", "all completed (s)",
                 "debtors/s dispatched", "peak RSS MiB per process"], rows)
    verdict = ""
    if len(results) == 2:
        small, big = results
        growth = {k: big["peak"][k] / small["peak"][k] - 1 for k in big["peak"] if small["peak"].get(k)}
        flat = all(g <= 0.10 for g in growth.values())
        verdict = (f"Memory with {big['n']:,} debtors vs {small['n']:,}: "
                   + ", ".join(f"{k} {g:+.0%}" for k, g in sorted(growth.items()))
                   + f" (peak RSS). Target flat memory: **{'met' if flat else 'missed'}** (within 10%).")
    big = results[-1]
    names = sorted(big["peak"])
    trace = table(["after request"] + [f"{k} RSS MiB" for k in names],
                  [[str(i + 1)] + [f"{snap.get(k, 0) / mib:.0f}" for k in names]
                   for i, snap in enumerate(big["after_request"])])
    if len(big["after_request"]) >= 3:
        second, last = big["after_request"][1], big["after_request"][-1]
        verdict += (f" From the 2nd to the {len(big['after_request'])}th request of {big['n']:,}: "
                    + ", ".join(f"{k} {last[k] / second[k] - 1:+.0%}" for k in names if second.get(k)) + ".")
    print(out)
    print(verdict)
    print(trace)
    if not args.no_write:
        body = "\n".join([
            out, "", verdict, "", f"Resident memory right after each request of the {big['n']:,}-debtor run "
            "(the worker dispatching meanwhile):", "", trace, "",
            f"Submitted as NDJSON requests of {args.chunk:,} rows to `POST /api/v1/searches:batch` (one after the "
            f"other, each answered 202 once stored); one API and {args.workers} worker process(es); simulators "
            "without latency (banks answer at once, in batches of 200). Times from the first request.",
        ])
        write_section("bulk", "Bulk search", body, started=started_at, machine_line=machine_line,
                      preliminary=not args.final)
    return 0


if __name__ == "__main__":
    sys.exit(main())
