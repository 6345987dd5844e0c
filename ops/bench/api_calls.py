"""Python function calls and PostgreSQL round trips the API process spends per submitted search
(``POST /api/v1/searches``), its own work only (issue 19): an embedded PostgreSQL, the app
in-process as ``enforcement serve --role api`` builds it (no worker: the agencies are never
called, only submission is counted), and a real aiohttp client in a thread of its own (not
profiled) sending the searches one after another, each about another debtor of one case.

What is counted is everything the API's event loop runs meanwhile: the middlewares, the token,
the user, the body, the service, the store, the audit record, the metrics, the response, and the
background work each submission wakes in an API process (the audit chainer, the event hub).
cProfile's counts are deterministic, whatever the machine's speed.

    PYTHONPATH=$PWD python ops/bench/api_calls.py [--searches 500] [--top 40]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import aiohttp
import asyncpg
import structlog
from aiohttp import web

from ops.bench.common import AGENCIES, JUDGE, debtors, free_port, install_uvloop

WARM = 50
# Where a call is charged: the first of these found on the call's stack of callers, by file part.
CATEGORIES = (
    ("audit chainer (woken per search)", ("kernel/audit_chainer.py", "kernel/audit.py:chain_pending")),
    ("event hub (woken per search)", ("searches/events.py", "kernel/notify.py")),
    ("token verification (PyJWT)", ("/jwt/", "/cryptography/")),
    ("auth middleware (user lookup, role gate)", ("api/auth.py", "kernel/users.py")),
    ("service.submit + store + audit entry", ("searches/service.py", "searches/store/", "domain/audit.py",
                                              "kernel/audit.py")),
    ("body: read, JSON, validation", ("api/bodies.py", "domain/json_input.py", "searches/routes/",
                                      "domain/subjects.py")),
    ("request_context middleware (id, logs, metrics, errors)", ("api/middleware.py",)),
    ("aiohttp server, response", ("/aiohttp/",)),
)


def _in_request() -> bool:
    """Whether the running task serves a request (api.middleware binds its id for the logs)."""
    var = structlog.contextvars._CONTEXT_VARS.get("structlog_request_id")
    return var is not None and var.get() is not Ellipsis


class RoundTrips:
    """Counts the statements asyncpg sends (extended protocol, simple queries, COPY)."""

    def __init__(self) -> None:
        self.count = 0
        self.in_requests = 0  # sent while a request is being served (its request id bound)
        self.by_statement: Counter[str] = Counter()
        self.on = False
        self.excluded: object = None  # the measure's own connection
        conn: Any = asyncpg.connection.Connection
        do_execute, execute, executemany = conn._do_execute, conn.execute, conn._executemany
        counter = self

        async def _do_execute(self: Any, query: str, *a: Any, **k: Any) -> Any:
            if counter.on and self is not counter.excluded:
                counter.count += 1
                counter.by_statement[query] += 1
                counter.in_requests += _in_request()
            return await do_execute(self, query, *a, **k)

        async def _execute(self: Any, query: str, *args: Any, **k: Any) -> Any:
            if counter.on and not args and self is not counter.excluded:  # with arguments: _do_execute
                counter.count += 1
                counter.by_statement[query] += 1
                counter.in_requests += _in_request()
            return await execute(self, query, *args, **k)

        async def _executemany(self: Any, *a: Any, **k: Any) -> Any:
            counter.count += counter.on
            counter.in_requests += counter.on and _in_request()
            return await executemany(self, *a, **k)

        conn._do_execute, conn.execute, conn._executemany = _do_execute, _execute, _executemany


def client(url: str, token: str, case_id: int, people: list[tuple[str, str]], out: list[int]) -> None:
    """The load: one search after another, in its own thread and loop (not profiled)."""

    async def run() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession() as session:
            for id_number, name in people:
                body = {"case_id": case_id, "subject": {"kind": "person", "id_number": id_number, "name": name}}
                async with session.post(f"{url}/api/v1/searches", json=body, headers=headers) as resp:
                    await resp.read()
                    out.append(resp.status)

    asyncio.run(run())


async def in_thread(*args: Any) -> list[int]:
    statuses: list[int] = []
    await asyncio.to_thread(client, *args, statuses)  # type: ignore[call-arg]  # one wake-up when it ends, no polling
    return statuses


async def quiet(conn: asyncpg.Connection) -> None:
    """Let the audit chainer and the event hub catch up before counting stops."""
    for _ in range(400):
        if not await conn.fetchval("SELECT count(*) FROM audit_log WHERE seq IS NULL"):
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)


async def run(n: int, data_dir: Path) -> tuple[pstats.Stats, int, RoundTrips]:
    from connectors.sdk.registry import Registry
    from enforcement.api.auth import DEMO_ISSUER
    from enforcement.api.protocol import AppRunner
    from enforcement.app import create_app
    from enforcement.kernel.embedded import EmbeddedPostgres
    from enforcement.kernel.settings import Settings
    from ops.bench.common import seed_case

    pg = EmbeddedPostgres(data_dir / "pg", fast=True)
    dsn = pg.start()
    try:
        people = debtors(WARM + n)
        settings = Settings(database_url=dsn, data_dir=data_dir, role="api", enabled_agencies=AGENCIES,
                            agency_urls=dict.fromkeys(AGENCIES, "http://127.0.0.1:9"),
                            log_json=True, log_level="WARNING", metrics_refresh_seconds=3600.0,
                            audit_verify_seconds=0.0)
        app = create_app(settings, registry=Registry.discover().only(AGENCIES))
        runner = AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            case_id = await seed_case(dsn, people)
            issuer = app[DEMO_ISSUER]
            assert issuer is not None
            token = issuer.issue(settings, JUDGE, "judge")
            url = f"http://127.0.0.1:{port}"
            trips = RoundTrips()
            watcher = await asyncpg.connect(dsn)
            trips.excluded = watcher
            warm = await in_thread(url, token, case_id, people[:WARM])
            assert set(warm) == {202}, Counter(warm)
            await quiet(watcher)
            profile = cProfile.Profile()
            trips.on = True
            profile.enable()
            statuses = await in_thread(url, token, case_id, people[WARM:])
            await quiet(watcher)
            profile.disable()
            trips.on = False
            assert statuses == [202] * n, Counter(statuses)
            # the quiet() polls are the measure's own: take their statements out
            await watcher.close()
            stats = pstats.Stats(profile)
            return stats, port, trips
        finally:
            await runner.cleanup()
    finally:
        pg.stop(mode="immediate")


def own(stats: pstats.Stats, trips: RoundTrips) -> tuple[int, dict[tuple[str, int, str], tuple[int, Any]]]:
    """The calls, less the measure's own (its polling loop, the round-trip counters)."""
    raw: dict[tuple[str, int, str], Any] = stats.stats  # type: ignore[attr-defined]
    total = 0
    kept = {}
    for key, (_cc, nc, _tt, _ct, callers) in raw.items():
        if Path(key[0]).name == "api_calls.py":
            continue
        if key[0] == "~":  # a builtin the measure itself called (its counters) is not the API's
            nc -= sum(v[1] for c, v in callers.items() if Path(c[0]).name == "api_calls.py")
        total += nc
        kept[key] = (nc, callers)
    return total, kept


