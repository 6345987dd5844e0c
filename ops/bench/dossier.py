"""Dossier read latency: ``GET /api/v1/searches/{id}`` (the search with its merged asset dossier,
as the judge's page reads it) for a debtor with 1,000 asset records.

    python ops/bench/dossier.py [--records 1000] [--reads 500]

The debtor is searched for real through the service (simulators without latency), so the
search, its five answers and their records are what the service stores; then the answers are
topped up to ``--records`` records with copies of real records of other debtors (kinds in the
proportions the simulators produce, each with its own natural key and first sighting). The reads
are sequential, one at a time, after a warm-up, with a judge's token.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from common import (
    Client,
    Postgres,
    Service,
    Simulators,
    debtors,
    install_uvloop,
    machine,
    now,
    percentile,
    profiled,
    seed_case,
    service_env,
    summarize_profile,
    table,
    token,
    wait_completed,
    workspace,
    write_section,
)
from fanout import NO_LATENCY


async def top_up(dsn: str, search_id: str, records: int) -> int:
    """Give the search's answers ``records`` asset records in all, copied from other answers."""
    conn = await asyncpg.connect(dsn)
    try:
        answers = {r["agency"]: r["id"] for r in await conn.fetch(
            "SELECT agency, id FROM agency_answer WHERE search_id = $1", search_id)}
        have = await conn.fetchval(
            "SELECT count(*) FROM asset_record r JOIN agency_answer a ON a.id = r.answer_id WHERE a.search_id = $1",
            search_id)
        templates = await conn.fetch(
            "SELECT r.agency, r.kind, r.natural_key, r.data FROM asset_record r "
            "JOIN agency_answer a ON a.id = r.answer_id WHERE a.search_id <> $1 ORDER BY r.id", search_id)
        templates = [t for t in templates if t["agency"] in answers]
        subject_key = await conn.fetchval("SELECT subject_key FROM search WHERE id = $1", search_id)
        rows = []
        for i in range(max(0, records - have)):
            t = templates[i % len(templates)]
            rows.append((answers[t["agency"]], t["agency"], subject_key, t["kind"], f"{t['natural_key']}#{i}",
                         t["data"]))
        async with conn.transaction():
            await conn.executemany(
                "INSERT INTO asset_record (answer_id, agency, subject_key, kind, natural_key, data, observed_at) "
                "VALUES ($1, $2, $3, $4, $5, $6::jsonb, now())", rows)
            await conn.executemany(
                "INSERT INTO subject_asset (case_id, subject_key, kind, natural_key, first_seen_search_id, "
                "first_seen_at) "
                "SELECT s.case_id, $1, $2, $3, $4, now() FROM search s WHERE s.id = $4 ON CONFLICT DO NOTHING",
                [(subject_key, r[3], r[4], search_id) for r in rows])
            await conn.execute("UPDATE agency_answer a SET record_count = (SELECT count(*) FROM asset_record r "
                               "WHERE r.answer_id = a.id) WHERE a.search_id = $1", search_id)
        total: int = await conn.fetchval(
            "SELECT count(*) FROM asset_record r JOIN agency_answer a ON a.id = r.answer_id WHERE a.search_id = $1",
            search_id)
        return total
    finally:
        await conn.close()


async def run(args: argparse.Namespace, work: Any, dsn: str, service: Service) -> dict[str, Any]:
    people = debtors(args.donors + 1)
    case_id = await seed_case(dsn, people)
    bearer = token(work / "data")
    client = Client(service.url, bearer, case_id)
    submitted = await client.closed_loop(people, 8)
    await wait_completed(dsn, len(submitted), timeout=300)
    target = submitted[-1].search_id
    total = await top_up(dsn, target, args.records)
    url = f"{service.url}/api/v1/searches/{target}"
    latencies = []
    size = 0
    entries = 0
    spy = profiled({"api": service.procs[0].pid}, args.profile)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {bearer}"}) as session:
        for _ in range(args.warmup):
            async with session.get(url) as resp:
                await resp.read()
        spy.__enter__()
        for _ in range(args.reads):
            started = time.perf_counter()
            async with session.get(url) as resp:
                body = await resp.read()
                assert resp.status == 200, body[:300]
            latencies.append(time.perf_counter() - started)
            size = len(body)
        spy.__exit__(None, None, None)
        async with session.get(url) as resp:
            entries = (await resp.json())["dossier"]["entry_count"]
    return {"records": total, "entries": entries, "bytes": size, "latencies": latencies}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--donors", type=int, default=60, help="other debtors searched for record templates")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--final", action="store_true", help="not preliminary: the machine was quiet")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--profile", type=Path, help="py-spy the API process during the reads into this folder")
    args = parser.parse_args()
    install_uvloop()
    started_at, machine_line = now(), machine()
    with workspace("dossier", keep=args.keep) as work:
        pg = Postgres(work)
        dsn = pg.start()
        sims = Simulators.start(work, NO_LATENCY)
        service = Service(work, service_env(dsn, sims.urls, work / "data"), workers=1)
        try:
            asyncio.run(service.start())
            r = asyncio.run(run(args, work, dsn, service))
        finally:
            service.stop()
            sims.stop()
            pg.stop()
    ms = 1000.0
    lat = r["latencies"]
    out = table(["records", "dossier entries", "response bytes", "reads", "p50 ms", "p90 ms", "p99 ms", "max ms"], [[
        r["records"], r["entries"], f"{r['bytes']:,}", len(lat), f"{percentile(lat, 0.5) * ms:.1f}",
        f"{percentile(lat, 0.9) * ms:.1f}", f"{percentile(lat, 0.99) * ms:.1f}", f"{max(lat) * ms:.1f}"]])
    print(out)
    if args.profile:
        for folded in sorted(args.profile.glob("*.folded")):
            print(summarize_profile(folded, top=30))
    if not args.no_write:
        body = "\n".join([
            out, "",
            "`GET /api/v1/searches/{id}`, sequential reads by the judge who holds the case, over HTTP on loopback, "
            "one API process (authentication, authorization, the search, its tasks, its records with their first "
            "sightings, the previous search, the merge and the JSON). The records are real simulator records "
            "(vehicles, exit-entry, social insurance, hotels, banks) with distinct natural keys.",
        ])
        write_section("dossier", "Dossier read latency", body, started=started_at, machine_line=machine_line,
                      preliminary=not args.final)
    return 0


if __name__ == "__main__":
    sys.exit(main())
