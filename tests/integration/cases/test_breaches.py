"""Consumption-restriction breaches: a star-rated hotel stay after the order, reported by any
search of the debtor, is flagged in the dossier and alerted once, with the stay as evidence."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from connectors.sdk.registry import Registry
from enforcement.cases.breach_check import BreachCheck
from enforcement.cases.review import AnswerReviewer, DossierFlags
from enforcement.cases.store.alerts import AlertStore
from enforcement.cases.store.breach_check import BreachCheckStore
from enforcement.domain.identifiers import make_credit_code
from enforcement.domain.subjects import Subject
from enforcement.searches.service import SearchRequest, SearchService
from enforcement.searches.store.searches import SearchStore
from enforcement.searches.store.tasks import Success, TaskStore
from tests.integration.cases.helpers import JUDGE_A, World, make_world

PROPERTY = ("bank_account", "vehicle", "employment", "pension")


def stay(hotel: str, stars: int, checked_in: str, room: str = "1808") -> tuple[str, str, dict[str, Any]]:
    return ("hotel_stay", f"{hotel}:{checked_in}:{room}", {
        "hotel_name": hotel, "star_rating": stars, "address": "沈阳市", "checked_in_at": checked_in,
        "checked_out_at": None, "room": room})


STAYS = [
    stay("沈阳香格里拉大酒店", 5, "2025-04-02T20:15:00+08:00"),     # after the order, 5 stars: breach
    stay("汉庭酒店(沈阳中街店)", 0, "2025-04-10T21:00:00+08:00"),    # no stars
    stay("辽宁大厦", 4, "2025-02-20T19:00:00+08:00"),               # before the order
]


async def search_with_hotels(w: World, searches: SearchService, case_id: int, stays: list[Any]) -> UUID:
    debtor = w.debtors[case_id][0]
    subject = Subject.parse("person", debtor.id_number, debtor.name)
    submitted = await searches.submit(JUDGE_A, SearchRequest(case_id, subject, force_fresh=True))
    tasks = await w.pool.fetch("SELECT id, agency FROM agency_task WHERE search_id = $1", submitted.search_id)
    now = datetime.now(UTC)
    await TaskStore(w.pool).flush([Success(t["id"], {}, now, None, stays if t["agency"] == "hotels" else [])
                                   for t in tasks], [], worker_id=None)
    return submitted.search_id


def searches_of(w: World) -> SearchService:
    manifests = {n: spec.manifest for n, spec in Registry.discover().items()}
    service = SearchService(SearchStore(w.pool), manifests)
    service.annotators.append(DossierFlags(AlertStore(w.pool), PROPERTY).annotate)
    return service


async def test_a_star_rated_stay_after_the_order_is_alerted_once_and_flagged(pool: asyncpg.Pool) -> None:
    w = await make_world(pool)
    case_id = await w.case(JUDGE_A, date(2025, 1, 10))
    restriction = await w.event(case_id, "consumption_restriction_issued", date(2025, 3, 1))
    searches = searches_of(w)
    reviewer = AnswerReviewer(AlertStore(pool), PROPERTY)

    first = await search_with_hotels(w, searches, case_id, STAYS)
    assert await reviewer.review() == (1, 1)
    alert = await pool.fetchrow("SELECT kind, case_id, event_id, evidence FROM case_alert")
    assert (alert["kind"], alert["case_id"], alert["event_id"]) == ("consumption_breach", case_id,
                                                                      restriction.event["id"])
    assert alert["evidence"]["stay"]["hotel_name"] == "沈阳香格里拉大酒店"
    assert alert["evidence"]["stay"]["star_rating"] == 5
    assert alert["evidence"]["stay"]["search_id"] == str(first)
    assert alert["evidence"]["order"]["issued_on"] == "2025-03-01"
    assert "room" not in alert["evidence"]["stay"]

    # The dossier shows it at once, with the same evidence.
    row = await searches.store.get(first)
    view = await searches.render(row)
    assert [a["kind"] for a in view["alerts"]] == ["consumption_breach"]
    assert view["alerts"][0]["message"]["zh"].startswith("被执行人于2025-04-02入住5星级酒店")

    # The same stay reported again by a later search (asked afresh): still one alert.
    await search_with_hotels(w, searches, case_id, STAYS)
    assert await reviewer.review() == (1, 0)
    assert await pool.fetchval("SELECT count(*) FROM case_alert") == 1


async def test_stays_known_before_the_order_was_recorded_are_checked_when_it_is(pool: asyncpg.Pool) -> None:
    w = await make_world(pool)
    case_id = await w.case(JUDGE_A, date(2025, 1, 10))
    searches = searches_of(w)
    await search_with_hotels(w, searches, case_id, STAYS)
    assert await pool.fetchval("SELECT count(*) FROM answer_review") == 0  # no restriction yet: nothing to review
    assert await pool.fetchval("SELECT count(*) FROM case_alert") == 0
    await w.event(case_id, "consumption_restriction_issued", date(2025, 3, 1))
    assert await pool.fetchval("SELECT count(*) FROM case_alert WHERE kind = 'consumption_breach'") == 1


async def test_no_restriction_no_flag(pool: asyncpg.Pool) -> None:
    w = await make_world(pool)
    case_id = await w.case(JUDGE_A, date(2025, 1, 10))
    searches = searches_of(w)
    sid = await search_with_hotels(w, searches, case_id, STAYS)
    view = await searches.render(await searches.store.get(sid))
    assert view["alerts"] == []
    assert view["dossier"]["totals"]["hotel_stay"]["star_rated"] == 2


async def debtor_in_two_cases(w: World) -> tuple[int, int]:
    """Two cases of the same judge with the same person as their debtor."""
    case_a = await w.case(JUDGE_A, date(2025, 1, 10))
    case_b = await w.case(JUDGE_A, date(2025, 1, 12))
    debtor = w.debtors[case_a][0]
    await w.pool.execute("UPDATE case_party SET id_number = $1, name = $2 WHERE case_id = $3 AND role = 'debtor'",
                         debtor.id_number, debtor.name, case_b)
    w.debtors[case_b] = [debtor]
    return case_a, case_b


async def test_a_stay_found_for_one_case_breaches_only_that_cases_order(pool: asyncpg.Pool) -> None:
    """DOMAIN.md §6: results are used only for the case they were asked for. A debtor in two
    cases, each with an order; a search of case A shows a star-rated stay after both: one alert,
    on case A's order, and case A's dossier shows only that one."""
    w = await make_world(pool)
    case_a, case_b = await debtor_in_two_cases(w)
    order_a = await w.event(case_a, "consumption_restriction_issued", date(2025, 3, 1))
    await w.event(case_b, "consumption_restriction_issued", date(2025, 2, 1))
    searches = searches_of(w)
    sid = await search_with_hotels(w, searches, case_a, STAYS)
    assert await AnswerReviewer(AlertStore(pool), PROPERTY).review() == (1, 1)
    alerts = await pool.fetch("SELECT case_id, event_id FROM case_alert WHERE kind = 'consumption_breach'")
    assert [(a["case_id"], a["event_id"]) for a in alerts] == [(case_a, order_a.event["id"])]
    view = await searches.render(await searches.store.get(sid))
    assert [(a["kind"], a["case_id"]) for a in view["alerts"]] == [("consumption_breach", case_a)]


async def test_an_order_recorded_on_one_case_is_not_checked_against_another_cases_stays(
        pool: asyncpg.Pool) -> None:
    """The stays the service holds from a search of case B do not breach case A's order when it
    is recorded (they were asked for case B); they do breach case B's own order."""
    w = await make_world(pool)
    case_a, case_b = await debtor_in_two_cases(w)
    await search_with_hotels(w, searches_of(w), case_b, STAYS)
    await w.event(case_a, "consumption_restriction_issued", date(2025, 3, 1))
    assert await pool.fetchval("SELECT count(*) FROM case_alert") == 0
    order_b = await w.event(case_b, "consumption_restriction_issued", date(2025, 3, 1))
    alerts = await pool.fetch("SELECT case_id, event_id FROM case_alert WHERE kind = 'consumption_breach'")
    assert [(a["case_id"], a["event_id"]) for a in alerts] == [(case_b, order_b.event["id"])]


