"""The database-wide gauges read the real queue: depth by state, the oldest due task's wait,
deferred answers outstanding and overdue, searches running; and a failing refresh is counted."""

from __future__ import annotations

import uuid

import asyncpg

from enforcement.kernel import metrics
from enforcement.searches.gauges import GaugeRefresher, observe_pool
from enforcement.searches.store.gauges import GaugeStore
from enforcement.searches.store.searches import AgencyPlan, NewSearch, SearchStore
from enforcement.searches.store.tasks import Settlement, TaskStore
from enforcement.seeds import seed


def sample(name: str, **labels: str) -> float | None:
    return metrics.REGISTRY.get_sample_value(name, labels)


async def make_search(pool: asyncpg.Pool, case_id: int, i: int, agencies: list[str]) -> uuid.UUID:
    sid = uuid.uuid4()
    await SearchStore(pool).create(NewSearch(
        id=sid, case_id=case_id, subject_kind="person", subject_id_number=f"2101021978051{i:05d}",
        subject_name="测试", subject_key=f"person:gauge-{i}", purpose="财产调查", requested_by="zhangwei",
        force_fresh=False, request_no=sid.hex[:20], case_number="（2026）辽0102执1号", court_code="辽0102",
        judge_name="张伟", judge_officer_id="1", document_number="doc",
        agencies=[AgencyPlan(a, 600.0, 0.0) for a in agencies],
    ))
    return sid


async def test_gauges_describe_the_queue(pool: asyncpg.Pool) -> None:
    case_id = next(iter((await seed(pool)).values()))
    for i in range(5):
        await make_search(pool, case_id, i, ["vehicles", "banks"])
    # vehicles: one task has waited two minutes, one is held by a dispatcher.
    tasks = TaskStore(pool)
    [held] = await tasks.claim("vehicles", "w1", 1, 60, 100)
    assert held.attempts == 1
    await pool.execute("""UPDATE agency_task SET due_at = now() - interval '120 seconds'
                          WHERE id = (SELECT min(id) FROM agency_task WHERE agency = 'vehicles'
                                      AND status = 'queued')""")
    # banks: four tickets; one past its deadline still waiting, one expired an hour ago,
    # one expired three days ago (no longer counted), one waiting in time.
    claimed = await tasks.claim("banks", "w1", 4, 60, 100)
    assert len(claimed) == 4
    await tasks.flush([], [Settlement(t.id, "waiting", ticket=f"T{t.id}", delay_seconds=600) for t in claimed],
                      worker_id="w1")
    ids = [t.id for t in claimed]
    await pool.execute("UPDATE agency_task SET deadline_at = now() - interval '10 minutes' WHERE id = $1", ids[0])
    await pool.execute("""UPDATE agency_task SET status = 'expired', deadline_at = now() - interval '1 hour',
                          finished_at = now() WHERE id = $1""", ids[1])
    await pool.execute("""UPDATE agency_task SET status = 'expired', deadline_at = now() - interval '3 days',
                          finished_at = now() WHERE id = $1""", ids[2])

    refresher = GaugeRefresher(GaugeStore(pool), ["vehicles", "banks", "hotels"], pool=pool)
    assert await refresher.refresh() is True

    assert sample("enforcement_agency_queue_depth", agency="vehicles", state="queued") == 4
    assert sample("enforcement_agency_queue_depth", agency="vehicles", state="running") == 1
    assert sample("enforcement_agency_queue_depth", agency="banks", state="waiting") == 2
    assert sample("enforcement_agency_queue_depth", agency="banks", state="queued") == 1
    age = sample("enforcement_agency_queue_oldest_age_seconds", agency="vehicles")
    assert age is not None and 119 <= age < 180
    assert sample("enforcement_agency_deferred_outstanding", agency="banks") == 2
    assert sample("enforcement_agency_deferred_overdue", agency="banks") == 2
    assert sample("enforcement_agency_deferred_overdue", agency="vehicles") == 0
    # An agency with nothing queued reads 0, not a stale or missing value.
    assert sample("enforcement_agency_queue_depth", agency="hotels", state="queued") == 0
    assert sample("enforcement_searches_running") == 5
    assert (sample("enforcement_gauge_refresh_last_success_timestamp_seconds") or 0) > 0
    in_use = sample("enforcement_db_pool_connections", state="in_use")
    idle = sample("enforcement_db_pool_connections", state="idle")
    assert in_use is not None and idle is not None and in_use + idle == pool.get_size()
    assert sample("enforcement_db_pool_max_connections") == pool.get_max_size()

    # Once the work is done, the gauges fall back to zero.
    await pool.execute("UPDATE agency_task SET status = 'succeeded', finished_at = now() WHERE status <> 'expired'")
    await pool.execute("UPDATE search SET status = 'completed', completed_at = now()")
    assert await refresher.refresh() is True
    assert sample("enforcement_agency_queue_depth", agency="vehicles", state="queued") == 0
    assert sample("enforcement_agency_queue_oldest_age_seconds", agency="vehicles") == 0
    assert sample("enforcement_agency_deferred_outstanding", agency="banks") == 0
    assert sample("enforcement_agency_deferred_overdue", agency="banks") == 1  # expired an hour ago
    assert sample("enforcement_searches_running") == 0


