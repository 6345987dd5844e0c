"""Python function calls the dispatcher spends on one agency call, its own work only (issue 19):
the connector answers at once from memory and the outcome is buffered, not written, so what is
counted is the retry wrapper, the breaker and limiter, the metrics and the outcome's bookkeeping.
A deterministic count (cProfile's), whatever the machine's speed.

    PYTHONPATH=$PWD python ops/bench/dispatcher_calls.py [--calls 1000]

``--worker N``: the whole worker per search instead (issue 19, p-worker). An embedded PostgreSQL,
the worker as ``enforcement serve --role worker`` builds it (listener, coordinator, dispatcher,
task store, flusher, gauges), its connectors answering at once in memory with what the agency
simulators answer (each real connector called once against its simulator first; the banks answer
their batch with tickets, then each poll with the records, as the simulator does). N searches of
five agencies are submitted through ``submit_search`` from a thread of their own (not profiled);
what the worker's event loop runs until every search is completed is counted, by category, with
the statements it sends.

    PYTHONPATH=$PWD python ops/bench/dispatcher_calls.py --worker 500 [--top 40]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from connectors.sdk.manifest import Manifest
from connectors.sdk.protocol import ConnectorSpec
from connectors.sdk.types import AgencyRequest, AgencyResult
from enforcement.kernel.logging import configure_logging
from enforcement.searches.dispatcher import Dispatcher, DispatcherConfig, request_from_task
from enforcement.searches.policy import CircuitBreaker, RateLimiter
from enforcement.searches.runtime import AgencyRuntime
from enforcement.searches.store.tasks import ClaimedTask

AGENCY = "vehicles"
WARM = 50


class Instant:
    """A connector that answers every search at once (no records: the adapters' work is theirs)."""

    def __init__(self) -> None:
        self.result = AgencyResult(records=(), raw={"ok": True}, answered_at=datetime.now(UTC),
                                   agency_reference="REF")

    async def search(self, request: AgencyRequest) -> AgencyResult:
        return self.result


def task(i: int) -> ClaimedTask:
    return ClaimedTask(
        id=i, search_id=UUID(int=i), agency=AGENCY, idempotency_key=f"{i}:{AGENCY}", ticket=None, attempts=1,
        deadline_at=datetime.now(UTC) + timedelta(hours=1), subject_kind="person",
        subject_id_number="110101199003074514", subject_name="张三", purpose="财产调查", request_no=f"R{i}",
        case_number="（2025）辽0102执1号", court_code="辽0102", judge_name="王法官", judge_officer_id="2101020001",
        document_number="（2025）辽0102执协查00001号", date_from=None, date_to=None, last_error=None)


async def run(n: int) -> tuple[int, pstats.Stats]:
    m = Manifest.load(f"connectors.{AGENCY}")
    m = replace(m, policy=replace(m.policy, rate_per_second=1e9))
    connector = Instant()
    rt = AgencyRuntime(spec=ConnectorSpec(m, lambda _c, _s: connector),  # type: ignore[arg-type,return-value]
                       manifest=m, connector=connector,  # type: ignore[arg-type]
                       breaker=CircuitBreaker(AGENCY, m.policy.breaker), limiter=RateLimiter(1e9))
    d = Dispatcher(None, None, {AGENCY: rt}, DispatcherConfig(worker_id="w"))  # type: ignore[arg-type]
    tasks = [task(i) for i in range(n + 50)]
    for t in tasks[:50]:  # warm: first-call caches
        await d._run_one(rt, t)
    profile = cProfile.Profile()
    profile.enable()
    for t in tasks[50:]:
        await d._run_one(rt, t)
    profile.disable()
    assert len(d._successes) == n + 50
    stats = pstats.Stats(profile)
    return stats.total_calls, stats  # type: ignore[attr-defined,no-any-return]


# -- the whole worker (--worker) ---------------------------------------------------------------

# Where a call is charged: the first of these found on the call's stack of callers (see api_calls).
WORKER_CATEGORIES = (
    ("metrics (prometheus_client)", ("/prometheus_client/",)),
    ("logging (structlog)", ("/structlog/", "kernel/logging.py")),
    ("connector (in-memory answer: not the worker's)", ("dispatcher_calls.py:search", "dispatcher_calls.py:poll",
                                                        "dispatcher_calls.py:search_batch")),
    ("flush: arrays, encode, round trip", ("store/tasks.py:flush", "store/tasks.py:_flush_once",
                                           "store/tasks.py:_with_created_at", "store/tasks.py:one_outcome",
                                           "store/tasks.py:_observe_completed")),
    ("claim: statement, rows to ClaimedTask", ("store/tasks.py:claim", "store/tasks.py:from_row",
                                                "store/tasks.py:oldest_due")),
    ("flusher: buffer, after-write bookkeeping", ("dispatcher.py:_write", "dispatcher.py:_flush_loop",
                                                  "dispatcher.py:_take", "dispatcher.py:_forget",
                                                  "dispatcher.py:_flush_now")),
    ("outcome bookkeeping (_record_outcome, success_of)", ("dispatcher.py:_record_outcome", "dispatcher.py:success_of",
                                                           "dispatcher.py:_succeed", "dispatcher.py:_settle",
                                                           "dispatcher.py:_failure", "dispatcher.py:expired")),
    ("call: breaker, limiter, metrics, log (_attempt)", ("dispatcher.py:_call", "dispatcher.py:_attempt",
                                                         "dispatcher.py:_retried", "searches/policy.py")),
    ("dispatch: request, task per call (_run_one, _spawn)", ("dispatcher.py:_run_one", "dispatcher.py:_run_batch",
                                                            "dispatcher.py:request_from_task",
                                                            "dispatcher.py:_spawn", "dispatcher.py:wrapped")),
    ("claim round and wake-ups (_claim_round, wake, run)", ("dispatcher.py:_claim", "dispatcher.py:_hold",
                                                            "dispatcher.py:wake", "dispatcher.py:_ours",
                                                            "dispatcher.py:_count_subjects", "dispatcher.py:run",
                                                            "dispatcher.py:_idle_timeout", "kernel/notify.py",
                                                            "kernel/listener.py")),
    ("coordination, gauges, expiry sweep (per second)", ("searches/coordination.py", "searches/gauges.py",
                                                         "kernel/gauges.py", "dispatcher.py:_expiry_loop")),
)


class Answers:
    """A connector answering at once, in memory, what its simulator answered (the adapters'
    per-field work is the connector's, measured elsewhere: ops/bench/agency_calls.py)."""

    def __init__(self, result: AgencyResult, ticketed: bool) -> None:
        self.result = result
        self.ticketed = ticketed  # the banks: a batch answers tickets, each poll the records

    async def search(self, request: AgencyRequest) -> AgencyResult:
        return self.result

    async def search_batch(self, requests: Any) -> list[Any]:
        from connectors.sdk.types import Pending

        if self.ticketed:
            return [Pending(f"T-{r.idempotency_key}", poll_after_seconds=0.0) for r in requests]
        return [self.result for _ in requests]

    async def poll(self, ticket: str) -> AgencyResult:
        return self.result


async def simulator_answers(agencies: Any) -> dict[str, AgencyResult]:
    """Each real connector called once against its own simulator (in-process): what it answers
    for one debtor with assets."""
    import aiohttp
    from aiohttp import web

    from connectors.sdk.registry import Registry
    from connectors.sdk.types import ConnectorConfig, Pending
    from enforcement.domain.subjects import Subject
    from ops.bench.common import debtors, free_port

    registry = Registry.discover().only(agencies)
    out: dict[str, AgencyResult] = {}
    async with aiohttp.ClientSession() as session:
        for name in agencies:
            spec = registry[name]
            runner = web.AppRunner(spec.make_simulator())
            await runner.setup()
            port = free_port()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            try:
                key = "sim-key"  # the simulators' own
                connector = spec.factory(ConnectorConfig(base_url=f"http://127.0.0.1:{port}", secret=key,
                                                         manifest=spec.manifest), session)
                for i, (id_number, person) in enumerate(debtors(40)):
                    t = task(i)
                    request = replace(request_from_task(t), subject=Subject("person", id_number, person))
                    answer: Any = (await connector.search_batch([request]))[0] if spec.manifest.batch \
                        else await connector.search(request)
                    for _ in range(100):
                        if not isinstance(answer, Pending):
                            break
                        await asyncio.sleep(0.05)
                        answer = await connector.poll(answer.ticket)
                    if isinstance(answer, AgencyResult) and answer.records:
                        out[name] = answer
                        break
                else:
                    raise RuntimeError(f"{name}: no answer with records from its simulator")
            finally:
                await runner.cleanup()
    return out


async def run_worker(n: int, data_dir: Path) -> tuple[pstats.Stats, Any]:
    import threading

    import asyncpg

    from connectors.sdk.registry import Registry
    from enforcement.api.protocol import AppRunner
    from enforcement.app import create_app
    from enforcement.kernel.embedded import EmbeddedPostgres
    from enforcement.kernel.pool import create_pool
    from enforcement.kernel.settings import Settings
    from enforcement.searches.service import plan_agencies
    from enforcement.searches.store.searches import NewSearch, submit_search
    from ops.bench.api_calls import RoundTrips
    from ops.bench.common import AGENCIES, debtors, seed_case, service_env

    class WorkerTrips(RoundTrips):
        """Only the worker's statements: the submitting thread's are not counted."""

        main = threading.get_ident()

        @property
        def on(self) -> bool:
            return self._on and threading.get_ident() == self.main

        @on.setter
        def on(self, value: bool) -> None:
            self._on = value

    answers = await simulator_answers(AGENCIES)
    base = Registry.discover().only(AGENCIES)

    def answering(result: AgencyResult, ticketed: bool) -> Any:
        return lambda _config, _session: Answers(result, ticketed)

    registry = Registry([ConnectorSpec(base[a].manifest, answering(answers[a], base[a].manifest.batch is not None))
                         for a in AGENCIES])
    pg = EmbeddedPostgres(data_dir / "pg", fast=True)
    dsn = pg.start()
    try:
        env = service_env(dsn, dict.fromkeys(AGENCIES, "http://127.0.0.1:9"), data_dir,
                          ENFORCEMENT_ROLE="worker", WORKER_ID="bench-worker-1", METRICS_REFRESH_SECONDS="3600")
        settings = Settings.from_env(env)
        people = debtors(WARM + n)
        migrate_app = create_app(replace(settings, role="api"), registry=registry)  # migrations, as the API does
        r0 = AppRunner(migrate_app, access_log=None, handle_signals=False)
        await r0.setup()
        await r0.cleanup()
        case_id = await seed_case(dsn, people)
        watcher = await asyncpg.connect(dsn)
        case = await watcher.fetchrow("SELECT case_number, court_code FROM enforcement_case WHERE id = $1", case_id)
        assert case is not None
        plans = plan_agencies({a: base[a].manifest for a in AGENCIES}, "person")

        def submit(batch: list[tuple[str, str]]) -> None:
            async def go() -> None:
                pool = await create_pool(dsn, min_size=1, max_size=2)
                try:
                    # all in one transaction: the worker finds them together at commit, a backlog
                    # it works through at full load, in claims and flushes of the sizes its
                    # configuration gives (not of how the submissions happened to interleave)
                    async with pool.acquire() as conn, conn.transaction():
                        for id_number, name in batch:
                          sid = uuid4()
                          await submit_search(conn, NewSearch(
                              id=sid, case_id=case_id, subject_kind="person", subject_id_number=id_number,
                              subject_name=name, subject_key=f"person:{id_number}", purpose="财产调查",
                              requested_by="zhangwei", force_fresh=True, request_no=sid.hex[:20].upper(),
                              case_number=case["case_number"], court_code=case["court_code"], judge_name="张伟",
                              judge_officer_id="2101020001", document_number="（2026）辽0102执协查00001号",
                              agencies=plans))
                finally:
                    await pool.close()
            asyncio.run(go())

        async def completed(expected: int) -> None:
            for _ in range(6000):
                done = await watcher.fetchval("SELECT count(*) FROM search WHERE status = 'completed'")
                if done >= expected:
                    return
                await asyncio.sleep(0.02)
            raise RuntimeError("the searches did not complete")

        app = create_app(settings, registry=registry, migrate=False)
        runner = AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await asyncio.to_thread(submit, people[:WARM])
            await completed(WARM)
            trips = WorkerTrips()
            trips.excluded = watcher
            profile = cProfile.Profile()
            trips.on = True
            profile.enable()
            await asyncio.to_thread(submit, people[WARM:])
            await completed(WARM + n)
            profile.disable()
            trips.on = False
            bad = await watcher.fetchval("SELECT count(*) FROM agency_task WHERE status <> 'succeeded'")
            assert bad == 0, f"{bad} tasks did not succeed"
            return pstats.Stats(profile), trips
        finally:
            await runner.cleanup()
            await watcher.close()
    finally:
        pg.stop(mode="immediate")


def report_worker(n: int, top: int, callers_of: str = "") -> None:
    import tempfile

    from ops.bench.api_calls import categorize
    from ops.bench.common import install_uvloop

    install_uvloop()  # as `enforcement serve` runs
    with tempfile.TemporaryDirectory(prefix="worker-calls-") as tmp:
        stats, trips = asyncio.run(run_worker(n, Path(tmp)))
    raw: dict[tuple[str, int, str], Any] = stats.stats  # type: ignore[attr-defined]
    kept = {}
    for key, (_cc, nc, _tt, _ct, callers) in raw.items():
        if Path(key[0]).name == "dispatcher_calls.py" and key[2] not in ("search", "poll", "search_batch"):
            continue  # the measure's own (its polling loop, the submission thread's handover)
        if key[0] == "~":
            nc -= sum(v[1] for c, v in callers.items()
                      if Path(c[0]).name in ("dispatcher_calls.py", "api_calls.py"))
        if Path(key[0]).name == "api_calls.py":
            continue
        kept[key] = (nc, callers)

    def label(key: tuple[str, int, str]) -> str | None:
        path = key[0].replace("\\", "/") + ":" + key[2]
        for name, parts in WORKER_CATEGORIES:
            if any(p in path for p in parts):
                return name
        return None

    categories = categorize(kept, label)
    total = sum(categories.values())
    connector = sum(v for k, v in categories.items() if k.startswith("connector"))
    print(f"{n} searches of five agencies, worker process (role worker), connectors answering in memory")
    print(f"Python function calls per search, the worker's own: {(total - connector) / n:.1f} "
          f"(the connectors' in-memory answers aside: {connector / n:.1f})")
    print(f"PostgreSQL round trips per search: {trips.count / n:.2f}")
    for statement, count in trips.by_statement.most_common():
        print(f"  {count / n:6.2f}  {' '.join(statement.split())[:90]}")
    print("By first caller:")
    for name, calls in categories.most_common():
        print(f"  {calls / n:8.1f}  {name}")
    if top:
        from ops.bench.api_calls import _function

        print("By the service's own function nearest on the callers' chain:")
        for name, calls in categorize(kept, _function).most_common(top):
            print(f"  {calls / n:8.1f}  {name}")
    if top:
        rows = sorted(((nc, k) for k, (nc, _c) in kept.items()), key=lambda x: -x[0])
        for calls, (file, line, name) in rows[:top]:
            print(f"  {calls / n:6.1f}  {name}  ({Path(file).name}:{line})")
    for (file, line, name), (calls, callers) in kept.items():
        if callers_of and name == callers_of:
            print(f"{calls / n:.1f} calls of {name} ({Path(file).name}:{line}), from:")
            for (cfile, cline, cname), v in sorted(callers.items(), key=lambda x: -x[1][1]):
                print(f"  {v[1] / n:6.1f}  {cname}  ({Path(cfile).name}:{cline})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--top", type=int, default=0, help="also list the functions called most")
    parser.add_argument("--callers", default="", help="with --worker: who calls the functions of this name")
    parser.add_argument("--worker", type=int, default=0, metavar="N",
                        help="count the whole worker per search over N searches instead (embedded PostgreSQL)")
    args = parser.parse_args()
    configure_logging("WARNING", json_output=True)  # as the benchmarks run the service
    if args.worker:
        report_worker(args.worker, args.top, args.callers)
        return 0
    total, stats = asyncio.run(run(args.calls))
    print(f"Python function calls per agency call (dispatcher's own work): {total / args.calls:.1f}")
    if args.top:
        rows: list[tuple[int, Any]] = sorted(((v[1], k) for k, v in stats.stats.items()),  # type: ignore[attr-defined]
                                             key=lambda x: -x[0])
        for calls, (file, line, name) in rows[:args.top]:
            print(f"  {calls / args.calls:6.1f}  {name}  ({Path(file).name}:{line})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
