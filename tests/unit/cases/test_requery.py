"""The re-query against an in-memory store and a fake search port: the searches are made through
the port inside the store's transaction, one per debtor, and what cannot be searched is missed."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from enforcement.cases.requery import PURPOSE, REQUESTED_BY, RequeryConfig, RequeryScheduler
from enforcement.cases.store.requery import DueRound
from enforcement.domain.errors import DomainError
from enforcement.searches.port import SearchPort, SystemSearch, SystemSearchMade, TransactionHandle
from tests.unit.cases.fakes import FakeRequeryStore

NOW = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 09:00 in Beijing, 2026-06-01
DEBTOR = "210102197805141353"
OTHER = "210102198001011234"


class NoAgency(DomainError):
    """No connected agency answers for this kind of subject."""

    code = "no_agency"


class FakePort:
    """Records what it was asked, with the transaction handle it was given."""

    def __init__(self, *, refuse: frozenset[int] = frozenset(), fail: bool = False) -> None:
        self.asked: list[tuple[TransactionHandle, SystemSearch]] = []
        self.refuse = refuse
        self.fail = fail

    async def submit_system(self, tx: TransactionHandle, request: SystemSearch) -> SystemSearchMade:
        if self.fail:
            raise RuntimeError("the database went away")
        if request.case_id in self.refuse:
            raise NoAgency()
        self.asked.append((tx, request))
        return SystemSearchMade(uuid.uuid4())


def rnd(i: int, case_id: int, party_id: int, n: int, id_number: str = DEBTOR) -> DueRound:
    return DueRound(i, case_id, party_id, n, date(2026, 5, 20), date(2026, 5, 25), "person", id_number, "赵建国")


def scheduler(store: FakeRequeryStore, port: SearchPort) -> RequeryScheduler:
    return RequeryScheduler(store, port, RequeryConfig(), now=lambda: NOW)  # type: ignore[arg-type]


async def test_each_due_round_is_searched_through_the_port_in_the_stores_transaction() -> None:
    store = FakeRequeryStore([rnd(1, 7, 11, 1), rnd(2, 8, 12, 1, OTHER)])
    port = FakePort()
    made = await scheduler(store, port).submit_due(20)
    assert len(made) == 2
    (tx,) = store.committed
    assert [handle for handle, _ in port.asked] == [tx.handle, tx.handle]  # the store's own transaction
    first = port.asked[0][1]
    assert (first.case_id, first.subject.id_number, first.purpose, first.requested_by) == (
        7, DEBTOR, PURPOSE, REQUESTED_BY)
    assert first.details == {"requery_round": 1, "due_on": "2026-05-20"}
    assert tx.submitted == [(1, made[0]), (2, made[1])]
    assert tx.missed == []


async def test_only_the_latest_due_round_of_a_debtor_is_searched() -> None:
    store = FakeRequeryStore([rnd(1, 7, 11, 1), rnd(2, 7, 11, 2), rnd(3, 7, 11, 3)])
    port = FakePort()
    made = await scheduler(store, port).submit_due(20)
    assert len(made) == 1 and len(port.asked) == 1
    (tx,) = store.committed
    assert [r for r, _ in tx.submitted] == [3]
    assert sorted(tx.missed) == [1, 2]


async def test_a_round_the_port_cannot_search_is_missed() -> None:
    store = FakeRequeryStore([rnd(1, 7, 11, 1), rnd(2, 8, 12, 1, OTHER)])
    port = FakePort(refuse=frozenset({7}))
    made = await scheduler(store, port).submit_due(20)
    (tx,) = store.committed
    assert [r for r, _ in tx.submitted] == [2] and len(made) == 1
    assert tx.missed == [1]


async def test_a_failure_in_the_port_rolls_the_whole_tick_back() -> None:
    store = FakeRequeryStore([rnd(1, 7, 11, 1)])
    with pytest.raises(RuntimeError):
        await scheduler(store, FakePort(fail=True)).submit_due(20)
    assert store.committed == [] and len(store.rolled_back) == 1
    assert store.rolled_back[0].submitted == []


async def test_nothing_due_asks_nothing() -> None:
    store = FakeRequeryStore([DueRound(1, 7, 11, 1, date(2026, 12, 1), date(2026, 12, 5), "person", DEBTOR, "赵")])
    port = FakePort()
    assert await scheduler(store, port).submit_due(20) == []
    assert port.asked == []
