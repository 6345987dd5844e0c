"""Fan-out throughput: durable searches per second through the whole service, side by side in
one run with (a) an in-memory ``asyncio.gather`` fan-out over the same simulators (the ceiling)
and (b) the same fan-out as a Celery chord of five HTTP tasks over Redis.

    python ops/bench/fanout.py [--searches 3000] [--celery-searches 400] [--rounds 3] [--workers 1]

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
                print(f"round {r + 1} celery chord: {args.celery_searches} searches ...", flush=True)
                if first:
                    celery.start()
                c = celery.run(args.celery_searches, offset=20_000_000 + r * args.celery_searches, sims=sims)
                rounds.append({"d": d, "g": g, "c": c, "speed": speed})
                print(round_line(r, rounds[-1]), flush=True)
        finally:
            if service is not None:
                service.stop()
            celery.stop()
            sims.stop()
            pg_version = pg.version()
            pg.stop()

    def rate(v: dict[str, Any]) -> float:
        return float(v["n"] / v["seconds"]) if v["n"] else float("nan")

    def cpu_ms(v: dict[str, Any]) -> float:
        return 1000 * v["cpu_seconds"] / v["n"] if v.get("cpu_seconds") and v["n"] else float("nan")

    of_ceiling = statistics.median(rate(x["d"]) / rate(x["g"]) for x in rounds)
    vs_celery = statistics.median(rate(x["d"]) / rate(x["c"]) for x in rounds)
    ceiling_vs_celery = statistics.median(rate(x["g"]) / rate(x["c"]) for x in rounds)

    def summary(key: str) -> tuple[str, str]:
        rates = [rate(x[key]) for x in rounds]
        spread = f" ({min(rates):.0f}-{max(rates):.0f})" if len(rounds) > 1 else ""
        return f"{statistics.median(rates):.0f}{spread}", f"{statistics.median(cpu_ms(x[key]) for x in rounds):.1f}"

    n = args.rounds
    rows = [
        [f"durable service (1 API + {args.workers} worker{'s' if args.workers > 1 else ''})", f"{n} x {args.searches}",
         *summary("d")[:1], f"{of_ceiling:.0%}", f"{vs_celery:.1f}x", summary("d")[1]],
        [f"in-memory asyncio.gather ({args.gather_concurrency} in flight)", f"{n} x {args.searches}",
         *summary("g")[:1], "100%", f"{ceiling_vs_celery:.1f}x", summary("g")[1]],
        [f"Celery chord + Redis (prefork {args.celery_concurrency})", f"{n} x {args.celery_searches}",
         *summary("c")[:1], f"{1 / ceiling_vs_celery:.0%}", "1.0x", summary("c")[1]],
    ]
    headers = ["variant", "searches", "searches/s, median (range)", "of ceiling", "vs Celery",
               "CPU ms per search (every process)"]
    out = table(headers, rows)
    per_round = table(
        ["round", "durable/s", "in-memory/s", "Celery/s", "durable of ceiling", "durable vs Celery",
         "machine speed before each (ms, lower is faster): durable / in-memory / Celery"],
        [[str(i + 1), f"{rate(x['d']):.0f}", f"{rate(x['g']):.0f}", f"{rate(x['c']):.1f}",
          f"{rate(x['d']) / rate(x['g']):.0%}", f"{rate(x['d']) / rate(x['c']):.1f}x",
          " / ".join(f"{x['speed'][k]:.0f}" for k in ("durable", "in-memory", "celery"))]
         for i, x in enumerate(rounds)])
    verdict = (f"Targets (median of the rounds' ratios): durable >= 60% of the ceiling: "
               f"**{'met' if of_ceiling >= 0.6 else 'missed'}** ({of_ceiling:.0%}); durable >= 10x Celery: "
               f"**{'met' if vs_celery >= 10 else 'missed'}** ({vs_celery:.1f}x; the in-memory ceiling itself is "
               f"{ceiling_vs_celery:.1f}x Celery).")
    print(out)
    print(per_round)
    print(verdict)
    for i, x in enumerate(rounds):
        for name, key in (("durable", "d"), ("in-memory", "g"), ("celery", "c")):
            print(f"round {i + 1} {name}: {x[key].get('cpu', '')}")
    if not args.no_write:
        last = rounds[len(rounds) // 2]
        body = "\n".join([
            out, "", verdict, "", per_round, "",
            f"Five simulators, one process each, no added latency (banks answer their tickets at once); "
            f"PostgreSQL {pg_version} embedded, fsync off. {n} rounds, each running the three variants one after "
            f"the other on fresh debtors (this virtual machine's speed drifts by up to 2x between minutes: the "
            f"ratios are taken within a round, then their median). Durable: client with {args.concurrency} "
            f"submissions in flight over HTTP, {args.warmup} warm-up searches before the first round, the service "
            f"restarted for each round; counted when the database marks the search completed. In-memory: the "
            f"connectors over one aiohttp session, {args.gather_concurrency} searches in flight (the best of 4, 16 "
            f"and 64 tried), dossier merged in memory, nothing stored. Celery {celery_version()}: chord of five "
            f"tasks (one per agency, the same connector code), callback merges the dossier; Redis broker and "
            f"result backend, prefork {args.celery_concurrency}.",
            "",
            f"CPU during each measured phase of round {len(rounds) // 2 + 1} (every process of the variant, "
            f"PostgreSQL and simulators included):",
            "",
            f"- durable: {last['d']['cpu']}",
            f"- in-memory: {last['g'].get('cpu', '?')}",
            f"- Celery: {last['c'].get('cpu', '?')}",
        ])
        write_section("fanout", "Fan-out throughput", body, started=started_at, machine_line=machine_line,
                      preliminary=not args.final)
    return 0


def round_line(i: int, x: dict[str, Any]) -> str:
    def r(v: dict[str, Any]) -> float:
        return float(v["n"] / v["seconds"]) if v["n"] else float("nan")
    return (f"round {i + 1}: durable {r(x['d']):.0f}/s, in-memory {r(x['g']):.0f}/s, Celery {r(x['c']):.1f}/s; "
            f"durable {r(x['d']) / r(x['g']):.0%} of the ceiling, {r(x['d']) / r(x['c']):.1f}x Celery; speed "
            + ", ".join(f"{k} {v:.0f} ms" for k, v in x["speed"].items()))


def celery_version() -> str:
    try:
        import celery

        return str(celery.__version__)
    except ImportError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
