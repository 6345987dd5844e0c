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

The overhead is then split by the four process wake-ups on a search's path (issue 19): the API
woken by the POST (sent -> the search's transaction committed), a worker woken by NOTIFY (->
the first agency call arrives), the worker woken by the last answer (answer sent -> stored), and
the completion (-> the search marked completed); with the calls' spread (agencies not called at
once) the parts add up to the overhead. Times are those the service already keeps, read as
commit times (PostgreSQL's ``track_commit_timestamp``, switched on for the run: no column, no
statement added on the hot path), and the simulators' receipt and answer times. Aside: the
service's and PostgreSQL's run-queue wait per search (``/proc/<pid>/task/*/schedstat``: runnable,
waiting for a core), and our own CPU per search (API, workers, PostgreSQL) with the database's
transactions and rows written per search (statements too with ``--pg-statements``).

The bank simulator is left out: banks answer in hours to days through tickets and batches (a
batch waits up to 2 s to fill by design), so a millisecond overhead figure means nothing for
them; the four synchronous agencies are measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from common import (
    SYNC_AGENCIES,
    Client,
    CpuMeter,
    Postgres,
    RunQueueMeter,
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
    queue = RunQueueMeter({"api": [service.procs[0].pid], "workers": [p.pid for p in service.procs[1:]]},
                          postmaster=postmaster)
    db_before = await db_counters(dsn)
    own = OwnCpu(meter, dsn)
    meter.start()
    queue.start()
    own.start()
    submitted = await client.open_loop(load_people[:n], rate)
    await wait_completed(dsn, len(submitted), timeout=900)
    await own.stop()
    waits = queue.stop()
    meter.stop()
    db_after = await db_counters(dsn)
    statements = None
    if pg is not None:
        statements = await statement_calls(dsn)
        print(await pg.statements_report(top=20), flush=True)
    times = await search_times(dsn)
    agency = await sims.timings()
    commits = await commit_times(dsn)
    overheads, totals, slowest, accept, before, after = [], [], [], [], [], []
    wake: dict[str, list[float]] = {k: [] for k in WAKE_UPS}
    missing = 0
    for s in submitted:
        split = wake_ups(s, commits.get(s.search_id), agency.get(s.search_id, {}), len(sims.urls))
        for k, v in (split or {}).items():
            wake[k].extend(v)
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
            "after": after, "cpu": meter.summary(), "speed": speed, "wake": wake, "run_queue": waits,
            "own": own.figures(), "db": {k: db_after[k] - db_before[k] for k in db_after},
            "statements": statements, "commit_timestamps": any(c["completed_commit"] for c in commits.values())}


# -- the split by wake-up ------------------------------------------------------------------------

WAKE_UPS = {
    "api": "1. API woken: POST sent -> the submission's statement begins (its transaction's start)",
    "accept": "   (POST sent -> 202 received, the client's view)",
    "claim": "2. the statement, its commit, the worker woken by NOTIFY -> first agency call arrives",
    "spread": "   calls' spread: last answer - first call's arrival - slowest answer (calls not sent at once)",
    "stored_last": "3. worker woken by the last answer: answer sent -> stored (committed)",
    "stored": "   the same for every agency call",
    "complete": "4. last answer stored -> search completed (committed)",
    "sum": "sum of 1, 2, spread, 3, 4 (= completion commit - POST sent - slowest answer)",
}


def wake_ups(s: Any, c: dict[str, Any] | None, answers: dict[str, list[float]], agencies: int
             ) -> dict[str, list[float]] | None:
    """Seconds of each wake-up on one search's path, from times the service already keeps (the
    search's creation and completion commits, each answer's commit: ``track_commit_timestamp``;
    without it the transactions' start times, ``created_at``, ``received_at``, ``completed_at``)
    and the simulators' receipt and answer times. The claim itself leaves no time behind (the
    task row's ``updated_at`` is overwritten when the answer is stored), so wake-up 2 runs to the
    first call's arrival at an agency. The service completes a search in the transaction that
    stores its last answer, so wake-up 4 is nil by design; it stays in the table to show it."""
    if c is None or c["completed"] is None or len(answers) < agencies:
        return None
    created = (c["created_commit"] or c["created"]).timestamp()
    completed = (c["completed_commit"] or c["completed"]).timestamp()
    stored = {a: (t["commit"] or t["received"]).timestamp() for a, t in c["answers"].items()}
    if len(stored) < agencies or not all(a in stored for a in answers):
        return None
    last = max(answers, key=lambda a: answers[a][2])
    first_arrival = min(t[1] for t in answers.values())
    slowest = max(t[0] for t in answers.values())
    parts = {
        "api": created - s.sent_at,
        "claim": first_arrival - created,
        "spread": answers[last][2] - first_arrival - slowest,
        "stored_last": stored[last] - answers[last][2],
        "complete": completed - stored[last],
    }
    return {k: [v] for k, v in parts.items()} | {
        "accept": [s.accepted_at - s.sent_at],
        "stored": [stored[a] - answers[a][2] for a in answers],
        "sum": [sum(parts.values())],
    }


async def commit_times(dsn: str) -> dict[str, dict[str, Any]]:
    """search id -> its creation time (its transaction's start), its completion's (commit when
    ``track_commit_timestamp`` is on, else the transaction's start) and each agency's answer's."""
    conn = await asyncpg.connect(dsn)
    try:
        on = await conn.fetchval("SELECT current_setting('track_commit_timestamp') = 'on'")
        ts = "pg_xact_commit_timestamp({}.xmin)" if on else "NULL::timestamptz"
        rows = await conn.fetch(
            # The submission's commit left no row unchanged behind it: its tasks, audit record and the
            # search itself are updated later, and its task events are derived, not stored (decision
            # 1930). Its transaction's start (created_at) stands for it: one statement, then the commit.
            f"SELECT s.id::text AS id, s.created_at, s.completed_at, {ts.format('s')} AS completed_commit, "
            "NULL::timestamptz AS created_commit FROM search s")
        out = {r["id"]: {"created": r["created_at"], "completed": r["completed_at"],
                         "completed_commit": r["completed_commit"], "created_commit": r["created_commit"],
                         "answers": {}} for r in rows}
        for r in await conn.fetch(f"SELECT search_id::text AS id, agency, received_at, {ts.format('a')} AS commit "
                                  "FROM agency_answer a"):
            if r["id"] in out:
                out[r["id"]]["answers"][r["agency"]] = {"received": r["received_at"], "commit": r["commit"]}
        return out
    finally:
        await conn.close()


async def db_counters(dsn: str) -> dict[str, int]:
    """The database's transactions and rows written so far (pg_stat_database; the statistics are
    flushed by each backend at the end of its transactions, at most every second)."""
    conn = await asyncpg.connect(dsn)
    try:
        await asyncio.sleep(1.1)  # let the backends' pending statistics be flushed
        row = await conn.fetchrow(
            "SELECT xact_commit + xact_rollback AS transactions, tup_inserted + tup_updated + tup_deleted AS rows "
            "FROM pg_stat_database WHERE datname = current_database()")
        return {"transactions": int(row["transactions"]), "rows written": int(row["rows"])}
    finally:
        await conn.close()


async def statement_calls(dsn: str) -> int:
    """Statements the database ran since pg_stat_statements was last reset (top level only)."""
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE toplevel"))
    finally:
        await conn.close()


class OwnCpu:
    """Our own CPU (API, workers, and PostgreSQL serving them, its server processes and
    autovacuum; not the load client, not the simulators) per completed search, in one-second
    windows: its distribution over the windows (p50, p90) and the whole phase's mean."""

    OURS = ("api", "workers", "postgres:api", "postgres:workers", "postgres:server", "postgres:autovacuum")

    def __init__(self, meter: CpuMeter, dsn: str, window: float = 1.0) -> None:
        self.meter, self.dsn, self.window = meter, dsn, window
        self.samples: list[tuple[float, int]] = []
        self._task: asyncio.Task[None] | None = None

    def _own(self) -> float:
        sample = self.meter._sample()
        return sum(v for k, v in sample.items() if k in self.OURS)

    async def _run(self) -> None:
        conn = await asyncpg.connect(self.dsn)
        try:
            while True:
                done = await conn.fetchval("SELECT count(*) FROM search WHERE status = 'completed'")
                self.samples.append((self._own(), int(done)))
                await asyncio.sleep(self.window)
        finally:
            await conn.close()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        conn = await asyncpg.connect(self.dsn)
        try:
            done = await conn.fetchval("SELECT count(*) FROM search WHERE status = 'completed'")
        finally:
            await conn.close()
        self.samples.append((self._own(), int(done)))

    def figures(self) -> dict[str, float]:
        per = [(c2 - c1) / (n2 - n1) for (c1, n1), (c2, n2) in zip(self.samples, self.samples[1:], strict=False)
               if n2 - n1 >= 5]
        (c0, n0), (c9, n9) = self.samples[0], self.samples[-1]
        return {"p50": percentile(per, 0.5), "p90": percentile(per, 0.9),
                "mean": (c9 - c0) / (n9 - n0) if n9 > n0 else float("nan"), "windows": len(per)}


def wake_up_report(r: dict[str, Any]) -> tuple[str, str]:
    """The overhead split by the four process wake-ups on a search's path, the run-queue wait
    aside, and our own CPU and database work per search."""
    ms = 1000.0
    rows = [[label, str(len(r["wake"][k])), *(f"{percentile(r['wake'][k], q) * ms:.1f}" for q in (0.5, 0.9, 0.99))]
            for k, label in WAKE_UPS.items() if r["wake"][k]]
    split = table(["the overhead by wake-up, ms (each row's own percentiles)", "n", "p50", "p90", "p99"], rows)
    n = max(r["measured"], 1)
    queue = r["run_queue"]
    waits = ", ".join(f"{k} {v * ms / n:.2f}" for k, v in sorted(queue.items()))
    own, db = r["own"], r["db"]
    statements = f", {r['statements'] / r['n']:.1f} statements" if r.get("statements") else ""
    clock = ("commit times (track_commit_timestamp)" if r["commit_timestamps"]
             else "transaction start times (no commit timestamps)")
    notes = (f"Times: the client's, the simulators' (receipt, answer) and the database's {clock}; one clock "
             f"(one machine). Run-queue wait aside (runnable, waiting for a core; /proc schedstat of every "
             f"thread), ms per search: {waits}; together {sum(queue.values()) * ms / n:.2f}.")
    own_line = (f"Our own CPU per search (API, workers, PostgreSQL serving them and its own processes; not the "
                f"client, not the simulators): p50 {own['p50'] * ms:.2f} ms, p90 {own['p90'] * ms:.2f} ms over "
                f"{own['windows']} one-second windows, mean {own['mean'] * ms:.2f} ms (target p50 <= 5 ms "
                f"**{'met' if own['p50'] * ms <= 5 else 'missed'}**); database work per search: "
                f"{db['transactions'] / r['n']:.1f} transactions{statements}, {db['rows written'] / r['n']:.1f} rows "
                f"written (pg_stat_database, the benchmark's own few queries included). {notes}")
    return split, own_line


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
        dsn = pg.start(statements=args.pg_statements, commit_timestamps=True)
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
    split, own_line = wake_up_report(r)
    print(out)
    print(verdict)
    print(split)
    print(own_line)
    print(r["cpu"])
    topology = ("one process serving the API and dispatching (`serve --role all`)" if args.combined
                else f"one API and {args.workers} worker process(es)")
    if not args.no_write:
        body = "\n".join([
            out, "", verdict, "", split, "", own_line, "",
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
