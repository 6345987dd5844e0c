"""The bank simulator's tickets and its callback sender.

Time: each ticket is answered once ``answer_delay_seconds`` of *simulated* time have passed,
and simulated time runs ``time_scale`` times faster than real time, so a two-day answer
(172800 s) with ``time_scale=86400`` arrives after two real seconds. Timestamps on the wire
(``AcceptedAt``, ``AnsweredAt``) are real wall-clock times, so that the service never sees an
answer dated in its future; only the waiting is scaled.

Controls (freeze, renew, unfreeze, deduct) are answered by ticket too: a ``ControlTicket`` is
done ``control_delay_seconds`` of simulated time after it was accepted; only then is the operation
applied to the ledger (once per idempotency key, in the order the tickets fell due), by
``settle_controls``, which every handler and the background loop call first, so that what the
bank holds (``/_sim/accounts``, query answers) moves when the bank has processed the control.

Callbacks: when ``callback_url`` is set, a background task (one per app, with its own
``ClientSession``) POSTs every ticket that became ready, grouped, signed with
``connectors.sdk.signing.sign(callback_secret, body)``, and retries a few times when the
receiver errors. Counts are served at ``GET /_sim/callbacks``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import json
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web

from connectors.banks.wire import BEIJING, PROCESSING, REJECTED
from connectors.sdk import RecentFirstConnector, SimulatorState, sign
from connectors.sdk.control_kit import ControlLedger, Effect

CALLBACK_ATTEMPTS = 4
CALLBACK_FIRST_BACKOFF = 0.2  # real seconds, tripled per attempt
CALLBACK_MAX_ITEMS = 100
CALLBACK_TIMEOUT = 5.0
TICK = 0.05


def beijing_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, BEIJING).isoformat(timespec="seconds")


def new_number(prefix: str, epoch: float) -> str:
    return f"{prefix}{datetime.fromtimestamp(epoch, BEIJING):%Y%m%d}{secrets.token_hex(5).upper()}"


@dataclass
class SimTicket:
    ticket: str
    bank_batch_no: str
    seq_no: int
    accepted_at: float  # epoch seconds
    ready_at: float  # epoch seconds
    answer: dict[str, Any] | None = None  # DONE body, for an accepted item
    rejection: tuple[str, str] | None = None  # (ErrorCode, ErrorMessage)

    def view(self, now: float) -> dict[str, Any]:
        """What polling the ticket answers at ``now``."""
        if self.rejection is not None:
            code, message = self.rejection
            return {
                "Ticket": self.ticket,
                "BankBatchNo": self.bank_batch_no,
                "SeqNo": self.seq_no,
                "Status": REJECTED,
                "StatusName": "查询失败",
                "ErrorCode": code,
                "ErrorMessage": message,
            }
        if now < self.ready_at:
            return {
                "Ticket": self.ticket,
                "BankBatchNo": self.bank_batch_no,
                "SeqNo": self.seq_no,
                "Status": PROCESSING,
                "StatusName": "处理中",
                "PollAfterSeconds": round(self.ready_at - now, 3),
            }
        return dict(self.answer or {})


@dataclass
class ControlTicket:
    """A control operation the gateway accepted: processed once ``ready_at`` has passed."""

    ticket: str
    key: str  # the IdempotencyKey
    item: dict[str, Any]
    accepted_at: float  # epoch seconds
    ready_at: float  # epoch seconds
    effect: Effect | None = None  # once processed


@dataclass
class BankSimulatorState(SimulatorState):
    """The kit's state plus tickets, the due queue and callback counters."""

    tickets: dict[str, SimTicket] = field(default_factory=dict)
    rejected_keys: dict[str, str] = field(default_factory=dict)
    due: list[tuple[float, str]] = field(default_factory=list)
    callbacks: Counter[str] = field(default_factory=Counter)
    controls: ControlLedger = field(default_factory=lambda: ControlLedger(prefix="YHKZ"))
    control_tickets: dict[str, ControlTicket] = field(default_factory=dict)
    control_keys: dict[str, str] = field(default_factory=dict)  # IdempotencyKey -> ticket
    control_due: list[tuple[float, int, str]] = field(default_factory=list)
    # How a control is applied to the ledger (set by the simulator app); run once per key.
    apply_control: Callable[[dict[str, Any]], Effect] | None = None

    def add_control(self, ticket: ControlTicket) -> None:
        self.control_tickets[ticket.ticket] = ticket
        self.control_keys[ticket.key] = ticket.ticket
        heapq.heappush(self.control_due, (ticket.ready_at, len(self.control_tickets), ticket.ticket))

    def settle_controls(self, now: float) -> None:
        """Process the control tickets due by ``now``, in order, each once per idempotency key."""
        apply = self.apply_control
        while self.control_due and self.control_due[0][0] <= now and apply is not None:
            _, _, ticket_id = heapq.heappop(self.control_due)
            ticket = self.control_tickets.get(ticket_id)
            if ticket is not None and ticket.effect is None:
                ticket.effect = self.controls.once(ticket.key, functools.partial(apply, ticket.item))

    def real_delay(self) -> float:
        return self.answer_delay()  # the kit's scaled clock: answer_delay_seconds / time_scale

    def add(self, ticket: SimTicket) -> None:
        self.tickets[ticket.ticket] = ticket
        heapq.heappush(self.due, (ticket.ready_at, ticket.ticket))

    def pop_due(self, now: float) -> list[SimTicket]:
        out: list[SimTicket] = []
        while self.due and self.due[0][0] <= now:
            _, ticket_id = heapq.heappop(self.due)
            ticket = self.tickets.get(ticket_id)
            if ticket is not None:
                out.append(ticket)
        return out

    def stats(self) -> dict[str, Any]:
        self.settle_controls(time.time())
        return {**super().stats(), **self.controls.stats()}

    def reset(self) -> None:
        super().reset()
        self.controls.reset()
        self.control_tickets.clear()
        self.control_keys.clear()
        self.control_due.clear()
        self.tickets.clear()
        self.rejected_keys.clear()
        self.due.clear()
        self.callbacks.clear()


