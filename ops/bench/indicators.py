"""Benchmark: every enforcement indicator for one court of 1,000,000 cases.

    python ops/bench/indicators.py [--cases 1000000] [--repeat 3] [--keep] [--no-write] [--explain]

Generates a court (辽0102) of ``--cases`` cases over ten years, plus a neighbouring court of a
twentieth of that, with what the indicators read: the cases (types, judges, amounts, closures
in every mode), a debtor each, the lifecycle rows (statutory deadlines computed by the service's
own ``replay`` from generated suspensions and extensions), 终本 verdicts, petitions, and every
终本 debtor's ten re-query rounds. Loaded with COPY into an embedded PostgreSQL (fsync off),
analyzed, then timed: all indicators for the court and one calendar year as the API computes
them (in parallel, then the by-court/judge/case-type breakdown included), each indicator alone,
the drill-down of the statutory-period indicator, and the stale-lifecycle check the API runs
first. A benchmark, not a test: it does not run in ``make test``.

Writes its figures to docs/performance.md under "## Indicators".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ops.bench.common import PERF_DOC, Postgres, command_line, machine, table, workspace  # noqa: E402

COURT, OTHER = "辽0102", "辽0103"
START, END = date(2016, 1, 1), date(2026, 10, 31)
TYPES = (("执", 70), ("执恢", 10), ("执保", 10), ("执异", 5), ("执复", 5))
MODES = (("执行完毕", 45), ("终结本次执行程序", 35), ("终结执行", 8), ("和解长期履行", 5), ("不予执行", 2),
         ("驳回申请", 2), ("销案", 3))
CHUNK = 50_000
WINDOW = (date(2025, 1, 1), date(2025, 12, 31))
BR = "  "  # a Markdown line break
PRELIMINARY = ("\n**Preliminary**: measured while other work shared the machine; the lead's quiet-machine run "
               "replaces these figures.\n")


def weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


class Generator:
    """Deterministic cases, in chunks of rows for COPY."""

    def __init__(self, seed: int, today: date) -> None:
        from enforcement.domain.lifecycle import CaseEvent, replay
        from enforcement.domain.schedule import rounds

        self.rng = random.Random(seed)
        self.today = today
        self.replay = replay
        self.rounds = rounds
        self.event = CaseEvent
        self.next_event = 1
        self.next_round = 1

    def cases(self, court: str, judges: list[str], first_id: int, n: int) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
        rng = self.rng
        span = (END - START).days
        out: dict[str, list[tuple[Any, ...]]] = {k: [] for k in ("case", "party", "lifecycle", "event", "round")}
        for i in range(first_id, first_id + n):
            filed = START + timedelta(days=rng.randrange(span))
            ctype = weighted(rng, TYPES)
            nonlit = rng.random() < 0.1
            amount = Decimal(rng.randrange(1_000, 5_000_000))
            events: list[Any] = []
            ev_rows: list[tuple[Any, ...]] = []

            def add(t: str, on: date, data: dict[str, Any], case_id: int = i,
                    events: list[Any] = events, ev_rows: list[tuple[Any, ...]] = ev_rows) -> None:
                if on > self.today:
                    return
                events.append(self.event(self.next_event, t, on, data))
                ev_rows.append((self.next_event, case_id, t, on, data, "case_system"))
                self.next_event += 1

            if rng.random() < 0.10:
                s = filed + timedelta(days=rng.randrange(10, 150))
                add("suspension_started", s, {"reason": "auction"})
                if rng.random() < 0.9:
                    add("suspension_ended", s + timedelta(days=rng.randrange(5, 120)), {})
            if rng.random() < 0.05:
                add("extension_approved", filed + timedelta(days=100), {"months": rng.randrange(1, 4)})
            age = (self.today - filed).days
            closed_on: date | None = None
            mode: str | None = None
            if rng.random() < (0.95 if age > 365 else 0.6):
                closed_on = min(filed + timedelta(days=rng.randrange(20, 400)), self.today)
                mode = weighted(rng, MODES)
                # a closure ends an open suspension: what would come after it is dropped
                events[:] = [e for e in events if e.occurred_on <= closed_on]
                ev_rows[:] = [r for r in ev_rows if r[3] <= closed_on]
                add("closed", closed_on, {"mode": mode})
            if rng.random() < 0.03:
                received = filed + timedelta(days=rng.randrange(30, 300))
                if received <= self.today:
                    pid = f"XF{i}"
                    ev_rows.append((self.next_event, i, "petition_received", received, {"petition_id": pid},
                                    "case_system"))
                    self.next_event += 1
                    done = received + timedelta(days=rng.randrange(5, 60))
                    if rng.random() < 0.85 and done <= self.today:
                        ev_rows.append((self.next_event, i, "petition_closed", done, {"petition_id": pid},
                                        "case_system"))
                        self.next_event += 1
            lc = self.replay(events, filed_on=filed, non_litigation=nonlit)
            recovered = {"执行完毕": amount, "和解长期履行": amount / 2}.get(mode or "", Decimal(0))
            if mode == "终结本次执行程序":
                recovered = (amount * Decimal(rng.randrange(0, 20)) / 100).quantize(Decimal("0.01"))
            status = "closed" if closed_on else lc.status
            out["case"].append((i, f"（{filed.year}）{court}{ctype}{i}号", court, ctype, rng.choice(judges), "申请人",
                                "借款合同纠纷", amount, recovered, nonlit, filed, status, mode, closed_on))
            out["party"].append((i, i, "debtor", "person", f"9{i:017d}", f"被执行人{i}"))
            zhongben = mode == "终结本次执行程序" and ctype in ("执", "执恢")
            qualified = rng.random() < 0.92 if zhongben else None
            out["lifecycle"].append((i, filed, nonlit, lc.base_months, lc.extension_months, lc.extension_days,
                                     lc.suspended_days, lc.suspended_since, lc.deadline, False, None,
                                     [] if qualified in (True, None) else ["3:network_search_real_estate@" + str(i)],
                                     qualified, closed_on if zhongben else None, "months=6/3;ext=dated"))
            out["event"].extend(ev_rows)
            if zhongben and closed_on is not None:
                for r in self.rounds(closed_on, interval_days=182, years=5, spread_days=14, key=str(i)):
                    if r.due_on <= self.today:
                        made = rng.random() < 0.9
                        at = datetime.combine(r.run_on + timedelta(days=rng.randrange(0, 3)), datetime.min.time(),
                                              tzinfo=UTC) if made else None
                        late = r.due_on + timedelta(days=182) < self.today
                        st = "done" if made else ("missed" if late else "pending")
                    else:
                        at, st = None, "pending"
                    out["round"].append((self.next_round, i, i, r.number, closed_on, r.due_on, r.run_on, st, at, at,
                                         0 if st == "done" else None))
                    self.next_round += 1
            if len(out["case"]) >= CHUNK:
                yield out
                out = {k: [] for k in out}
        if out["case"]:
            yield out


COLUMNS = {
    "case": ("enforcement_case", ["id", "case_number", "court_code", "case_type", "judge_login", "applicant_name",
                                  "cause", "amount_to_enforce", "amount_recovered", "non_litigation", "filed_on",
                                  "status", "closure_mode", "closed_on"]),
    "party": ("case_party", ["id", "case_id", "role", "kind", "id_number", "name"]),
    "lifecycle": ("case_lifecycle", ["case_id", "filed_on", "non_litigation", "base_months", "extension_months",
                                     "extension_days", "suspended_days", "suspended_since", "deadline",
                                     "settlement_performed", "resumed_on", "zb_missing", "zb_qualified",
                                     "requery_for", "params"]),
    "event": ("case_event", ["id", "case_id", "event_type", "occurred_on", "data", "source"]),
    "round": ("requery_round", ["id", "case_id", "party_id", "round", "closed_on", "due_on", "run_on", "status",
                                "submitted_at", "completed_at", "new_assets"]),
}


async def load(dsn: str, n_cases: int, seed: int) -> dict[str, int]:
    from enforcement.kernel.migrate import apply_migrations
    from enforcement.kernel.pool import init_connection

    conn = await asyncpg.connect(dsn)
    await init_connection(conn)
    # COPY is binary: jsonb goes as its version byte and the JSON text.
    await conn.set_type_codec("jsonb", schema="pg_catalog", format="binary",
                              encoder=lambda v: b"\x01" + json.dumps(v, ensure_ascii=False).encode(),
                              decoder=lambda b: json.loads(b[1:].decode()))
    try:
        await apply_migrations(conn)
        await conn.execute("INSERT INTO court (code, name, province) VALUES ($1, '沈阳市和平区人民法院', '辽宁省'), "
                           "($2, '沈阳市沈河区人民法院', '辽宁省')", COURT, OTHER)
        judges = {COURT: [f"j{k:03d}" for k in range(1, 41)], OTHER: [f"k{k:03d}" for k in range(1, 6)]}
        for court, logins in judges.items():
            await conn.executemany("INSERT INTO app_user (login, display_name, role, court_code) "
                                   "VALUES ($1, $2, 'judge', $3)", [(j, f"法官{j}", court) for j in logins])
        gen = Generator(seed, date(2026, 11, 1))
        counts = dict.fromkeys(COLUMNS, 0)
        plan = [(COURT, 1, n_cases), (OTHER, n_cases + 1, max(1, n_cases // 20))]
        for court, first, n in plan:
            for chunk in gen.cases(court, judges[court], first, n):
                for key in ("case", "party", "lifecycle", "event", "round"):
                    if chunk[key]:
                        name, cols = COLUMNS[key]
                        await conn.copy_records_to_table(name, records=chunk[key], columns=cols)
                        counts[key] += len(chunk[key])
                print(f"  loaded {counts['case']:,} cases ...", flush=True)
        for seq, tbl in (("enforcement_case_id_seq", "enforcement_case"), ("case_party_id_seq", "case_party"),
                         ("case_event_id_seq", "case_event"), ("requery_round_id_seq", "requery_round")):
            await conn.execute(f"SELECT setval('{seq}', (SELECT max(id) FROM {tbl}))")
        await conn.execute("VACUUM ANALYZE")
        return counts
    finally:
        await conn.close()


async def measure(dsn: str, repeat: int, explain: bool) -> dict[str, Any]:
    from enforcement.cases.indicators import IndicatorService, Scope
    from enforcement.cases.lifecycle import LifecycleRules, LifecycleService
    from enforcement.cases.store.indicators import IndicatorStore
    from enforcement.cases.store.lifecycle import LifecycleStore
    from enforcement.kernel.pool import create_pool

    pool = await create_pool(dsn, min_size=2, max_size=10)
    try:
        lifecycle = LifecycleService(LifecycleStore(pool), LifecycleRules(), {})
        service = IndicatorService(IndicatorStore(pool), lifecycle)
        scope = Scope(WINDOW[0], WINDOW[1], court=COURT)
        await service.compute(None, scope, reconcile=False)  # warm the cache and the plans
        runs: list[float] = []
        report: dict[str, Any] = {}
        for _ in range(repeat):
            t0 = time.perf_counter()
            report = await service.compute(None, scope, reconcile=False)
            runs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        await service.compute(None, scope, reconcile=True)
        with_reconcile = time.perf_counter() - t0
        t0 = time.perf_counter()
        stale = await lifecycle.reconcile(court=COURT, limit=2000)
        stale_check = time.perf_counter() - t0
        each: list[tuple[str, float, Any, Any, Any]] = []
        for d in await service.definitions():
            t0 = time.perf_counter()
            one = await service.compute(None, scope, codes=[d.code], reconcile=False)
            ind = one["indicators"][0]
            each.append((d.code, time.perf_counter() - t0, ind["value"], ind["numerator"], ind["denominator"]))
        t0 = time.perf_counter()
        drill = await service.cases(None, "statutory_closure_rate", scope, limit=100)
        drill_s = time.perf_counter() - t0
        plan = ""
        if explain:
            async with pool.acquire() as conn:
                rows = await conn.fetch(
                    "EXPLAIN (ANALYZE, BUFFERS) SELECT count(*), sum(numerator) FROM ind_statutory_closure_rate($1, $2)"
                    " WHERE court_code = $3", WINDOW[0], WINDOW[1], COURT)
                plan = "\n".join(r[0] for r in rows)
        counts = await pool.fetchrow(
            "SELECT (SELECT count(*) FROM enforcement_case WHERE court_code = $1) AS court_cases, "
            "(SELECT count(*) FROM enforcement_case) AS cases, (SELECT count(*) FROM case_event) AS events, "
            "(SELECT count(*) FROM requery_round) AS rounds", COURT)
        return {"runs": runs, "with_reconcile": with_reconcile, "stale": stale, "stale_check": stale_check,
                "each": each, "drill": drill_s, "drill_total": drill["total"], "plan": plan,
                "report": report, "counts": dict(counts or {})}
    finally:
        await pool.close()


def write_doc(body: str) -> None:
    """The "## Indicators" section of docs/performance.md: replaced between its markers, or
    appended (the file is created if missing)."""
    begin, end = "<!-- bench:indicators -->", "<!-- /bench:indicators -->"
    section = f"{begin}\n{body.strip()}\n{end}"
    text = PERF_DOC.read_text(encoding="utf-8") if PERF_DOC.exists() else "# Performance\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n## Indicators\n\n" + section + "\n"
    PERF_DOC.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases of the measured court")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the workspace (database, logs)")
    parser.add_argument("--no-write", action="store_true", help="do not write docs/performance.md")
    parser.add_argument("--explain", action="store_true", help="print the plan of the statutory-period query")
    parser.add_argument("--final", action="store_true", help="a quiet machine: drop the 'preliminary' mark")
    args = parser.parse_args()
    started = datetime.now(UTC)
    machine_line = machine()
    with workspace("indicators", keep=args.keep) as root:
        pg = Postgres(root)
        dsn = pg.start()
        try:
            t0 = time.perf_counter()
            counts = asyncio.run(load(dsn, args.cases, args.seed))
            load_s = time.perf_counter() - t0
            print(f"loaded in {load_s:.0f} s: {counts}")
            m = asyncio.run(measure(dsn, args.repeat, args.explain))
            version = pg.version()
        finally:
            pg.stop()
    runs = m["runs"]
    best, worst = min(runs), max(runs)
    rows = [(code, f"{sec:.2f}", "-" if v is None else (f"{v:.4f}" if isinstance(v, float) else v), num, den)
            for code, sec, v, num, den in m["each"]]
    c = m["counts"]
    body = f"""
