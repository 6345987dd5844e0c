"""The service's background loops stop when cancelled, even when a wake-up lands in the same
instant (decision 0705). On Python 3.11, ``asyncio.wait_for`` returned the awaited event's
result when the cancellation and the event arrived together, so a cancelled loop went round
again and a shutdown (or a test's teardown) waited forever."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from enforcement.kernel.audit import ChainRound
from enforcement.kernel.audit_chainer import AuditChainer
from enforcement.searches.events import EventHub

ROOT = Path(__file__).resolve().parents[3]


class NothingWaits:
    """An audit log with nothing to chain."""

    def __init__(self) -> None:
        self.rounds = 0

    async def chain_pending(self, _pool: Any, **_kw: Any) -> ChainRound:
        self.rounds += 1
        return ChainRound()


async def cancelled_while_woken(task: asyncio.Task[None], wake: Any) -> None:
    for _ in range(5):  # into its wait
        await asyncio.sleep(0)
    wake()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    assert done, "the loop went on after its cancellation"
    assert task.cancelled()


async def test_the_audit_chainer_stops_when_cancelled_as_it_is_woken() -> None:
    audit = NothingWaits()
    chainer = AuditChainer(audit, pool=None, interval_seconds=60)  # type: ignore[arg-type]
    task = asyncio.create_task(chainer.run())
    await cancelled_while_woken(task, chainer.wake)
    assert audit.rounds == 1


async def test_the_event_hub_stops_when_cancelled_as_it_is_notified() -> None:
    hub = EventHub(store=None)  # type: ignore[arg-type]
    task = asyncio.create_task(hub.run(poll_seconds=60))
    await cancelled_while_woken(task, hub.notify)


def test_no_background_loop_waits_with_wait_for() -> None:
    """Every timed wait in the service uses ``asyncio.timeout`` (the event loops through
    ``enforcement.kernel.waits.wait_set``): the two loops above stand for the others."""
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "enforcement").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bwait_for\(", line)
    ]
    assert not offenders, offenders


class OneWaits:
    """An audit log with one record waiting: the first round chains it."""

    def __init__(self) -> None:
        self.rounds = 0

    async def chain_pending(self, _pool: Any, **_kw: Any) -> ChainRound:
        self.rounds += 1
        return ChainRound(chained=1) if self.rounds == 1 else ChainRound()


async def test_the_audit_chainer_stops_after_a_round_that_was_not_full() -> None:
    """Records committed after a round's snapshot wake the chainer again with their NOTIFY: no
    round trip to look once more (decision 0706)."""
    audit = OneWaits()
    chainer = AuditChainer(audit, pool=None, interval_seconds=60)  # type: ignore[arg-type]
    assert await chainer.chain_all() is False
    assert (audit.rounds, chainer.chained) == (1, 1)
