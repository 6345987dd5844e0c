"""The bank receives subjects in batches: up to the manifest's batch size, or fewer once the
oldest has waited the batch wait time (both overridable in settings), one call per batch."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from connectors.banks.sim_tickets import BankSimulatorState
from connectors.sdk.simulator_kit import STATE_KEY
from enforcement.api.keys import POOL
from tests.agency_helpers import batch_rows, case_with_debtors, make_debtors, overrides_for, wait_until

JUDGE = "zhangwei"


def _bank(simulators: Any) -> BankSimulatorState:
    state = simulators["banks"].runner.app[STATE_KEY]
    assert isinstance(state, BankSimulatorState)
    return state


async def test_subjects_go_to_the_bank_in_batches_of_the_size_or_after_the_wait(
    make_api: Any, simulators: Any, registry: Any
) -> None:
    overrides = overrides_for(registry)
    overrides["banks"].update(batch_size="10", batch_wait_seconds="0.8")
    api = await make_api(agency_overrides=overrides)
    pool = api.app[POOL]
    bank = _bank(simulators)
    debtors = make_debtors(26, start=150_000)
    case_id = await case_with_debtors(pool, debtors)

    submitted = time.time()
    status, body = await api.request("POST", "/api/v1/searches:batch", login=JUDGE,
                                     json=batch_rows(case_id, debtors[:25]))
    assert status == 202, body

    async def all_sent() -> bool:
        return len(bank.tickets) >= 25

    await wait_until(all_sent, timeout=20, what="every subject at the bank")
    sizes = sorted(Counter(t.bank_batch_no for t in bank.tickets.values()).values())
    assert sizes == [5, 10, 10], sizes  # two full batches at once, the rest after the wait
    last_batch = max(t.accepted_at for t in bank.tickets.values())
    assert last_batch - submitted >= 0.8 * 0.9  # the 5 left waited for the batch wait time

    # A lone subject goes out alone, once it has waited.
    before = set(bank.tickets)
    started = time.time()
    status, lone_body = await api.request("POST", "/api/v1/searches", login=JUDGE,
                                          json={"case_id": case_id, "subject": debtors[25].subject()})
    assert status == 202, lone_body

    async def lone_sent() -> bool:
        return len(bank.tickets) > len(before)

    await wait_until(lone_sent, timeout=20, what="the lone subject at the bank")
    [lone] = [t for k, t in bank.tickets.items() if k not in before]
    assert lone.accepted_at - started >= 0.8 * 0.9
    assert Counter(t.bank_batch_no for t in bank.tickets.values())[lone.bank_batch_no] == 1