`{command_line()}`, {started:%Y-%m-%d %H:%M} UTC.{BR}
Machine: {machine_line}.{BR}
PostgreSQL {version} embedded, fsync off, default settings otherwise; data loaded with COPY and analyzed.
{"" if args.final else PRELIMINARY}
**All indicators for one court of {c['court_cases']:,} cases, one calendar year ({WINDOW[0]} .. {WINDOW[1]}),
with the breakdown by court, judge (40) and case type: {best:.2f} s** (best of {len(runs)};
runs {', '.join(f'{r:.2f}' for r in runs)} s), computed as `GET /api/v1/indicators` does (each
indicator one query over its SQL function, up to ten at once on the pool). With the stale-lifecycle
check the API runs first (every case of the court compared with its lifecycle row;
{m['stale']} stale): {m['with_reconcile']:.2f} s; the check alone {m['stale_check']:.2f} s.
The drill-down of the statutory-period indicator (first 100 of {m['drill_total']:,} cases): {m['drill']:.2f} s.

The database: {c['cases']:,} cases in two courts, {c['events']:,} events (suspensions, extensions,
closures, petitions), {c['rounds']:,} re-query rounds (ten per 终本 debtor), one lifecycle row and one
debtor per case. Each indicator alone (the whole breakdown included):

{table(("indicator", "seconds", "value", "numerator", "denominator"), rows)}
"""
    print(body)
    if m["plan"]:
        print(m["plan"])
    print(f"worst run {worst:.2f} s")
    if not args.no_write:
        write_doc(body)
        print(f"written to {PERF_DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
