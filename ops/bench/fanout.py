"""Fan-out throughput: durable searches per second through the whole service, side by side in
one run with (a) an in-memory ``asyncio.gather`` fan-out over the same simulators (the ceiling),
(b) the same fan-out as a Celery chord of five HTTP tasks over Redis and (c) the same fan-out on
procrastinate, a PostgreSQL job queue, in the same PostgreSQL server (procrastinate_fanout.py).

    python ops/bench/fanout.py [--searches 3000] [--celery-searches 400] [--procrastinate-searches 400]
                               [--rounds 3] [--workers 1] [--skip-celery]

The five agency simulators run with no added latency, each in its own process; the bank
simulator answers its tickets at once (one poll). The service runs as real processes (one API,
``--workers`` workers) on an embedded PostgreSQL with fsync off; the agencies' politeness limits
(per-agency in-flight and rate caps) are lifted, every other setting is the default. A search
counts when the database says it is completed (every agency's answer stored, the dossier
readable). Throughput = searches / (last completion - first submission).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from common import (
    AGENCIES,
    Client,
    CpuMeter,
    PgSampler,
    Postgres,
    Proc,
    Service,
    Simulators,
    cpu_speed,
    debtors,
    free_port,
    install_uvloop,
    machine,
    now,
    percentile,
    profiled,
    reset_searches,
    seed_case,
    service_env,
    summarize_profile,
    table,
    token,
    wait_completed,
    workspace,
    write_section,
)

# procrastinate's workers: 2 processes x 16 jobs was the best of 1 x 16, 1 x 32, 2 x 16 and 2 x 32 in
# smoke runs of 300 searches (busy machine: 10, 18, 25 and 20 searches/s); the lead's run confirms
PROCRASTINATE_WORKERS = 2
PROCRASTINATE_CONCURRENCY = 16

NO_LATENCY: dict[str, dict[str, Any]] = {a: {} for a in AGENCIES} | {"banks": {"answer_delay_seconds": 0.0}}


# -- (1) durable, through the service ------------------------------------------------------------

async def durable(dsn: str, service: Service, data_dir: Path, people: list[tuple[str, str]], case_id: int,
                  *, concurrency: int, warmup: int, sims: Simulators, profile: Path | None = None,
                  pg_profile: bool = False, postmaster: int | None = None, already: int = 0) -> dict[str, Any]:
    """``people[warmup:]`` searched through the service; ``already``: searches completed by earlier
    rounds (still in the database)."""
    client = Client(service.url, token(data_dir), case_id)
    if warmup:
        await client.closed_loop(people[:warmup], concurrency)
        await wait_completed(dsn, warmup, timeout=300)
        await reset_searches(dsn)
    measured = people[warmup:]
    meter = CpuMeter({"api": [p.pid for p in service.procs if p.name.startswith("api")],
                      "workers": [p.pid for p in service.procs if p.name.startswith("worker")],
                      "simulators": [p.pid for p in sims.procs]},
                     postgres_port=urlsplit(dsn).port, postmaster=postmaster)
    sampler = PgSampler(dsn) if pg_profile else None
    with profiled(service.pids(), profile):
        if sampler is not None:
            sampler.start()
        meter.start()
        started = time.time()
        submitted = await client.closed_loop(measured, concurrency)
        submit_done = time.time()
        finished = await wait_completed(dsn, already + len(submitted), timeout=900)
        meter.stop()
        if sampler is not None:
            print(await sampler.stop(), flush=True)
    print(meter.summary(), flush=True)
    if client.errors:
        print(f"durable: {len(client.errors)} submissions refused, e.g. {client.errors[:3]}", file=sys.stderr)
    return {"n": len(submitted), "seconds": finished - started, "submit_seconds": submit_done - started,
            "cpu": meter.summary(), "cpu_seconds": sum(meter.used().values())}


# -- (2) the in-memory ceiling, in a process of its own ----------------------------------------------

async def gather_child(urls: dict[str, str], n: int, concurrency: int, offset: int) -> dict[str, Any]:
    import aiohttp
    from agency_calls import connectors, fan_out

    people = debtors(n, offset=offset)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=512)) as session:
        conns = connectors(urls, session)
        sem = asyncio.Semaphore(concurrency)
        entries = 0

        async def one(person: tuple[str, str]) -> None:
            nonlocal entries
            async with sem:
                entries += (await fan_out(conns, person))["entry_count"]

        warm = debtors(min(200, n), offset=offset + n)
        await asyncio.gather(*(one(p) for p in warm))
        print("READY", flush=True)  # the parent starts measuring CPU, then says GO
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        started, cpu = time.time(), time.process_time()
        await asyncio.gather(*(one(p) for p in people))
        seconds, cpu = time.time() - started, time.process_time() - cpu
    return {"n": n, "seconds": seconds, "entries": entries, "own_cpu_seconds": cpu}


def run_gather(urls: dict[str, str], n: int, concurrency: int, offset: int, sims: Simulators) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--gather-child", json.dumps(urls), "--searches", str(n),
            "--gather-concurrency", str(concurrency), "--offset", str(offset)]
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    line = child.stdout.readline()
    if line.strip() != "READY":
        child.kill()
        raise RuntimeError(f"the in-memory fan-out did not start: {line!r}")
    meter = CpuMeter({"simulators": [p.pid for p in sims.procs]})
    meter.start()
    child.stdin.write("GO\n")
    child.stdin.flush()
    out, _ = child.communicate(timeout=1800)
    meter.stop()
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    own = float(result["own_cpu_seconds"])
    result["cpu"] = f"fan-out process {own:.1f} s ({own / result['seconds']:.0%}); " + meter.summary()
    result["cpu_seconds"] = sum(meter.used().values()) + own
    return result


# -- (3) Celery chord over Redis ---------------------------------------------------------------------

class CeleryRig:
    """A Redis server and a Celery worker, started once and used by every round (Celery keeps its
    broker connections in the imported app)."""

    def __init__(self, workdir: Path, urls: dict[str, str], concurrency: int) -> None:
        self.workdir, self.urls, self.concurrency = workdir, urls, concurrency
        self.redis: Proc | None = None
        self.worker: Proc | None = None
        self.skipped = ""

    def start(self) -> None:
        redis_server = shutil.which("redis-server")
        if redis_server is None:
            if os.environ.get("REDIS_OPTIONAL") == "1":
                self.skipped = "redis-server not installed"
                return
            raise SystemExit("redis-server is not installed (Debian: apt-get install redis-server); "
                             "REDIS_OPTIONAL=1 runs the benchmark without the Celery variant")
        port = free_port()
        self.redis = Proc("redis", [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no"], dict(os.environ), self.workdir / "redis.log").start()
        env = dict(os.environ, BENCH_REDIS_URL=f"redis://127.0.0.1:{port}/0", BENCH_AGENCY_URLS=json.dumps(self.urls),
                   PYTHONPATH=str(Path(__file__).parent))
        celery_bin = str(Path(sys.executable).with_name("celery"))
        worker = Proc("celery", [celery_bin, "-A", "celery_chord", "worker", "--pool", "prefork", "--concurrency",
                                 str(self.concurrency), "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
                                 "--without-heartbeat"], env, self.workdir / "celery.log")
        worker.popen = subprocess.Popen(worker.argv, env=env, stdout=(self.workdir / "celery.log").open("ab"),
                                        stderr=subprocess.STDOUT, start_new_session=True,
                                        cwd=str(Path(__file__).parent))
        self.worker = worker
        os.environ["BENCH_REDIS_URL"] = env["BENCH_REDIS_URL"]
        os.environ["BENCH_AGENCY_URLS"] = env["BENCH_AGENCY_URLS"]
        sys.path.insert(0, str(Path(__file__).parent))
        from celery_chord import app

        app.conf.broker_url = env["BENCH_REDIS_URL"]
        app.conf.result_backend = env["BENCH_REDIS_URL"]
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=1.0):
            if time.monotonic() > deadline or worker.popen.poll() is not None:
                raise RuntimeError(f"celery worker did not start:\n{worker.tail()}")

    def run(self, n: int, offset: int, sims: Simulators) -> dict[str, Any]:
        if self.skipped or self.worker is None or self.redis is None:
            return {"n": 0, "seconds": float("nan"), "skipped": self.skipped or "not started"}
        import uuid

        import psutil
        from celery import chord
        from celery_chord import ask_agency, merge_dossier

        def one(person: tuple[str, str]) -> Any:
            sid = str(uuid.uuid4())
            return chord(ask_agency.s(sid, a, list(person)) for a in self.urls)(merge_dossier.s(sid))

        for r in [one(p) for p in debtors(min(40, n), offset=offset + n)]:  # warm up every process
            r.get(timeout=300)
        people = debtors(n, offset=offset)
        celery_pids = [self.worker.pid, *(c.pid for c in psutil.Process(self.worker.pid).children(recursive=True))]
        meter = CpuMeter({"celery workers": celery_pids, "redis": [self.redis.pid],
                          "simulators": [p.pid for p in sims.procs]})
        meter.start()
        started = time.time()
        results = [one(p) for p in people]
        entries = sum(r.get(timeout=1800)["entries"] for r in results)
        seconds = time.time() - started
        meter.stop()
        return {"n": n, "seconds": seconds, "entries": entries, "cpu": meter.summary(),
                "cpu_seconds": sum(meter.used().values())}

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        if self.redis is not None:
            self.redis.stop()


# -- (4) procrastinate: a PostgreSQL job queue, on the same server ---------------------------------

class ProcrastinateRig:
    """procrastinate's worker processes (``procrastinate worker``) on a database of their own in
    the run's embedded PostgreSQL, started once and used by every round (procrastinate_fanout.py
    says how a search is built: five agency jobs, a counter row, a completion job)."""

    def __init__(self, workdir: Path, urls: dict[str, str], admin_dsn: str, *, processes: int,
                 concurrency: int) -> None:
        self.workdir, self.urls, self.processes, self.concurrency = workdir, urls, processes, concurrency
        self.dsn = admin_dsn.rsplit("/", 1)[0] + "/procrastinate"
        self.admin_dsn = admin_dsn
        self.postgres_port = urlsplit(admin_dsn).port
        self.workers: list[Proc] = []
        self.completed = 0  # searches completed by earlier rounds (still in the database)
        self.skipped = ""

    def start(self) -> None:
        try:
            import procrastinate  # noqa: F401
        except ImportError:
            self.skipped = "procrastinate not installed (pip install the bench extra)"
            return
        os.environ["BENCH_PROCRASTINATE_DSN"] = self.dsn
        os.environ["BENCH_AGENCY_URLS"] = json.dumps(self.urls)
        os.environ["BENCH_PROCRASTINATE_POOL"] = str(self.concurrency + 2)
        sys.path.insert(0, str(Path(__file__).parent))
        asyncio.run(self._create())
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent))
        exe = str(Path(sys.executable).with_name("procrastinate"))
        for i in range(self.processes):
            log = self.workdir / f"procrastinate-{i}.log"
            proc = Proc(f"procrastinate-{i}", [exe, "--app", "procrastinate_fanout.app", "--log-level", "warning",
                                               "worker", "--name", f"bench-{i}", "--concurrency",
                                               str(self.concurrency)], env, log)
            proc.popen = subprocess.Popen(proc.argv, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                                          start_new_session=True, cwd=str(Path(__file__).parent))
            self.workers.append(proc)

    async def _create(self) -> None:
        import asyncpg
        from procrastinate_fanout import TABLES, app

        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute("DROP DATABASE IF EXISTS procrastinate WITH (FORCE)")
            await conn.execute("CREATE DATABASE procrastinate")
        finally:
            await conn.close()
        async with app.open_async():
            await app.schema_manager.apply_schema_async()
            async with app.connector.pool.connection() as c:  # type: ignore[attr-defined]
                await c.execute(TABLES)

    async def _searches(self, people: list[tuple[str, str]], in_flight: int) -> None:
        """Submit: the search's counter row, then its five jobs in one batch (procrastinate's
        ``batch_defer_async``: one round trip), ``in_flight`` submissions at a time."""
        import uuid

        from procrastinate_fanout import app, ask_agency

        it = iter(people)

        async def submitter() -> None:
            for person in it:
                sid = str(uuid.uuid4())
                await app.connector.execute_query_async("INSERT INTO bench_search (id) VALUES (%(id)s)", id=sid)
                await ask_agency.batch_defer_async(
                    *({"search_id": sid, "agency": a, "person": list(person)} for a in self.urls))

        await asyncio.gather(*(submitter() for _ in range(in_flight)))

    async def _wait(self, expected: int, timeout: float = 1800.0) -> None:
        from procrastinate_fanout import app

        deadline = time.monotonic() + timeout
        async with app.connector.pool.connection() as c:  # type: ignore[attr-defined]
            while True:
                cur = await c.execute("SELECT count(*) FROM bench_search WHERE completed_at IS NOT NULL")
                row = await cur.fetchone()
                if row is not None and row[0] >= expected:
                    return
                if time.monotonic() > deadline or not all(w.alive() for w in self.workers):
                    raise RuntimeError(f"procrastinate: {row[0] if row else '?'}/{expected} searches completed:\n"
                                       + "\n".join(w.tail() for w in self.workers))
                await asyncio.sleep(0.05)

    def run(self, n: int, offset: int, sims: Simulators) -> dict[str, Any]:
        if self.skipped or not self.workers:
            return {"n": 0, "seconds": float("nan"), "skipped": self.skipped or "not started"}
        from procrastinate_fanout import app

        async def go() -> dict[str, Any]:
            async with app.open_async():
                warm = debtors(min(40, n), offset=offset + n)  # warm up every process
                await self._searches(warm, 8)
                self.completed += len(warm)
                await self._wait(self.completed)
                meter = CpuMeter({"procrastinate workers": [w.pid for w in self.workers],
                                  "simulators": [p.pid for p in sims.procs]},
                                 postgres_port=self.postgres_port, postmaster=self.postmaster)
                meter.start()
                started = time.time()
                await self._searches(debtors(n, offset=offset), 16)
                self.completed += n
                await self._wait(self.completed)
                seconds = time.time() - started
                meter.stop()
                waits = await self._job_waits(started)
            return {"n": n, "seconds": seconds, "cpu": meter.summary() + "; " + waits,
                    "cpu_seconds": sum(meter.used().values())}

        return asyncio.run(go())

    async def _job_waits(self, since: float) -> str:
        """How long procrastinate's jobs waited between deferred and started (its own events
        table): a worker's wake-up, and whether a lost notification left a job to the polling
        interval."""
        from procrastinate_fanout import app

        async with app.connector.pool.connection() as c:  # type: ignore[attr-defined]
            cur = await c.execute(
                "SELECT extract(epoch FROM s.at - d.at)::float8 FROM procrastinate_events d "
                "JOIN procrastinate_events s ON s.job_id = d.job_id AND s.type = 'started' "
                "WHERE d.type = 'deferred' AND d.at >= to_timestamp(%s)", (since,))
            waits = [r[0] for r in await cur.fetchall()]
        if not waits:
            return "jobs' wait deferred -> started: none measured"
        return (f"jobs' wait deferred -> started ({len(waits)} jobs), ms: p50 {percentile(waits, 0.5) * 1000:.1f}, "
                f"p99 {percentile(waits, 0.99) * 1000:.1f}, max {max(waits) * 1000:.1f}")

    postmaster: int | None = None

    def stop(self) -> None:
        for w in self.workers:
            w.stop()


# -- the run ---------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--searches", type=int, default=3000, help="durable and in-memory searches per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three variants (ratios: their median)")
    parser.add_argument("--celery-searches", type=int, default=400)
    parser.add_argument("--workers", type=int, default=1, help="service worker processes (plus one API)")
    parser.add_argument("--concurrency", type=int, default=64, help="client submissions in flight (durable)")
    parser.add_argument("--gather-concurrency", type=int, default=16, help="searches in flight (in-memory)")
    parser.add_argument("--celery-concurrency", type=int, default=8, help="Celery prefork processes")
    parser.add_argument("--skip-celery", action="store_true", help="leave the Celery variant out")
    parser.add_argument("--procrastinate-searches", type=int, default=400,
                        help="procrastinate searches per round (0: leave the variant out)")
    parser.add_argument("--procrastinate-workers", type=int, default=PROCRASTINATE_WORKERS,
                        help="procrastinate worker processes")
    parser.add_argument("--procrastinate-concurrency", type=int, default=PROCRASTINATE_CONCURRENCY,
                        help="jobs in flight per procrastinate worker process")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    parser.add_argument("--final", action="store_true", help="not preliminary: the machine was quiet")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    parser.add_argument("--profile", type=Path,
                        help="py-spy the service processes during the durable run into this folder")
    parser.add_argument("--pg-profile", action="store_true", help="sample pg_stat_activity during the durable run")
    parser.add_argument("--pg-statements", action="store_true", help="report pg_stat_statements after the durable run")
    parser.add_argument("--gather-child", help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    install_uvloop()
    if args.gather_child:
        result = asyncio.run(gather_child(json.loads(args.gather_child), args.searches, args.gather_concurrency,
                                          args.offset))
        print(json.dumps(result))
        return 0

    started_at = now()
    machine_line = machine()
    rounds: list[dict[str, Any]] = []
    with workspace("fanout", keep=args.keep) as work:
        pg = Postgres(work)
        dsn = pg.start(statements=args.pg_statements)
        sims = Simulators.start(work, NO_LATENCY)
        service: Service | None = None
        celery = CeleryRig(work, sims.urls, args.celery_concurrency)
        procr = ProcrastinateRig(work, sims.urls, pg.admin_dsn, processes=args.procrastinate_workers,
                                 concurrency=args.procrastinate_concurrency)
        procr.postmaster = pg.postmaster_pid()
        try:
            people = debtors(args.warmup + args.rounds * args.searches)
            env = service_env(dsn, sims.urls, work / "data")
            case_id = 0
            completed = 0
            for r in range(args.rounds):
                first = r == 0
                service = Service(work, env, workers=args.workers)
                asyncio.run(service.start())
                if first:
                    case_id = asyncio.run(seed_case(dsn, people))
                    mine = people[:args.warmup + args.searches]
                else:
                    start = args.warmup + r * args.searches
                    mine = people[start:start + args.searches]
                speed = {"durable": cpu_speed()}
                print(f"round {r + 1}/{args.rounds} durable: {args.searches} searches, {args.workers} worker(s) ...",
                      flush=True)
                d = asyncio.run(durable(dsn, service, work / "data", mine, case_id, concurrency=args.concurrency,
                                        warmup=args.warmup if first else 0, sims=sims,
                                        profile=args.profile if first else None,
                                        pg_profile=args.pg_profile and first, postmaster=pg.postmaster_pid(),
                                        already=completed))
                completed += d["n"]
                if args.pg_statements and first:
                    print(asyncio.run(pg.statements_report()))
                if args.profile and first:
                    for folded in sorted(args.profile.glob("*.folded")):
                        print(summarize_profile(folded))
                service.stop()
                service = None
                speed["in-memory"] = cpu_speed()
                print(f"round {r + 1} in-memory gather: {args.searches} searches ...", flush=True)
                g = run_gather(sims.urls, args.searches, args.gather_concurrency,
                               offset=10_000_000 + r * args.searches, sims=sims)
                speed["celery"] = cpu_speed()
                if args.skip_celery:
                    c: dict[str, Any] = {"n": 0, "seconds": float("nan"), "skipped": "--skip-celery"}
                else:
                    print(f"round {r + 1} celery chord: {args.celery_searches} searches ...", flush=True)
                    if first:
                        celery.start()
                    c = celery.run(args.celery_searches, offset=20_000_000 + r * args.celery_searches, sims=sims)
                speed["procrastinate"] = cpu_speed()
                if args.procrastinate_searches:
                    print(f"round {r + 1} procrastinate: {args.procrastinate_searches} searches, "
                          f"{args.procrastinate_workers} x {args.procrastinate_concurrency} ...", flush=True)
                    if first:
                        procr.start()
                    p = procr.run(args.procrastinate_searches, offset=30_000_000 + r * args.procrastinate_searches,
                                  sims=sims)
                else:
                    p = {"n": 0, "seconds": float("nan"), "skipped": "--procrastinate-searches 0"}
                rounds.append({"d": d, "g": g, "c": c, "p": p, "speed": speed})
                print(round_line(r, rounds[-1]), flush=True)
        finally:
            if service is not None:
                service.stop()
            celery.stop()
            procr.stop()
            sims.stop()
            pg_version = pg.version()
            pg.stop()

    n = args.rounds
    pv = procrastinate_version()
    out, per_round, verdict = figures(rounds, args)
    print(out)
    print(per_round)
    print(verdict)
    for i, x in enumerate(rounds):
        for name, key in (("durable", "d"), ("in-memory", "g"), ("celery", "c"), ("procrastinate", "p")):
            print(f"round {i + 1} {name}: {x[key].get('cpu', x[key].get('skipped', ''))}")
    if not args.no_write:
        last = rounds[len(rounds) // 2]
        body = "\n".join([
            out, "", verdict, "", per_round, "",
            f"Five simulators, one process each, no added latency (banks answer their tickets at once); "
            f"PostgreSQL {pg_version} embedded, fsync off. {n} rounds, each running the four variants one after "
            f"the other on fresh debtors (this virtual machine's speed drifts by up to 2x between minutes: the "
            f"ratios are taken within a round, then their median). Durable: client with {args.concurrency} "
            f"submissions in flight over HTTP, {args.warmup} warm-up searches before the first round, the service "
            f"restarted for each round; counted when the database marks the search completed. In-memory: the "
            f"connectors over one aiohttp session, {args.gather_concurrency} searches in flight (the best of 4, 16 "
            f"and 64 tried), dossier merged in memory, nothing stored. Celery {celery_version()}: chord of five "
            f"tasks (one per agency, the same connector code), callback merges the dossier; Redis broker and "
            f"result backend, prefork {args.celery_concurrency}. procrastinate {pv}: five jobs per search (one "
            f"per agency, the same connector code) on a database of its own in the same PostgreSQL; each stores "
            f"its answer and bumps the search's counter row in one statement, the job that brings it to five "
            f"defers the completion job, which merges the dossier (decision 1910); {args.procrastinate_workers} "
            f"worker process(es) x {args.procrastinate_concurrency} jobs in flight (2 x 16 was the best of 1 x 16, "
            f"1 x 32, 2 x 16 and 2 x 32 in smoke runs), psycopg's compiled wheel, LISTEN/NOTIFY on, the "
            f"default polling; the client submits 16 searches at a time (the "
            f"counter row, then the five jobs in one batch); counted when the completion job has written the "
            f"dossier's figures.",
            "",
            f"CPU during each measured phase of round {len(rounds) // 2 + 1} (every process of the variant, "
            f"PostgreSQL and simulators included):",
            "",
            f"- durable: {last['d']['cpu']}",
            f"- in-memory: {last['g'].get('cpu', '?')}",
            f"- Celery: {last['c'].get('cpu', last['c'].get('skipped', '?'))}",
            f"- procrastinate: {last['p'].get('cpu', last['p'].get('skipped', '?'))}",
        ])
        write_section("fanout", "Fan-out throughput", body, started=started_at, machine_line=machine_line,
                      preliminary=not args.final)
    return 0


def rate(v: dict[str, Any]) -> float:
    return float(v["n"] / v["seconds"]) if v["n"] else float("nan")


def cpu_ms(v: dict[str, Any]) -> float:
    return 1000 * v["cpu_seconds"] / v["n"] if v.get("cpu_seconds") and v["n"] else float("nan")


def median(values: Any) -> float:
    """The median of the values that were measured (a variant left out gives NaN)."""
    kept = [v for v in values if not math.isnan(v)]
    return statistics.median(kept) if kept else float("nan")


def figures(rounds: list[dict[str, Any]], args: argparse.Namespace) -> tuple[str, str, str]:
    """The summary table, the per-round table and the targets' verdict (ratios: each round's, then
    their median)."""
    def ratio(a: str, b: str) -> float:
        return median(rate(x[a]) / rate(x[b]) for x in rounds)

    def cpu_ratio(a: str, b: str) -> float:
        return median(cpu_ms(x[a]) / cpu_ms(x[b]) for x in rounds)

    def summary(key: str) -> tuple[str, str]:
        rates = [rate(x[key]) for x in rounds if x[key]["n"]]
        if not rates:
            return "not run", "-"
        spread = f" ({min(rates):.0f}-{max(rates):.0f})" if len(rates) > 1 else ""
        return f"{statistics.median(rates):.0f}{spread}", f"{median(cpu_ms(x[key]) for x in rounds):.1f}"

    def x_(v: float) -> str:
        return "-" if math.isnan(v) else f"{v:.1f}x"

    def pct(v: float) -> str:
        return "-" if math.isnan(v) else f"{v:.0%}"

    n = args.rounds
    rows = [
        [f"durable service (1 API + {args.workers} worker{'s' if args.workers > 1 else ''})", f"{n} x {args.searches}",
         summary("d")[0], pct(ratio("d", "g")), x_(ratio("d", "c")), x_(ratio("d", "p")), summary("d")[1]],
        [f"in-memory asyncio.gather ({args.gather_concurrency} in flight)", f"{n} x {args.searches}",
         summary("g")[0], "100%", x_(ratio("g", "c")), x_(ratio("g", "p")), summary("g")[1]],
        [f"Celery chord + Redis (prefork {args.celery_concurrency})", f"{n} x {args.celery_searches}",
         summary("c")[0], pct(ratio("c", "g")), "1.0x" if summary("c")[1] != "-" else "-", x_(ratio("c", "p")),
         summary("c")[1]],
        [f"procrastinate + PostgreSQL ({args.procrastinate_workers} x {args.procrastinate_concurrency})",
         f"{n} x {args.procrastinate_searches}", summary("p")[0], pct(ratio("p", "g")), x_(ratio("p", "c")),
         "1.0x" if summary("p")[1] != "-" else "-", summary("p")[1]],
    ]
    headers = ["variant", "searches", "searches/s, median (range)", "of ceiling", "vs Celery", "vs procrastinate",
               "CPU ms per search (every process)"]
    out = table(headers, rows)

    def r1(v: float) -> str:
        return "-" if math.isnan(v) else f"{v:.1f}"

    per_round = table(
        ["round", "durable/s", "in-memory/s", "Celery/s", "procrastinate/s", "durable of ceiling",
         "durable CPU vs in-memory", "durable vs Celery", "durable vs procrastinate",
         "machine speed before each (ms, lower is faster): durable / in-memory / Celery / procrastinate"],
        [[str(i + 1), f"{rate(x['d']):.0f}", f"{rate(x['g']):.0f}", r1(rate(x["c"])), r1(rate(x["p"])),
          pct(rate(x["d"]) / rate(x["g"])), x_(cpu_ms(x["d"]) / cpu_ms(x["g"])), x_(rate(x["d"]) / rate(x["c"])),
          x_(rate(x["d"]) / rate(x["p"])),
          " / ".join(f"{x['speed'][k]:.0f}" if k in x["speed"] else "-"
                     for k in ("durable", "in-memory", "celery", "procrastinate"))]
         for i, x in enumerate(rounds)])
    of_ceiling, cpu_vs_gather = ratio("d", "g"), cpu_ratio("d", "g")
    vs_procr, vs_celery = ratio("d", "p"), ratio("d", "c")

    def mark(ok: bool, v: float) -> str:
        return "not measured" if math.isnan(v) else ("met" if ok else "missed")

    verdict = (f"Targets (median of the rounds' ratios): durable CPU per search <= 1.5x the in-memory fan-out's: "
               f"**{mark(cpu_vs_gather <= 1.5, cpu_vs_gather)}** ({x_(cpu_vs_gather)}); durable >= 70% of the "
               f"ceiling: **{mark(of_ceiling >= 0.7, of_ceiling)}** ({pct(of_ceiling)}); durable >= 3x "
               f"procrastinate: **{mark(vs_procr >= 3, vs_procr)}** ({x_(vs_procr)}). Celery (no longer a target): "
               f"durable {x_(vs_celery)} Celery, the in-memory ceiling {x_(ratio('g', 'c'))}.")
    return out, per_round, verdict


def round_line(i: int, x: dict[str, Any]) -> str:
    return (f"round {i + 1}: durable {rate(x['d']):.0f}/s, in-memory {rate(x['g']):.0f}/s, Celery "
            f"{rate(x['c']):.1f}/s, procrastinate {rate(x['p']):.1f}/s; durable {rate(x['d']) / rate(x['g']):.0%} of "
            f"the ceiling, {rate(x['d']) / rate(x['c']):.1f}x Celery, {rate(x['d']) / rate(x['p']):.1f}x "
            f"procrastinate; speed " + ", ".join(f"{k} {v:.0f} ms" for k, v in x["speed"].items()))


def procrastinate_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("procrastinate")
    except PackageNotFoundError:
        return "?"


def celery_version() -> str:
    try:
        import celery

        return str(celery.__version__)
    except ImportError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
