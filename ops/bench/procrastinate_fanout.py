"""The same fan-out on a PostgreSQL job queue a Python team would pick instead of writing one:
procrastinate (psycopg 3), on the benchmark's embedded PostgreSQL (a database of its own in it).

One search = five jobs (``bench.ask_agency``, one per agency) and a completion job
(``bench.merge_dossier``) that merges the dossier. procrastinate has no chord, so the completion
is built the way its users build one: each agency job stores its answer and bumps a counter row
of the search in ONE statement (an insert of the answer whose success increments
``bench_search.answered``: atomic, and a retried job whose answer is already stored does not
count twice); the job that brings the counter to five defers the completion job. This mirrors the
Celery chord (whose last task to finish, found by a counter in Redis, sends the callback) and
keeps the merge a job of its own, retried on its own. The defer happens after the counter's
commit, as ``defer_async`` takes its own connection: a worker killed between the two leaves a
search without its completion (a user would add a sweeper; a benchmark does not need one).

Configuration (fanout.py starts it): ``procrastinate --app procrastinate_fanout.app worker
--concurrency N`` processes (asyncio jobs, one psycopg pool each, LISTEN/NOTIFY on, default
polling), every agency call through the project's own connector on one aiohttp session per
worker process (the same HTTP code as the service's, connections reused), JSON job arguments.

Environment: ``BENCH_PROCRASTINATE_DSN`` (libpq connection string), ``BENCH_AGENCY_URLS`` (JSON:
agency -> URL), ``BENCH_PROCRASTINATE_POOL`` (connections per worker process, default 8).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import procrastinate
from psycopg.types.json import Jsonb

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

POOL = int(os.environ.get("BENCH_PROCRASTINATE_POOL", "8"))
app = procrastinate.App(
    connector=procrastinate.PsycopgConnector(conninfo=os.environ.get("BENCH_PROCRASTINATE_DSN", ""),
                                             min_size=1, max_size=POOL),
)

# the benchmark's own tables beside procrastinate's (procrastinate stores no job results)
TABLES = """
CREATE TABLE IF NOT EXISTS bench_search (
    id uuid PRIMARY KEY,
    answered int NOT NULL DEFAULT 0,
    entries int,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);
CREATE TABLE IF NOT EXISTS bench_answer (
    search_id uuid NOT NULL REFERENCES bench_search (id),
    agency text NOT NULL,
    answer jsonb NOT NULL,
    PRIMARY KEY (search_id, agency)
);
"""

STORE_AND_COUNT = """
WITH stored AS (
    INSERT INTO bench_answer (search_id, agency, answer) VALUES (%(search_id)s, %(agency)s, %(answer)s)
    ON CONFLICT DO NOTHING RETURNING search_id
)
UPDATE bench_search SET answered = answered + 1 WHERE id = (SELECT search_id FROM stored) RETURNING answered
"""

_state: dict[str, Any] = {}


async def _connectors() -> dict[str, Any]:
    """One aiohttp session and the five connectors per worker process, made in its event loop."""
    if "conns" not in _state:
        import aiohttp
        from agency_calls import connectors

        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))
        _state["conns"] = connectors(json.loads(os.environ["BENCH_AGENCY_URLS"]), session)
    return _state["conns"]


@app.task(name="bench.ask_agency", pass_context=True)
async def ask_agency(context: procrastinate.JobContext, search_id: str, agency: str, person: list[str]) -> None:
    from agency_calls import ask, request_for, result_to_json

    conns = await _connectors()
    result = await ask(conns[agency], request_for(search_id, agency, person))
    answer = Jsonb({"agency": agency, **result_to_json(result)})
    row = await _store_and_count(context.app, search_id, agency, answer)
    if row is not None and row[0] == len(conns):
        await merge_dossier.defer_async(search_id=search_id)


async def _store_and_count(procr: procrastinate.App, search_id: str, agency: str, answer: Any) -> Any:
    connector = procr.connector
    assert isinstance(connector, procrastinate.PsycopgConnector)
    async with connector.pool.connection() as conn, conn.cursor() as cur:
        await cur.execute(STORE_AND_COUNT, {"search_id": search_id, "agency": agency, "answer": answer})
        return await cur.fetchone()


@app.task(name="bench.merge_dossier", pass_context=True)
async def merge_dossier(context: procrastinate.JobContext, search_id: str) -> None:
    from agency_calls import dossier_from_json

    connector = context.app.connector
    assert isinstance(connector, procrastinate.PsycopgConnector)
    async with connector.pool.connection() as conn:
        cur = await conn.execute("SELECT answer FROM bench_answer WHERE search_id = %s", (search_id,))
        answers = [r[0] for r in await cur.fetchall()]
        merged = dossier_from_json(answers)
        await conn.execute("UPDATE bench_search SET completed_at = now(), entries = %s WHERE id = %s",
                           (merged["entry_count"], search_id))


__all__ = ["STORE_AND_COUNT", "TABLES", "app", "ask_agency", "merge_dossier"]
