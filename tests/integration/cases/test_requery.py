"""The six-monthly re-query with a controllable clock: due debtors are searched once, not twice
(even by two schedulers at once, even after a restart), new property raises exactly one alert,
and two empty re-queries make the dishonest listing's removal due within three working days.

Agency answers are stored through ``TaskStore.flush``, the path the dispatcher and the agency
callbacks use, with records chosen by the test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from connectors.sdk.registry import Registry
from enforcement.cases.requery import RequeryConfig, RequeryScheduler
from enforcement.cases.review import AnswerReviewer
from enforcement.cases.store.alerts import AlertStore
from enforcement.cases.store.requery import RequeryStore
from enforcement.domain.subjects import Subject
from enforcement.searches.service import SearchRequest, SearchService
from enforcement.searches.store.searches import SearchStore
from enforcement.searches.store.tasks import Success, TaskStore
from tests.integration.cases.helpers import JUDGE_A, World, make_world

PROPERTY = ("bank_account", "vehicle", "employment", "pension", "real_estate", "securities_holding")


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def set_day(self, d: date) -> None:
        self.at = datetime(d.year, d.month, d.day, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


def services(w: World, clock: Callable[[], datetime]) -> tuple[SearchService, RequeryScheduler, AnswerReviewer]:
    manifests = {n: spec.manifest for n, spec in Registry.discover().items()}
    searches = SearchService(SearchStore(w.pool, w.audit), manifests)
    scheduler = RequeryScheduler(RequeryStore(w.pool), searches, RequeryConfig(), now=clock)
    return searches, scheduler, AnswerReviewer(AlertStore(w.pool), PROPERTY)


async def answer(pool: asyncpg.Pool, search_id: UUID, records: dict[str, list[tuple[str, str, dict[str, Any]]]]
                 ) -> None:
    """Every agency of the search answers: with the given records, or an empty answer (查无信息)."""
    tasks = await pool.fetch("SELECT id, agency FROM agency_task WHERE search_id = $1", search_id)
    now = datetime.now(UTC)
    await TaskStore(pool).flush([Success(t["id"], {"sim": True}, now, None, records.get(t["agency"], []))
                                 for t in tasks], [], worker_id=None)


async def zhongben_case(w: World, closed_on: date) -> int:
    case_id = await w.case(JUDGE_A, date(2024, 1, 10))
    await w.complete_zhongben_file(case_id, date(2024, 3, 1))
    await w.event(case_id, "closed", closed_on, mode="终结本次执行程序")
    return case_id


async def test_due_debtors_are_searched_once_and_new_property_raises_one_alert(pool: asyncpg.Pool) -> None:
    w = await make_world(pool)
    case_id = await w.case(JUDGE_A, date(2024, 1, 10))
    debtor = w.debtors[case_id][0]
    clock = Clock(datetime(2024, 3, 1, tzinfo=UTC))
    searches, scheduler, reviewer = services(w, clock)
    # Before closure the judge searched: one vehicle known (worthless, already seized).
    subject = Subject.parse("person", debtor.id_number, debtor.name)
    before = await searches.submit(JUDGE_A, SearchRequest(case_id, subject))
    await answer(pool, before.search_id, {"vehicles": [("vehicle", "VIN-OLD", {"plate": "辽A12345"})]})
    await w.complete_zhongben_file(case_id, date(2024, 3, 1))
    await w.event(case_id, "closed", date(2024, 6, 1), mode="终结本次执行程序")

    rounds = await pool.fetch(
        "SELECT round, due_on, run_on, status FROM requery_round WHERE case_id = $1 ORDER BY round", case_id)
    # 2024-06-01 + 182 x k, k = 1..10 (the 10th, 2029-05-27, is within five years)
    assert [r["due_on"] for r in rounds] == [date(2024, 6, 1) + timedelta(days=182 * k) for k in range(1, 11)]
    assert {r["status"] for r in rounds} == {"pending"}

    clock.set_day(rounds[0]["run_on"] - timedelta(days=1))
    assert await scheduler.submit_due(20) == []  # not yet
    clock.set_day(rounds[0]["due_on"])
    # Two schedulers (two workers) at the same moment: one search between them.
    other = RequeryScheduler(RequeryStore(w.pool), searches, RequeryConfig(), now=clock)
    got = await asyncio.gather(scheduler.submit_due(20), other.submit_due(20))
    assert sum(len(g) for g in got) == 1
    # Again, and after a "restart" (a new scheduler on the same database): nothing more.
    assert await scheduler.submit_due(20) == []
    restarted = RequeryScheduler(RequeryStore(w.pool), searches, RequeryConfig(), now=clock)
    assert await restarted.submit_due(20) == []
    requery_id = next(s for g in got for s in g)
    row = await pool.fetchrow("SELECT purpose, requested_by, force_fresh FROM search WHERE id = $1", requery_id)
    assert dict(row) == {"purpose": "终本复查", "requested_by": "system:requery", "force_fresh": True}
    audited = await pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'search' AND actor_role = 'system' AND target = $1",
        str(requery_id))
    assert audited == 1

    # The vehicle is known; a bank account and an employment are new. Two agencies bring new property.
    await answer(pool, requery_id, {
        "vehicles": [("vehicle", "VIN-OLD", {"plate": "辽A12345"})],
        "banks": [("bank_account", "6222020000000001", {"bank": "工商银行", "balance": "52000.00"})],
        "social_insurance": [("employment", "91210102MA0T5K3L2X", {"employer": "某公司"})],
    })
    assert await reviewer.review() == (3, 1)  # three non-empty answers reviewed, one alert
    assert await reviewer.review() == (0, 0)
    alerts = await pool.fetch("SELECT kind, case_id, search_id, evidence FROM case_alert")
    assert len(alerts) == 1
    assert (alerts[0]["kind"], alerts[0]["case_id"], alerts[0]["search_id"]) == ("new_property", case_id, requery_id)
    assert sorted(a["natural_key"] for a in alerts[0]["evidence"]["assets"]) == [
        "6222020000000001", "91210102MA0T5K3L2X"]

    done = await scheduler.complete()
    assert [(d.round, d.new_assets) for d in done] == [(1, 2)]
    assert await pool.fetchval("SELECT count(*) FROM case_alert WHERE kind = 'dishonest_removal_due'") == 0

    # Resuming the case resolves the alert and cancels the remaining rounds.
    await w.event(case_id, "resumed", date(2024, 12, 10), new_case_number="（2024）辽0102执恢1号")
    assert await pool.fetchval("SELECT status FROM case_alert") == "resolved"
    statuses = await pool.fetch("SELECT status, count(*) FROM requery_round WHERE case_id = $1 GROUP BY status",
                                case_id)
    assert {r["status"]: r["count"] for r in statuses} == {"done": 1, "cancelled": 9}


async def test_two_empty_requeries_make_the_delisting_due_in_three_working_days(pool: asyncpg.Pool) -> None:
    w = await make_world(pool)
    case_id = await zhongben_case(w, date(2024, 6, 1))  # dishonest_listed in the complete file
    clock = Clock(datetime(2024, 6, 1, tzinfo=UTC))
    _, scheduler, reviewer = services(w, clock)
    for due in (date(2024, 11, 30), date(2025, 5, 31)):
        clock.set_day(due)
        (sid,) = await scheduler.submit_due(20)
        await answer(pool, sid, {})  # 查无信息 everywhere
        await reviewer.review()
        clock.at += timedelta(days=1)
        assert len(await scheduler.complete()) == 1
    # The second empty re-query completed on Sunday 2025-06-01 (Beijing); Monday 2 June is the
    # Dragon Boat holiday (official calendar): Tue 3, Wed 4, Thu 5 June.
    alert = await pool.fetchrow("SELECT kind, due_on, evidence FROM case_alert")
    assert alert["kind"] == "dishonest_removal_due"
    assert alert["due_on"] == date(2025, 6, 5)
    assert alert["evidence"]["empty_requeries_completed_on"] == ["2024-12-01", "2025-06-01"]
    await w.event(case_id, "dishonest_delisted", date(2025, 6, 3))
    assert await pool.fetchval("SELECT status FROM case_alert") == "resolved"


async def test_a_new_lead_after_closure_keeps_the_listing(pool: asyncpg.Pool) -> None:
    w = await make_world(pool)
    case_id = await zhongben_case(w, date(2024, 6, 1))
    await w.event(case_id, "applicant_lead_received", date(2024, 8, 1))
    clock = Clock(datetime(2024, 6, 1, tzinfo=UTC))
    _, scheduler, _ = services(w, clock)
    for due in (date(2024, 11, 30), date(2025, 5, 31)):
        clock.set_day(due)
        (sid,) = await scheduler.submit_due(20)
        await answer(pool, sid, {})
        await scheduler.complete()
    assert await pool.fetchval("SELECT count(*) FROM case_alert") == 0


async def test_a_worker_away_for_a_year_searches_once_and_records_the_missed_round(pool: asyncpg.Pool) -> None:
    w = await make_world(pool)
    case_id = await zhongben_case(w, date(2024, 6, 1))
    clock = Clock(datetime(2024, 6, 1, tzinfo=UTC))
    _, scheduler, _ = services(w, clock)
    clock.set_day(date(2025, 6, 2))  # round 1 (2024-11-30) window passed; round 2 (2025-05-31) is due
    assert len(await scheduler.submit_due(20)) == 1
    rows = await pool.fetch("SELECT round, status FROM requery_round WHERE case_id = $1 AND round <= 3 ORDER BY round",
                            case_id)
    assert [(r["round"], r["status"]) for r in rows] == [(1, "missed"), (2, "submitted"), (3, "pending")]


async def test_the_budget_caps_a_tick(pool: asyncpg.Pool) -> None:
    w = await make_world(pool)
    for _ in range(5):
        await zhongben_case(w, date(2024, 6, 1))
    clock = Clock(datetime(2024, 11, 30, 1, tzinfo=UTC))
    _, scheduler, _ = services(w, clock)
    assert len(await scheduler.submit_due(2)) == 2
    assert len(await scheduler.submit_due(2)) == 2
    assert len(await scheduler.submit_due(2)) == 1
    assert await pool.fetchval("SELECT count(*) FROM search WHERE purpose = '终本复查'") == 5


async def test_the_requery_asks_every_installed_agency_and_counts_real_estate_and_securities(
        pool: asyncpg.Pool) -> None:
    """Real estate (the plug-in, where installed) and securities (中国结算) are searched in every
    round, and what they find for the first time is new property."""
    w = await make_world(pool)
    await zhongben_case(w, date(2024, 6, 1))
    clock = Clock(datetime(2024, 11, 30, tzinfo=UTC))
    _, scheduler, reviewer = services(w, clock)
    (sid,) = await scheduler.submit_due(20)
    installed = set(Registry.discover())
    assert {"real_estate", "securities"} <= installed, "make demo / make test install the real estate plug-in"
    asked = {r["agency"] for r in await pool.fetch("SELECT agency FROM agency_task WHERE search_id = $1", sid)}
    assert asked == installed
    await answer(pool, sid, {
        "real_estate": [("real_estate", "210102001001GB00001F00010001", {"address": "沈阳市和平区南京北街1号"})],
        "securities": [("securities_holding", "SH:A123456789:600519", {"market_value": "457050.00"})],
    })
    assert await reviewer.review() == (2, 1)
    evidence = await pool.fetchval("SELECT evidence FROM case_alert WHERE kind = 'new_property'")
    assert sorted(a["kind"] for a in evidence["assets"]) == ["real_estate", "securities_holding"]
    assert [(d.round, d.new_assets) for d in await scheduler.complete()] == [(1, 2)]


async def test_without_the_plugin_the_requery_asks_the_agencies_there_are(pool: asyncpg.Pool) -> None:
    w = await make_world(pool)
    case_id = await zhongben_case(w, date(2024, 6, 1))
    clock = Clock(datetime(2024, 11, 30, tzinfo=UTC))
    without = Registry.discover().only(n for n in Registry.discover() if n != "real_estate")
    searches = SearchService(SearchStore(w.pool, w.audit), {n: spec.manifest for n, spec in without.items()})
    scheduler = RequeryScheduler(RequeryStore(w.pool), searches, RequeryConfig(), now=clock)
    (sid,) = await scheduler.submit_due(20)
    asked = {r["agency"] for r in await pool.fetch("SELECT agency FROM agency_task WHERE search_id = $1", sid)}
    assert asked == set(without) and "securities" in asked and "real_estate" not in asked
    assert case_id == await pool.fetchval("SELECT case_id FROM search WHERE id = $1", sid)


# -- issue 16: "found nothing" is no property at all; the judge's own searches count too ---------

async def test_requeries_that_find_known_property_do_not_count_as_finding_nothing(pool: asyncpg.Pool) -> None:
    w = await make_world(pool)
    case_id = await w.case(JUDGE_A, date(2024, 1, 10))
    debtor = w.debtors[case_id][0]
    clock = Clock(datetime(2024, 3, 1, tzinfo=UTC))
    searches, scheduler, reviewer = services(w, clock)
    before = await searches.submit(JUDGE_A, SearchRequest(case_id, Subject.parse("person", debtor.id_number,
                                                                                  debtor.name)))
    known = {"vehicles": [("vehicle", "VIN-OLD", {"plate": "辽A12345"})]}
    await answer(pool, before.search_id, known)
    await w.complete_zhongben_file(case_id, date(2024, 3, 1))
    await w.event(case_id, "closed", date(2024, 6, 1), mode="终结本次执行程序")
    for due in (date(2024, 11, 30), date(2025, 5, 31)):
        clock.set_day(due)
        (sid,) = await scheduler.submit_due(20)
        await answer(pool, sid, known)  # the same vehicle again: nothing new, but not nothing
        await reviewer.review()
        clock.at += timedelta(days=1)
        assert len(await scheduler.complete()) == 1
    assert await pool.fetchval("SELECT count(*) FROM case_alert WHERE kind = 'dishonest_removal_due'") == 0


async def test_the_judges_own_post_closure_searches_count_toward_removal(pool: asyncpg.Pool) -> None:
    w = await make_world(pool)
    case_id = await zhongben_case(w, date(2025, 6, 3))
    clock = Clock(datetime(2025, 10, 1, tzinfo=UTC))
    _, scheduler, _ = services(w, clock)
    # Two full network searches by the judge (总对总, recorded), both finding nothing; the second
    # on Friday 2025-09-26: + 3 working days by the official calendar (Sunday 09-28 is worked) = 09-30
    for on in (date(2025, 7, 1), date(2025, 9, 26)):
        for category in ("deposits", "vehicles", "real_estate", "securities"):
            await w.event(case_id, "network_search_recorded", on, JUDGE_A, category=category, found=False)
    assert await scheduler.check_removals() == 1
    alert = await pool.fetchrow("SELECT due_on, evidence FROM case_alert WHERE kind = 'dishonest_removal_due'")
    assert alert["due_on"] == date(2025, 9, 30)
    assert [x["source"] for x in alert["evidence"]["empty_searches"]] == ["judge", "judge"]


async def test_property_another_case_found_first_is_still_new_to_this_case(pool: asyncpg.Pool) -> None:
    """The same debtor in two cases: case B's judge searched first and found the account; case A's
    re-query then finds it too. Results serve their own case (DOMAIN.md §6): the account is new to
    case A, so case A gets its alert, its round counts it, and A's dossier marks it new."""
    w = await make_world(pool)
    case_a = await w.case(JUDGE_A, date(2024, 1, 10))
    debtor = w.debtors[case_a][0]
    case_b = await w.case(JUDGE_A, date(2024, 2, 10))
    await pool.execute("INSERT INTO case_party (case_id, role, kind, id_number, name) "
                       "VALUES ($1, 'debtor', 'person', $2, $3)", case_b, debtor.id_number, debtor.name)
    clock = Clock(datetime(2024, 3, 1, tzinfo=UTC))
    searches, scheduler, reviewer = services(w, clock)
    subject = Subject.parse("person", debtor.id_number, debtor.name)
    account = ("bank_account", "6222020000000009", {"bank": "工商银行", "balance": "80000.00"})

    in_b = await searches.submit(JUDGE_A, SearchRequest(case_b, subject))
    await answer(pool, in_b.search_id, {"banks": [account]})
    await w.complete_zhongben_file(case_a, date(2024, 3, 1))
    await w.event(case_a, "closed", date(2024, 6, 1), mode="终结本次执行程序")
    clock.set_day(date(2024, 6, 1) + timedelta(days=182))
    [requery_id] = await scheduler.submit_due(20)
    await answer(pool, requery_id, {"banks": [account]})

    assert await reviewer.review() == (1, 1)
    alert = await pool.fetchrow("SELECT case_id, search_id, evidence FROM case_alert WHERE kind = 'new_property'")
    assert alert is not None and (alert["case_id"], alert["search_id"]) == (case_a, requery_id)
    assert [a["natural_key"] for a in alert["evidence"]["assets"]] == ["6222020000000009"]
    assert [(d.round, d.new_assets) for d in await scheduler.complete()] == [(1, 1)]
    store = SearchStore(pool, w.audit)
    records_a = await store.records(requery_id)
    records_b = await store.records(in_b.search_id)
    assert [r.is_new for r in records_a] == [True] and [r.is_new for r in records_b] == [True]