async def test_a_responsible_persons_held_stays_are_checked_when_an_order_is_recorded(pool: asyncpg.Pool) -> None:
    """An order recorded on an organization debtor binds its legal representative: the stays the
    service already holds about him from this case's searches are checked at once (as the
    debtor's are), and a breach is alerted on the organization's order."""
    w = await make_world(pool)
    case_id = await w.case(JUDGE_A, date(2025, 1, 10))
    rep = w.debtors[case_id][0]  # made a responsible person of the organization below
    org = await pool.fetchval(
        """UPDATE case_party SET kind = 'organization', id_number = $2, name = '沈阳某贸易有限公司'
           WHERE case_id = $1 AND role = 'debtor' RETURNING id""",
        case_id, make_credit_code("9", "1", "210102", "MA0YQ7N3"))
    await pool.execute("""INSERT INTO case_responsible_person (case_id, party_id, id_number, name, role)
                          VALUES ($1, $2, $3, $4, '法定代表人')""", case_id, org, rep.id_number, rep.name)
    await w.event(case_id, "consumption_restriction_issued", date(2025, 4, 5))  # after every stay
    searches = searches_of(w)
    manifests = {n: spec.manifest for n, spec in Registry.discover().items()}
    made = await BreachCheck(BreachCheckStore(pool), searches, manifests).check(JUDGE_A, case_id)
    [search] = made["searches"]
    tasks = await pool.fetch("SELECT id FROM agency_task WHERE search_id = $1", UUID(search["search_id"]))
    await TaskStore(pool).flush([Success(t["id"], {}, datetime.now(UTC), None, STAYS) for t in tasks], [],
                                worker_id=None)
    assert await AnswerReviewer(AlertStore(pool), PROPERTY).review() == (1, 0)  # nothing after that order
    earlier = await w.event(case_id, "consumption_restriction_issued", date(2025, 3, 1))
    [alert] = await pool.fetch("SELECT case_id, event_id, party_id, evidence FROM case_alert")
    assert (alert["case_id"], alert["event_id"], alert["party_id"]) == (case_id, earlier.event["id"], org)
    assert alert["evidence"]["stay"]["hotel_name"] == "沈阳香格里拉大酒店"
    assert alert["evidence"]["stay"]["search_id"] == search["search_id"]
    assert alert["evidence"]["bound_person"] == {"role": "法定代表人", "name": rep.name,
                                                 "debtor_name": "沈阳某贸易有限公司"}
