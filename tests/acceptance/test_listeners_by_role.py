"""Which processes LISTEN to which channel (issue 19), and on how many connections. PostgreSQL
signals every listening backend of the database on every NOTIFY, whatever its channels: a
channel a process does not need costs the database a round per notification in every such
process, and so does every extra listening connection. The audit chainers: each submission's
``audit_pending`` woke the chainer of every process, API and workers, and all but one found the
chain head taken (at 4 workers, ~5 statements a search). Only the processes serving the API listen
now; a worker chains on its interval. And each process listens on one connection (decision 1935):
with one per channel, a worker's three and the API's two made five backends to wake per
notification with one worker, fourteen with four."""

from __future__ import annotations

import asyncio
from typing import Any

from enforcement.api.keys import POOL
from enforcement.kernel.notify import APPLICATION_NAME, LISTENER


async def settled(api: Any) -> list[str]:
    pool = api.app[POOL]
    for _ in range(40):  # the listener connects in the background at its first subscription
        if await pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                               APPLICATION_NAME):
            break
        await asyncio.sleep(0.05)
    return sorted(api.app[LISTENER].channels)


async def listening_backends(api: Any) -> int:
    n: int = await api.app[POOL].fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
        APPLICATION_NAME)
    return n


async def test_a_process_listens_on_one_connection_whatever_its_channels(make_api: Any) -> None:
    api = await make_api(role="all")
    heard = await settled(api)
    assert {"agency_tasks", "audit_pending", "answer_review", "search_events"} <= set(heard)
    assert await listening_backends(api) == 1


async def test_a_worker_does_not_listen_for_audit_records(make_api: Any) -> None:
    api = await make_api(role="worker")
    heard = await settled(api)
    assert "agency_tasks" in heard  # its dispatcher does
    assert "audit_pending" not in heard
    assert await listening_backends(api) == 1


async def test_the_api_listens_for_audit_records(make_api: Any) -> None:
    api = await make_api(role="api")
    assert "audit_pending" in await settled(api)


async def test_a_worker_lifecycle_listens_for_answer_reviews_not_for_every_search_event(make_api: Any) -> None:
    # search_events woke every worker's lifecycle tick (about seven statements) for each search;
    # what the tick must do promptly is review the answers the trigger queued (migration 0026).
    api = await make_api(role="worker")
    heard = await settled(api)
    assert "answer_review" in heard
    assert "search_events" not in heard