def categorize(kept: dict[tuple[str, int, str], tuple[int, Any]],
               label: Callable[[tuple[str, int, str]], str | None] | None = None) -> Counter[str]:
    """The calls charged to categories: a function a category names keeps its calls; any other's
    calls are shared among its callers in proportion to the calls each made (cProfile's edges)."""
    label = label or _category
    memo: dict[tuple[str, int, str], dict[str, float]] = {}

    def share(key: tuple[str, int, str], depth: int = 0) -> dict[str, float]:
        if key in memo:
            return memo[key]
        own_label = label(key)
        if own_label is not None:
            memo[key] = {own_label: 1.0}
            return memo[key]
        memo[key] = {"other (event loop, asyncpg, logging)": 1.0}  # cycles, and the loop's roots
        callers = kept.get(key, (0, {}))[1]
        edges = {c: v[1] for c, v in callers.items() if c in kept and v[1] > 0}
        total = sum(edges.values())
        if total and depth < 200:
            mix: dict[str, float] = {}
            for caller, count in edges.items():
                for name, part in share(caller, depth + 1).items():
                    mix[name] = mix.get(name, 0.0) + part * count / total
            memo[key] = mix
        return memo[key]

    out: Counter[str] = Counter()
    for key, (nc, _callers) in kept.items():
        for name, part in share(key).items():
            out[name] += nc * part  # type: ignore[assignment]
    return out