async def test_a_failing_source_is_counted_and_the_others_still_run(pool: asyncpg.Pool) -> None:
    ran: list[str] = []

    async def broken() -> None:
        raise RuntimeError("boom")

    async def fine() -> None:
        ran.append("fine")

    refresher = GaugeRefresher(GaugeStore(pool), ["vehicles"])
    refresher.add_source("broken", broken)
    refresher.add_source("fine", fine)
    before = sample("enforcement_gauge_refresh_failures_total") or 0.0
    assert await refresher.refresh() is False
    assert ran == ["fine"]
    assert sample("enforcement_gauge_refresh_failures_total") == before + 1


class FakePool:
    def get_size(self) -> int:
        return 7

    def get_idle_size(self) -> int:
        return 3

    def get_max_size(self) -> int:
        return 20


def test_pool_gauges_split_in_use_and_idle() -> None:
    observe_pool(FakePool())
    assert sample("enforcement_db_pool_connections", state="in_use") == 4
    assert sample("enforcement_db_pool_connections", state="idle") == 3
    assert sample("enforcement_db_pool_max_connections") == 20


async def test_the_audit_chain_watch_reports_a_break(pool: asyncpg.Pool) -> None:
    from enforcement.domain.audit import AuditEntry
    from enforcement.kernel.audit import AuditLog
    from enforcement.searches.gauges import AuditChainWatch

    audit = AuditLog(b"ops-test-audit-chain-key-0123456789abcdef")
    for i in range(3):
        await audit.record(pool, AuditEntry(action="dossier_read", actor_login="zhangwei", actor_role="judge",
                                            target=f"search-{i}", details={"i": i}))
    assert (await audit.chain_pending(pool)).chained == 3  # as the app's chainer does
    watch = AuditChainWatch(audit, pool, interval_seconds=3600)
    assert await watch.check() is True
    assert sample("enforcement_audit_chain_broken") == 0
    verified = sample("enforcement_audit_chain_last_verified_timestamp_seconds")
    assert verified is not None and verified > 0
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")  # a superuser, triggers off
        await conn.execute("UPDATE audit_log SET target = 'search-x' WHERE seq = 2")
    assert await watch.check() is False
    assert sample("enforcement_audit_chain_broken") == 1


async def test_the_audit_watch_reports_records_waiting_for_their_place_in_the_chain(pool: asyncpg.Pool) -> None:
    """Records written but not chained: the gauge says how long the oldest has waited (on every
    refresh tick); past the threshold, the verification says the chain stalled (the chain itself
    is intact: enforcement_audit_chain_broken stays 0)."""
    from enforcement.domain.audit import AuditEntry
    from enforcement.kernel.audit import AuditLog
    from enforcement.searches.gauges import AuditChainWatch

    audit = AuditLog(b"ops-test-audit-chain-key-0123456789abcdef")
    watch = AuditChainWatch(audit, pool, interval_seconds=3600)
    refresher = GaugeRefresher(GaugeStore(pool), ["banks"], interval_seconds=3600)
    refresher.add_source("audit_backlog", watch.observe_backlog)
    assert await refresher.refresh() is True
    assert sample("enforcement_audit_unchained_oldest_age_seconds") == 0
    await audit.record(pool, AuditEntry(action="dossier_read", actor_login="zhangwei", actor_role="judge"))
    await pool.execute("SELECT pg_sleep(0.2)")
    assert await refresher.refresh() is True
    waited = sample("enforcement_audit_unchained_oldest_age_seconds")
    assert waited is not None and 0.2 <= waited < 30
    assert await watch.check() is True  # young: not a problem yet

    class Strict(AuditLog):  # the same verification with a threshold of 0.1 s
        async def verify(self, conn, **kw):  # type: ignore[no-untyped-def]
            return await super().verify(conn, stale_after=0.1, **kw)

    strict = AuditChainWatch(Strict(b"ops-test-audit-chain-key-0123456789abcdef"), pool)
    assert await strict.check() is False
    assert sample("enforcement_audit_chain_broken") == 0
    assert await audit.chain_pending(pool) is not None
    assert await refresher.refresh() is True
    assert sample("enforcement_audit_unchained_oldest_age_seconds") == 0
    assert await strict.check() is True