class CallbackSender:
    """Pushes ready tickets to ``config.callback_url``; owned by one simulator app."""

    def __init__(self, state: BankSimulatorState, session: aiohttp.ClientSession) -> None:
        self.state = state
        self.session = session
        self.deliveries: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        while True:
            now = time.time()
            self.state.settle_controls(now)
            ready = self.state.pop_due(now)
            url = self.state.config.callback_url
            if ready and url:
                for start in range(0, len(ready), CALLBACK_MAX_ITEMS):
                    chunk = ready[start : start + CALLBACK_MAX_ITEMS]
                    task = asyncio.create_task(self.deliver(url, chunk, now))
                    self.deliveries.add(task)
                    task.add_done_callback(self.deliveries.discard)
            await asyncio.sleep(TICK)

    async def deliver(self, url: str, tickets: list[SimTicket], now: float) -> None:
        payload = {
            "NotifyNo": new_number("TZ", now),
            "NotifyTime": beijing_time(now),
            "ItemCount": len(tickets),
            "Items": [t.view(now) for t in tickets],
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        counts = self.state.callbacks
        timeout = aiohttp.ClientTimeout(total=CALLBACK_TIMEOUT)
        for attempt in range(CALLBACK_ATTEMPTS):
            counts["attempts"] += 1
            headers = {
                **sign(self.state.config.callback_secret, body),  # fresh nonce per attempt
                "Content-Type": "application/json; charset=utf-8",
            }
            try:
                async with self.session.post(
                    url, data=body, headers=headers, timeout=timeout
                ) as resp:
                    await resp.read()
                    if 200 <= resp.status < 300:
                        counts["delivered"] += 1
                        counts["tickets_delivered"] += len(tickets)
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            counts["receiver_errors"] += 1
            if attempt + 1 < CALLBACK_ATTEMPTS:
                await asyncio.sleep(CALLBACK_FIRST_BACKOFF * 3**attempt)
        counts["failed"] += 1

    async def close(self) -> None:
        for task in list(self.deliveries):
            task.cancel()
        await asyncio.gather(*self.deliveries, return_exceptions=True)


def callback_context(
    state: BankSimulatorState,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context running the callback sender for the app's lifetime."""

    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        session = aiohttp.ClientSession(connector=RecentFirstConnector())
        sender = CallbackSender(state, session)
        runner = asyncio.create_task(sender.run())
        try:
            yield
        finally:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
            await sender.close()
            await session.close()

    return ctx


__all__ = [
    "BankSimulatorState",
    "CallbackSender",
    "ControlTicket",
    "SimTicket",
    "beijing_time",
    "callback_context",
    "new_number",
]
