"""10,000 renewals due on one day: all submitted and answered by the bank, with the time and the
peak memory (issue 17).

    python ops/bench/measures.py [--renewals 10000] [--batch 100] [--concurrency 32] [--no-write]

What runs: an embedded PostgreSQL, the bank simulator in a process of its own (no latency), and
in this process the measures feature's real pieces: ``MeasureStore`` and ``MeasureService`` (the
judge's renewal, as ``POST /api/v1/measures/{id}:renew`` calls it, without the HTTP hop),
``ExpiryWatch`` (the renewal-due alerts) and ``MeasureDispatcher`` (claims under a lease, sends
each renewal through the bank connector with its idempotency key, keeps the answer and the new
expiry), all on one pool.

Setup (timed apart, not the figure): one open case whose debtors hold the accounts, a freeze of
each account written by the store and sent to the bank by the dispatcher, every freeze asked to
end on the same day D. Then the court's clock moves to D-10: the expiry watch raises one alert
per freeze (timed), the judge submits every renewal (timed: "submitted"), and the dispatcher
drains them (timed: "answered", until the last renewal is answered and its freeze runs to D+1
year). Peak memory: this process's VmHWM, reset (``/proc/self/clear_refs``) before the renewal
phase, and the bank simulator's VmHWM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from common import (
    JUDGE,
    Postgres,
    Simulators,
    debtors,
    install_uvloop,
    machine,
    now,
    seed_case,
    table,
    workspace,
    write_section,
)
from fanout import NO_LATENCY

from connectors.sdk.registry import Registry
from connectors.sdk.types import ConnectorConfig, ControlOutcome, ControlRequest
from enforcement.domain.actors import Actor
from enforcement.domain.audit import AuditEntry
from enforcement.domain.measures import add_years
from enforcement.kernel.audit import AuditLog
from enforcement.kernel.migrate import apply_migrations
from enforcement.kernel.pool import create_pool
from enforcement.measures.dispatcher import ExpiryWatch, MeasureDispatcher, MeasureDispatcherConfig
from enforcement.measures.service import FollowUpRequest, MeasureClock, MeasureConfig, MeasureService
from enforcement.measures.store.measures import MeasureStore, NewMeasure

COURT = "辽0102"
SIMULATOR_KEY = "sim-key"


class BankControls:
    """The ``ControlGateway`` of the bench: the bank connector over one session."""

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        spec = Registry.discover()["banks"]
        self.connector = spec.factory(ConnectorConfig(base_url=url, secret=SIMULATOR_KEY,
                                                      timeout_seconds=spec.manifest.policy.timeout_seconds,
                                                      manifest=spec.manifest), session)

    async def control(self, agency: str, request: ControlRequest) -> ControlOutcome:
        assert agency == "banks"
        result: ControlOutcome = await self.connector.control(request)
        return result

    async def control_status(self, agency: str, ticket: str) -> ControlOutcome:
        """The bank answers a control by ticket (``control_delay_seconds`` later): polled when due."""
        assert agency == "banks"
        result: ControlOutcome = await self.connector.control_status(ticket)
        return result

    def answer_within_seconds(self, agency: str) -> float:
        controls = self.connector.manifest.controls
        return 86400.0 if controls is None else controls.deadline_seconds


def accounts(n: int) -> list[tuple[str, str, str]]:
    """``n`` open accounts with money, as the bank simulator holds them: (id number, name, account)."""
    from connectors.banks.simdata import accounts_for

    out: list[tuple[str, str, str]] = []
    offset = 0
    while len(out) < n:
        for id_number, name in debtors(1000, offset=offset):
            for a in accounts_for("person", id_number):
                if a["AccountStatus"] != "C" and float(a["Balance"]) > 0 and len(out) < n:
                    out.append((id_number, name, a["AccountNo"]))
        offset += 1000
    return out


def peak_rss_mib(pid: str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


async def drain(pool: Any, dispatcher: MeasureDispatcher, kind: str, expected: int, timeout: float) -> float:
    """Run the dispatcher until every measure of ``kind`` is answered; the seconds it took."""
    started = time.perf_counter()
    task = asyncio.create_task(dispatcher.run())
    try:
        while True:
            left = await pool.fetchval("SELECT count(*) FROM measure WHERE kind = $1 AND task_status <> 'answered'",
                                       kind)
            answered = await pool.fetchval("SELECT count(*) FROM measure WHERE kind = $1 AND task_status = 'answered'",
                                           kind)
            if left == 0 and answered >= expected:
                return time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"{left} {kind} measure(s) not answered after {timeout:.0f} s")
            dispatcher.wake()
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def run(dsn: str, bank_url: str, args: argparse.Namespace, bank_pid: int) -> dict[str, Any]:
    n = args.renewals
    held = accounts(n)
    people = list(dict.fromkeys((i, name) for i, name, _ in held))
    case_id = await seed_case(dsn, people)
    pool = await create_pool(dsn, min_size=4, max_size=args.pool)
    try:
        clock = MeasureClock()
        config = MeasureConfig(funds_account="执行案款专户", deadline_seconds=3600.0)
        store = MeasureStore(pool, AuditLog(b"bench-audit-key-" * 4))
        service = MeasureService(store, config, clock)
        case = await store.case(case_id)
        assert case is not None
        judge = Actor(JUDGE, "judge", "张伟", COURT, "2101020031")
        today = clock.today()
        expiry_day = today + timedelta(days=30)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.concurrency * 2)) as session:
            dispatcher = MeasureDispatcher(store, BankControls(bank_url, session), MeasureDispatcherConfig(
                worker_id="bench", claim_batch_size=args.batch, lease_seconds=60.0, idle_poll_seconds=0.05), config,
                clock)

            # -- setup: the freezes, at the bank, all ending on one day ---------------------------
            t0 = time.perf_counter()
            ruling_number = f"（{today.year}）{COURT}执1号"
            gate = asyncio.Semaphore(args.concurrency)

            async def freeze(i: int, id_number: str, name: str, account: str) -> None:
                new = NewMeasure(
                    case_id=case_id, parent_id=None, kind="freeze", asset_kind="bank_account", agency="banks",
                    target_key=account, target=account, subject_kind="person", subject_id_number=id_number,
                    subject_name=name, amount=None, asked_until=expiry_day, ruling_number=ruling_number,
                    ruled_on=today, case_number=case.case_number, court_code=COURT, judge_login=JUDGE,
                    judge_name="张伟", judge_officer_id="2101020031", requested_by=JUDGE,
                    idempotency_key=f"bench:freeze:{case_id}:{account}", request_no=f"B{i:019d}",
                    deadline_seconds=3600.0)
                entry = AuditEntry(action="measure_freeze", actor_login=JUDGE, actor_role="judge", actor_court=COURT,
                                   case_id=case_id, case_number=case.case_number, case_court=COURT,
                                   details={"kind": "freeze", "asset": account})
                async with gate:
                    await store.create(new, entry)

            await asyncio.gather(*(freeze(i, *a) for i, a in enumerate(held)))
            written = time.perf_counter() - t0
            frozen_s = await drain(pool, dispatcher, "freeze", n, args.timeout)
            active = await pool.fetchval("SELECT count(*) FROM measure WHERE kind = 'freeze' AND status = 'active' "
                                         "AND expires_on = $1", expiry_day)
            print(f"setup: {n:,} freezes written in {written:.1f} s, at the bank in {frozen_s:.1f} s; "
                  f"{active:,} active until {expiry_day}", flush=True)

            # -- the day: renewals due, submitted, answered ---------------------------------------
            reset_peak_rss()
            clock.advance(20)  # D - 10: inside the 15 days' notice
            t0 = time.perf_counter()
            raised, _ = await ExpiryWatch(store, config, clock).tick()
            watch_s = time.perf_counter() - t0
            due = [int(r["id"]) for r in await pool.fetch(
                "SELECT id FROM measure WHERE kind = 'freeze' AND status IN ('active', 'partial') ORDER BY id")]
            renew_ruling = {"number": f"（{clock.today().year}）{COURT}执2号", "ruled_on": clock.today()}

            async def renew(measure_id: int) -> None:
                async with gate:
                    await service.follow_up(judge, measure_id, FollowUpRequest(
                        "renew", renew_ruling["number"], renew_ruling["ruled_on"]))

            t0 = time.perf_counter()
            await asyncio.gather(*(renew(m) for m in due))
            submit_s = time.perf_counter() - t0
            answer_s = await drain(pool, dispatcher, "renew", len(due), args.timeout)
            total_s = submit_s + answer_s
            outcome = {r["status"]: int(r["n"]) for r in await pool.fetch(
                "SELECT status, count(*) AS n FROM measure WHERE kind = 'renew' GROUP BY status")}
            renewed = await pool.fetchval(
                "SELECT count(*) FROM measure WHERE kind = 'freeze' AND status = 'active' AND expires_on = $1",
                add_years(expiry_day, 1))
        return {
            "renewals": len(due), "alerts": raised, "watch_s": watch_s, "submit_s": submit_s, "answer_s": answer_s,
            "total_s": total_s, "outcome": outcome, "renewed": renewed, "peak_mib": peak_rss_mib(),
            "bank_peak_mib": peak_rss_mib(str(bank_pid)), "setup_freeze_s": frozen_s,
        }
    finally:
        await pool.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renewals", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100, help="measures claimed per dispatcher round")
    parser.add_argument("--concurrency", type=int, default=32, help="renewals submitted at once")
    parser.add_argument("--pool", type=int, default=20, help="database connections")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--final", action="store_true", help="not preliminary: the machine was quiet")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    install_uvloop()
    started_at, machine_line = now(), machine()
    with workspace("measures", keep=args.keep) as work:
        pg = Postgres(work)
        dsn = pg.start()
        sims = Simulators.start(work, {"banks": NO_LATENCY["banks"]}, agencies=("banks",))
        try:
            async def migrate() -> None:
                pool = await create_pool(dsn, min_size=1, max_size=1)
                try:
                    async with pool.acquire() as conn:
                        await apply_migrations(conn)
                finally:
                    await pool.close()

            asyncio.run(migrate())
            r = asyncio.run(run(dsn, sims.urls["banks"], args, sims.procs[0].pid))
        finally:
            sims.stop()
            pg.stop()

    n = r["renewals"]
    rows = [
        ["renewal alerts raised (expiry watch)", f"{r['alerts']:,}", f"{r['watch_s']:.2f}", ""],
        ["renewals submitted (judge, service)", f"{n:,}", f"{r['submit_s']:.1f}", f"{n / r['submit_s']:,.0f}"],
        ["renewals answered (dispatcher, bank)", f"{n:,}", f"{r['answer_s']:.1f}", f"{n / r['answer_s']:,.0f}"],
        ["submitted and answered", f"{n:,}", f"{r['total_s']:.1f}", f"{n / r['total_s']:,.0f}"],
    ]
    out = table(["phase", "measures", "seconds", "per second"], rows)
    ok = r["outcome"] == {"done": n} and r["renewed"] == n and r["alerts"] == n
    summary = (f"{n:,} renewals due on one day: {r['alerts']:,} alerts; answers {r['outcome']}; "
               f"{r['renewed']:,} freezes now run one more year ({'all' if ok else 'NOT all'}). Peak RSS of the "
               f"service process (store, service, dispatcher) during the renewal phase {r['peak_mib']:.0f} MiB; "
               f"bank simulator {r['bank_peak_mib']:.0f} MiB. Setup (not counted): the {n:,} freezes reached the "
               f"bank in {r['setup_freeze_s']:.1f} s.")
    print(out)
    print(summary)
    if not args.no_write:
        body = "\n".join([out, "", summary, "",
                          "One process runs the measures feature's store, service and dispatcher (claim batch "
                          f"{args.batch}, {args.concurrency} renewals submitted at once, {args.pool} connections); "
                          "the bank simulator in its own process, no latency; the renewal is the service call the "
                          "`:renew` route makes, without the HTTP hop."])
        write_section("measures", "Renewals due on one day (control measures)", body, started=started_at,
                      machine_line=machine_line, preliminary=not args.final)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
