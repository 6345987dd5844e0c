"""``BatchService.submit`` against an in-memory store: every row checked as a single search
would be, one bad row refusing the whole batch (nothing stored, refusals audited row by row), and
one notice number per court."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

import pytest

from enforcement.domain.actors import Actor
from enforcement.domain.audit import AuditEntry
from enforcement.domain.authorization import AccessDenied
from enforcement.searches.bulk import BatchService, RowError
from enforcement.searches.errors import BatchEmpty, BatchInvalid
from enforcement.searches.service import SearchRequest, notice_number
from enforcement.searches.store.batches import BatchCounts, BatchCreated, BatchRecord, BatchRow, NewBatch
from enforcement.searches.store.searches import CaseForSearch
from tests.unit.searches.fakes import manifests
from tests.unit.searches.test_service import COURT, JUDGE, ORG, OTHER, PERSON


class FakeBatchStore:
    """``BatchStoreProtocol`` over dicts."""

    def __init__(self) -> None:
        self.case_rows = {1: CaseForSearch(1, "（2025）辽0102执1号", COURT, "open", "wang", "王法官", "2101020001")}
        self.debtors = {(1, PERSON.kind, PERSON.id_number), (1, ORG.kind, ORG.id_number)}
        self.batches: list[NewBatch] = []
        self.entries: list[AuditEntry] = []
        self.refusals: list[AuditEntry] = []
        self.serials = 0

    @property
    def audited(self) -> bool:
        return True

    async def cases(self, case_ids: Sequence[int]) -> dict[int, CaseForSearch]:
        return {i: self.case_rows[i] for i in case_ids if i in self.case_rows}

    async def debtor_rows(self, rows: Sequence[tuple[int, int, str, str]]) -> set[int]:
        return {i for i, case_id, kind, number in rows if (case_id, kind, number) in self.debtors}

    async def next_document_serial(self, court_code: str) -> tuple[int, int]:
        self.serials += 1
        return 2026, self.serials

    async def create(self, batch: NewBatch, *, audit_entries: Sequence[AuditEntry] = ()) -> BatchCreated:
        self.batches.append(batch)
        self.entries += audit_entries
        return BatchCreated(datetime.now(UTC), 3 * len(batch.searches), 0, 0)

    async def record_refusals(self, entries: Sequence[AuditEntry]) -> None:
        self.refusals += entries

    async def get(self, batch_id: UUID) -> BatchRecord | None:
        return None

    async def search_counts(self, batch_id: UUID) -> BatchCounts:
        return BatchCounts(0, 0, None)

    async def task_counts(self, batch_id: UUID) -> dict[str, dict[str, int]]:
        return {}

    async def results(self, batch_id: UUID, offset: int, limit: int) -> list[BatchRow]:
        return []


def service() -> tuple[BatchService, FakeBatchStore]:
    store = FakeBatchStore()
    return BatchService(store, manifests("vehicles", "banks", "hotels")), store


async def test_a_good_batch_is_stored_whole_with_one_notice_number_and_a_record_per_search() -> None:
    batches, store = service()
    accepted = await batches.submit(JUDGE, [SearchRequest(1, PERSON), SearchRequest(1, ORG)], request_id="r")
    [batch] = store.batches
    assert accepted.batch_id == batch.id and accepted.total == 2
    assert [s.document_number for s in batch.searches] == [notice_number(COURT, 2026, 1)] * 2
    assert [sorted(p.agency for p in s.agencies) for s in batch.searches] == [["banks", "hotels", "vehicles"],
                                                                              ["banks", "vehicles"]]
    assert [e.details["batch_index"] for e in store.entries] == [0, 1]


async def test_one_bad_row_refuses_the_batch_naming_every_bad_row_and_audits_the_refused_ones() -> None:
    batches, store = service()
    rows: list[SearchRequest | RowError] = [
        SearchRequest(1, PERSON), SearchRequest(1, OTHER), SearchRequest(9, PERSON),
        SearchRequest(1, PERSON, purpose="好奇"), RowError(4, "not_an_object", "x", "x"),
    ]
    with pytest.raises(BatchInvalid) as invalid:
        await batches.submit(JUDGE, rows)
    assert [(e["index"], e["code"]) for e in invalid.value.details["invalid"]] == [  # type: ignore[attr-defined]
        (1, "subject_not_debtor"), (2, "case_not_found"), (3, "invalid_purpose"), (4, "not_an_object")]
    assert store.batches == [] and store.serials == 0
    [refusal] = store.refusals  # only the row the 点对点 rule refused
    assert (refusal.action, refusal.reason, refusal.details["batch_index"]) == ("refusal", "subject_not_debtor", 1)


async def test_a_role_that_may_not_search_is_refused_whole_and_an_empty_batch_is_refused() -> None:
    batches, store = service()
    with pytest.raises(AccessDenied) as denied:
        await batches.submit(Actor("li", "supervisor", "李庭长", COURT), [SearchRequest(1, PERSON)])
    assert denied.value.code == "role_cannot_search" and denied.value.audited
    assert store.batches == []
    with pytest.raises(BatchEmpty):
        await batches.submit(JUDGE, [])