async def test_answers_queued_for_review_wake_the_lifecycle_and_other_answers_do_not(pool: asyncpg.Pool) -> None:
    """The lifecycle worker listens on ``answer_review`` (migration 0026), raised by the trigger that
    queues answers for review, and only when it queued one: a judge's search of a debtor under no
    restriction, or a re-query that found nothing, wakes no lifecycle tick."""
    w = await make_world(pool)
    case_id = await w.case(JUDGE_A, date(2024, 1, 10))
    debtor = w.debtors[case_id][0]
    clock = Clock(datetime(2024, 3, 1, tzinfo=UTC))
    searches, scheduler, _ = services(w, clock)
    heard: list[str] = []
    listener = await pool.acquire()

    def on_notify(_c: Any, _p: int, _ch: str, payload: str) -> None:
        heard.append(payload)

    await listener.add_listener("answer_review", on_notify)

    async def notified() -> int:
        await listener.execute("SELECT 1")  # notifications are delivered between statements
        await asyncio.sleep(0.2)
        await listener.execute("SELECT 1")
        return len(heard)

    try:
        subject = Subject.parse("person", debtor.id_number, debtor.name)
        before = await searches.submit(JUDGE_A, SearchRequest(case_id, subject))
        await answer(pool, before.search_id, {"vehicles": [("vehicle", "VIN-1", {"plate": "辽A12345"})]})
        assert await notified() == 0  # not queued: no review, no wake
        await w.complete_zhongben_file(case_id, date(2024, 3, 1))
        await w.event(case_id, "closed", date(2024, 6, 1), mode="终结本次执行程序")
        clock.set_day(date(2024, 6, 1) + timedelta(days=182))
        [requery_id] = await scheduler.submit_due(20)
        await answer(pool, requery_id, {"banks": [("bank_account", "6222020000000001", {"bank": "工商银行"})]})
        assert await notified() == 1  # queued for review: one wake for the flush
        assert await pool.fetchval("SELECT count(*) FROM answer_review") == 1
    finally:
        await listener.remove_listener("answer_review", on_notify)
        await pool.release(listener)