def _category(key: tuple[str, int, str]) -> str | None:
    path = key[0].replace("\\", "/") + ":" + key[2]
    for name, parts in CATEGORIES:
        if any(p in path for p in parts):
            return name
    return None


def _function(key: tuple[str, int, str]) -> str | None:
    path = key[0].replace("\\", "/")
    for root in ("/enforcement/", "/connectors/"):
        if root in path:
            return f"{root.strip('/')}/{path.split(root, 1)[1]}:{key[2]}"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--searches", type=int, default=500)
    parser.add_argument("--top", type=int, default=0, help="also list the functions called most")
    parser.add_argument("--callers", default="", help="also list who calls the functions of this name")
    parser.add_argument("--by-function", type=int, default=0,
                        help="also list this many of the service's own functions, each with the calls it causes")
    args = parser.parse_args()
    from enforcement.kernel.logging import configure_logging

    configure_logging("WARNING", json_output=True)  # as the benchmarks run the service
    install_uvloop()  # as `enforcement serve` runs: the event loop's own work is then not Python
    n = args.searches
    with tempfile.TemporaryDirectory(prefix="api-calls-") as tmp:
        stats, _port, trips = asyncio.run(run(n, Path(tmp)))
    total, kept = own(stats, trips)
    print(f"POST /api/v1/searches, {n} one after another, API process (role api), no worker")
    categories = categorize(kept)
    woken = sum(v for k, v in categories.items() if "woken" in k)
    print(f"Python function calls per search: {total / n:.1f} (all but the woken work: {(total - woken) / n:.1f}; "
          f"the audit chainer's and the event hub's, which batch as load grows: {woken / n:.1f})")
    print(f"PostgreSQL round trips per search: {trips.count / n:.2f} (the request's: {trips.in_requests / n:.2f})")
    for statement, count in trips.by_statement.most_common():
        print(f"  {count / n:6.2f}  {' '.join(statement.split())[:90]}")
    print("By first caller (a function's calls go to the nearest listed module on its callers' chain):")
    for name, calls in categories.most_common():
        print(f"  {calls / n:8.1f}  {name}")
    if args.callers:
        for (file, line, name), (calls, callers) in kept.items():
            if name == args.callers:
                print(f"{calls / n:.1f} calls of {name} ({Path(file).name}:{line}), from:")
                for (cfile, cline, cname), v in sorted(callers.items(), key=lambda x: -x[1][1]):
                    print(f"  {v[1] / n:6.1f}  {cname}  ({Path(cfile).name}:{cline})")
    if args.by_function:
        print("By the service's own function nearest on the callers' chain (calls shared by call counts):")
        for name, calls in categorize(kept, _function).most_common(args.by_function):
            print(f"  {calls / n:8.1f}  {name}")
    if args.top:
        rows = sorted(((nc, k) for k, (nc, _c) in kept.items()), key=lambda x: -x[0])
        for calls, (file, line, name) in rows[:args.top]:
            print(f"  {calls / n:6.1f}  {name}  ({Path(file).name}:{line})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
