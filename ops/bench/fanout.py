"""Fan-out throughput: durable searches per second through the whole service, side by side in
one run with (a) an in-memory ``asyncio.gather`` fan-out over the same simulators (the ceiling)
and (b) the same fan-out as a Celery chord of five HTTP tasks over Redis.

    python ops/bench/fanout.py [--searches 3000] [--celery-searches 400] [--workers 1]

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
import os
import shutil
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
    debtors,
    free_port,
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
    wait_completed,
    workspace,
    write_section,
)

NO_LATENCY: dict[str, dict[str, Any]] = {a: {} for a in AGENCIES} | {"banks": {"answer_delay_seconds": 0.0}}


# -- (1) durable, through the service ------------------------------------------------------------

async def durable(dsn: str, service: Service, data_dir: Path, people: list[tuple[str, str]], case_id: int,
                  *, concurrency: int, warmup: int, sims: Simulators, profile: Path | None = None,
                  pg_profile: bool = False, postmaster: int | None = None) -> dict[str, Any]:
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
        finished = await wait_completed(dsn, len(submitted), timeout=900)
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

def run_celery(workdir: Path, urls: dict[str, str], n: int, concurrency: int, offset: int,
               sims: Simulators) -> dict[str, Any]:
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        if os.environ.get("REDIS_OPTIONAL") == "1":
            return {"n": 0, "seconds": float("nan"), "skipped": "redis-server not installed"}
        raise SystemExit("redis-server is not installed (Debian: apt-get install redis-server); "
                         "REDIS_OPTIONAL=1 runs the benchmark without the Celery variant")
    port = free_port()
    redis = Proc("redis", [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no"], dict(os.environ), workdir / "redis.log").start()
    env = dict(os.environ, BENCH_REDIS_URL=f"redis://127.0.0.1:{port}/0", BENCH_AGENCY_URLS=json.dumps(urls),
               PYTHONPATH=str(Path(__file__).parent))
    celery_bin = str(Path(sys.executable).with_name("celery"))
    worker = Proc("celery", [celery_bin, "-A", "celery_chord", "worker", "--pool", "prefork", "--concurrency",
                             str(concurrency), "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
                             "--without-heartbeat"], env, workdir / "celery.log")
    worker.popen = subprocess.Popen(worker.argv, env=env, stdout=(workdir / "celery.log").open("ab"),
                                    stderr=subprocess.STDOUT, start_new_session=True, cwd=str(Path(__file__).parent))
    try:
        os.environ["BENCH_REDIS_URL"] = env["BENCH_REDIS_URL"]
        os.environ["BENCH_AGENCY_URLS"] = env["BENCH_AGENCY_URLS"]
        sys.path.insert(0, str(Path(__file__).parent))
        import uuid

        from celery import chord
        from celery_chord import app, ask_agency, merge_dossier

        app.conf.broker_url = env["BENCH_REDIS_URL"]
        app.conf.result_backend = env["BENCH_REDIS_URL"]
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=1.0):
            if time.monotonic() > deadline or worker.popen.poll() is not None:
                raise RuntimeError(f"celery worker did not start:\n{worker.tail()}")

        def one(person: tuple[str, str]) -> Any:
            sid = str(uuid.uuid4())
            return chord(ask_agency.s(sid, a, list(person)) for a in urls)(merge_dossier.s(sid))

        for r in [one(p) for p in debtors(min(40, n), offset=offset + n)]:  # warm up every process
            r.get(timeout=300)
        people = debtors(n, offset=offset)
        import psutil

        celery_pids = [worker.pid, *(c.pid for c in psutil.Process(worker.pid).children(recursive=True))]
        meter = CpuMeter({"celery workers": celery_pids, "redis": [redis.pid],
                          "simulators": [p.pid for p in sims.procs]})
        meter.start()
        started = time.time()
        results = [one(p) for p in people]
        entries = sum(r.get(timeout=1800)["entries"] for r in results)
        seconds = time.time() - started
        meter.stop()
        return {"n": n, "seconds": seconds, "entries": entries, "cpu": meter.summary(),
                "cpu_seconds": sum(meter.used().values())}
    finally:
        worker.stop()
        redis.stop()


# -- the run ---------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--searches", type=int, default=3000)
    parser.add_argument("--celery-searches", type=int, default=400)
    parser.add_argument("--workers", type=int, default=1, help="service worker processes (plus one API)")
    parser.add_argument("--concurrency", type=int, default=64, help="client submissions in flight (durable)")
    parser.add_argument("--gather-concurrency", type=int, default=16, help="searches in flight (in-memory)")
    parser.add_argument("--celery-concurrency", type=int, default=8, help="Celery prefork processes")
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
    with workspace("fanout", keep=args.keep) as work:
        pg = Postgres(work)
        dsn = pg.start(statements=args.pg_statements)
        sims = Simulators.start(work, NO_LATENCY)
        service: Service | None = None
        try:
            people = debtors(args.warmup + args.searches)
            case_id = 0
            env = service_env(dsn, sims.urls, work / "data")
            service = Service(work, env, workers=args.workers)
            asyncio.run(service.start())
            case_id = asyncio.run(seed_case(dsn, people))
            print(f"durable: {args.searches} searches, {args.workers} worker(s) ...", flush=True)
            d = asyncio.run(durable(dsn, service, work / "data", people, case_id, concurrency=args.concurrency,
                                    warmup=args.warmup, sims=sims, profile=args.profile,
                                    pg_profile=args.pg_profile, postmaster=pg.postmaster_pid()))
            if args.pg_statements:
                print(asyncio.run(pg.statements_report()))
            if args.profile:
                for folded in sorted(args.profile.glob("*.folded")):
                    print(summarize_profile(folded))
            service.stop()
            service = None
            print(f"in-memory gather: {args.searches} searches ...", flush=True)
            g = run_gather(sims.urls, args.searches, args.gather_concurrency, offset=10_000_000, sims=sims)
            print(f"celery chord: {args.celery_searches} searches ...", flush=True)
            c = run_celery(work, sims.urls, args.celery_searches, args.celery_concurrency, offset=20_000_000,
                           sims=sims)
        finally:
            if service is not None:
                service.stop()
            sims.stop()
            pg_version = pg.version()
            pg.stop()

    rate = {k: v["n"] / v["seconds"] if v["n"] else float("nan") for k, v in (("d", d), ("g", g), ("c", c))}
    def cpu_ms(v: dict[str, Any]) -> str:
        return f"{1000 * v['cpu_seconds'] / v['n']:.1f}" if v.get("cpu_seconds") and v["n"] else "?"

    rows = [
        [f"durable service (1 API + {args.workers} worker{'s' if args.workers > 1 else ''})", d["n"],
         f"{d['seconds']:.2f}", f"{rate['d']:.0f}", f"{rate['d'] / rate['g']:.0%}", f"{rate['d'] / rate['c']:.1f}x",
         cpu_ms(d)],
        [f"in-memory asyncio.gather ({args.gather_concurrency} in flight)", g["n"], f"{g['seconds']:.2f}",
         f"{rate['g']:.0f}", "100%", f"{rate['g'] / rate['c']:.1f}x", cpu_ms(g)],
        [f"Celery chord + Redis (prefork {args.celery_concurrency})", c["n"], f"{c['seconds']:.2f}",
         f"{rate['c']:.1f}", f"{rate['c'] / rate['g']:.0%}", "1.0x", cpu_ms(c)],
    ]
    headers = ["variant", "searches", "seconds", "searches/s", "of ceiling", "vs Celery",
               "CPU ms per search (every process)"]
    out = table(headers, rows)
    verdict = (f"Targets: durable >= 60% of the ceiling: **{'met' if rate['d'] >= 0.6 * rate['g'] else 'missed'}** "
               f"({rate['d'] / rate['g']:.0%}); durable >= 10x Celery: "
               f"**{'met' if rate['d'] >= 10 * rate['c'] else 'missed'}** ({rate['d'] / rate['c']:.1f}x).")
    print(out)
    print(verdict)
    print(f"durable submissions alone took {d['submit_seconds']:.2f} s")
    for name, v in (("durable", d), ("in-memory", g), ("celery", c)):
        print(f"{name}: {v.get('cpu', '')}")
    if not args.no_write:
        body = "\n".join([
            out, "", verdict, "",
            f"Five simulators, one process each, no added latency (banks answer their tickets at once); "
            f"PostgreSQL {pg_version} embedded, fsync off. Durable: client with {args.concurrency} submissions in "
            f"flight over HTTP, {args.warmup} warm-up searches first; counted when the database marks the search "
            f"completed (submission alone took {d['submit_seconds']:.2f} s). In-memory: the "
            f"connectors over one aiohttp session, {args.gather_concurrency} searches in flight, dossier merged "
            f"in memory, nothing stored. Celery {celery_version()}: chord of five tasks (one per agency, the "
            f"same connector code), callback merges the dossier; Redis broker and result backend, prefork "
            f"{args.celery_concurrency}.",
            "",
            "CPU during each measured phase (every process of the variant, PostgreSQL and simulators included):",
            "",
            f"- durable: {d['cpu']}",
            f"- in-memory: {g.get('cpu', '?')}",
            f"- Celery: {c.get('cpu', '?')}",
        ])
        write_section("fanout", "Fan-out throughput", body, started=started_at, machine_line=machine_line,
                      preliminary=not args.final)
    return 0


def celery_version() -> str:
    try:
        import celery

        return str(celery.__version__)
    except ImportError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
