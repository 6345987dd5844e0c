"""A bank refuses one subject of a batch: that subject's bank task ends rejected with the bank's
reason (``connectors.sdk.types.Rejected``), while the other subjects of the same batch are answered."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from connectors.banks.simulator import BANK_STATE
from enforcement.api.keys import POOL
from enforcement.seeds import CASES
from tests.acceptance.test_search_flow import case_id, search_body

JUDGE = CASES[0][2]
DEBTORS = [(CASES[0][0], CASES[0][-1][0]), (CASES[1][0], CASES[1][-1][0]), (CASES[1][0], CASES[1][-1][1])]


async def test_one_refused_subject_does_not_sink_the_batch(make_api: Any, simulators: dict[str, Any]) -> None:
    api = await make_api()
    ids: list[str] = []
    for i, (number, debtor) in enumerate(DEBTORS):
        dates = {"date_from": "2026-02-01", "date_to": "2026-01-01"} if i == 1 else {}  # the bank refuses this range
        status, body = await api.request("POST", "/api/v1/searches", login=JUDGE,
                                         json=search_body(await case_id(api, number), debtor, **dates))
        assert status == 202, body
        ids.append(body["id"])
    views = await asyncio.gather(*(api.wait_search(i, JUDGE, timeout=40) for i in ids))
    banks = [next(a for a in v["agencies"] if a["agency"] == "banks") for v in views]
    assert [b["status"] for b in banks] == ["succeeded", "rejected", "succeeded"], banks
    refused = await api.app[POOL].fetchrow(
        "SELECT error_code, error_message, ticket, attempts FROM agency_task WHERE agency = 'banks' AND search_id = $1",
        uuid.UUID(ids[1]))
    assert refused["error_code"] == "DATE_RANGE_INVALID" and "查询起始日期晚于截止日期" in refused["error_message"]
    assert refused["ticket"] is None and refused["attempts"] == 1  # refused in the batch answer, never polled
    # The three subjects went to the bank in one batch: the gateway numbered all three tickets alike.
    tickets = simulators["banks"].runner.app[BANK_STATE].tickets.values()
    assert len(tickets) == 3 and len({t.bank_batch_no for t in tickets}) == 1
