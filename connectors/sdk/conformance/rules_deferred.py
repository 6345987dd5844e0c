"""Rules for agencies that answer later: the ticket life cycle, batches, signed callbacks."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from connectors.sdk import signing
from connectors.sdk.conformance.harness import NORMAL_TIMEOUT, SHORT_TIMEOUT, Harness, probe_subjects
from connectors.sdk.conformance.rule import Violation, batch_only, callbacks_only, deferred_only, rule
from connectors.sdk.conformance.rules_calls import record_signature, validate_result
from connectors.sdk.conformance.rules_errors import RETRY_AFTER, TRANSIENT_FAULTS
from connectors.sdk.errors import AuthError, ConnectorError, RejectedError, TransientError
from connectors.sdk.protocol import Connector
from connectors.sdk.types import AgencyResult, CallbackAnswer, Pending, Rejected

CALLBACK_SECRET = "conformance-callback-secret"  # noqa: S105 - a test key for the simulator
CALLBACK_WITHIN = 5.0


@rule(
    "deferred.lifecycle",
    "a ticket is polled to its answer, polls again the same, and an unknown ticket is refused",
    fix="search() returns Pending(ticket); poll(ticket) returns Pending while the agency works, "
    "then the AgencyResult (the same on every later poll); an unknown ticket raises RejectedError",
    applies=deferred_only,
)
async def deferred_lifecycle(h: Harness) -> None:
    conn = h.connector()
    request, first = await h.first_answer_with_records(conn)
    validate_result(h, first, "the polled answer")
    outcome = await h.call("search()", functools.partial(conn.search, h.request(request.subject)))
    if not isinstance(outcome, Pending):
        raise Violation(f"search() of a deferred connector gave {type(outcome).__name__}, not Pending")
    answer = await h.settle(conn, outcome)
    again = await h.call("poll() of an answered ticket", functools.partial(conn.poll, outcome.ticket))
    if not isinstance(again, AgencyResult) or record_signature(again) != record_signature(answer):
        raise Violation("polling an answered ticket again did not give the same answer")
    if again.answered_at != answer.answered_at:
        raise Violation("polling an answered ticket again gave another answer time")
    await h.expect_error("poll() of a ticket the agency never issued",
                         functools.partial(conn.poll, "CF-NO-SUCH-TICKET-0000"), RejectedError)


async def _settled(h: Harness, conn: Connector, outcome: Any, what: str) -> AgencyResult:
    if isinstance(outcome, Rejected):
        raise Violation(f"{what} was refused ({outcome.reason[:120]}) although the request was valid")
    if not isinstance(outcome, AgencyResult | Pending):
        raise Violation(f"{what} is a {type(outcome).__name__}, not AgencyResult, Pending or Rejected")
    return await h.settle(conn, outcome, what=what)


@rule(
    "batch.lifecycle",
    "search_batch answers one outcome per request, in order; a refused item is Rejected alone",
    fix="return one outcome per request in request order: AgencyResult or Pending for accepted "
    "items, connectors.sdk.types.Rejected(reason, code) for an item the agency refused; split "
    "batches by self.manifest.batch.max_size (the effective manifest)",
    applies=batch_only,
)
async def batch_lifecycle(h: Harness) -> None:
    conn = h.connector()
    request, _ = await h.first_answer_with_records(conn)
    kind = request.subject.kind
    other = next(s for s in probe_subjects(kind) if s.id_number != request.subject.id_number)
    requests = [h.request(request.subject), h.request(other), h.request(request.subject, document_number="")]
    outcomes: Sequence[Any] = await h.call("search_batch()", functools.partial(conn.search_batch, requests))
    if len(outcomes) != len(requests):
        raise Violation(f"search_batch() of {len(requests)} requests gave {len(outcomes)} outcomes")
    refused = outcomes[2]
    if not isinstance(refused, Rejected):
        raise Violation(
            f"the batch item without a document number came back as {type(refused).__name__}, not Rejected"
        )
    if not refused.reason.strip():
        raise Violation("the Rejected batch item carries no reason")
    for i, (req, outcome) in enumerate(zip(requests[:2], outcomes[:2], strict=True), 1):
        batched = await _settled(h, conn, outcome, f"batch item {i}")
        validate_result(h, batched, f"batch item {i}")
        alone = await h.answer(conn, h.request(req.subject))
        if record_signature(batched) != record_signature(alone):
            raise Violation(f"batch item {i} gave other records than the same subject searched alone")
    empty = await h.call("search_batch([])", functools.partial(conn.search_batch, []))
    if len(empty) != 0:
        raise Violation("search_batch([]) gave outcomes for no requests")
    small = h.manifest.with_overrides({"batch_size": "2"})
    conn = h.connector(manifest=small)
    three = [h.request(s) for s in probe_subjects(kind, 3)]
    sent = len(h.calls)
    outcomes = await h.call("search_batch() of 3 with batch.max_size 2",
                            functools.partial(conn.search_batch, three))
    if len(outcomes) != 3:
        raise Violation(f"search_batch() of 3 requests gave {len(outcomes)} outcomes")
    if len(h.calls) - sent < 2:
        raise Violation("a batch of 3 went out in one call although the effective manifest's batch.max_size is 2")


BATCH_FAULTS: tuple[tuple[str, dict[str, Any], type[ConnectorError]], ...] = (
    *((label, fault, TransientError) for label, fault in TRANSIENT_FAULTS),
    ("throttling (429)", {"p_rate_limited": 1.0, "retry_after_seconds": RETRY_AFTER}, TransientError),
    ("the agency refusing the credential", {"p_unauthorized": 1.0}, AuthError),
    ("the agency hanging past the timeout", {"p_hang": 1.0, "hang_seconds": 2.0}, TransientError),
)


@rule(
    "batch.errors",
    "a batch call that fails as a whole raises the error kind a single search would",
    fix="send batches through the same wire client as single searches (connectors.sdk.http.fetch_json, "
    "bounded by config.timeout_seconds) and map the gateway's failures of the whole batch to "
    "TransientError (retry_after kept), AuthError or RejectedError; never return Rejected items for "
    "an outage, nor let a raw error escape",
    applies=batch_only,
)
async def batch_errors(h: Harness) -> None:
    subjects = probe_subjects(sorted(h.manifest.subject_kinds)[0], 2)
    for label, fault, kind in BATCH_FAULTS:
        conn = h.connector(timeout=SHORT_TIMEOUT if "p_hang" in fault else NORMAL_TIMEOUT)
        await h.configure(**fault)
        requests = [h.request(s) for s in subjects]
        exc = await h.expect_error(f"search_batch() with {label}",
                                   functools.partial(conn.search_batch, requests), kind)
        if "retry_after_seconds" in fault and getattr(exc, "retry_after", None) != RETRY_AFTER:
            raise Violation(f"search_batch() when throttled with Retry-After: {RETRY_AFTER:g} "
                            f"gave retry_after={getattr(exc, 'retry_after', None)!r}")
    await h.configure()


def _tickets(conn: Connector, deliveries: Sequence[tuple[dict[str, str], bytes]]) -> dict[str, CallbackAnswer]:
    answers: dict[str, CallbackAnswer] = {}
    for _headers, body in deliveries:
        for answer in conn.parse_callback(json.loads(body)):
            answers[answer.ticket] = answer
    return answers


@rule(
    "callbacks.signed",
    "the agency's signed callbacks parse into the answers of the tickets they name",
    fix="have the simulator push ready tickets to config.callback_url signed with "
    "connectors.sdk.signing.sign(config.callback_secret, body), and parse_callback(body) return "
    "one CallbackAnswer per ticket (RejectedError for a body it cannot read)",
    applies=callbacks_only,
)
async def callbacks_signed(h: Harness) -> None:
    async with h.callback_receiver() as receiver:
        await h.configure(callback_url=receiver.url, callback_secret=CALLBACK_SECRET)
        conn = h.connector()
        request, _ = await h.first_answer_with_records(conn)
        outcome = await h.call("search()", functools.partial(conn.search, h.request(request.subject)))
        if not isinstance(outcome, Pending):
            raise Violation(f"search() gave {type(outcome).__name__}, not Pending, so nothing to call back")
        ticket = outcome.ticket

        def carries(deliveries: Sequence[tuple[dict[str, str], bytes]]) -> bool:
            try:
                return ticket in _tickets(conn, deliveries)
            except (ConnectorError, ValueError):
                return False

        if not await receiver.wait(carries, CALLBACK_WITHIN):
            raise Violation(f"no callback named ticket {ticket!r} within {CALLBACK_WITHIN:g}s")
        for headers, body in receiver.deliveries:
            parts = [headers.get(n, "") for n in (signing.HEADER_TIMESTAMP, signing.HEADER_NONCE,
                                                 signing.HEADER_SIGNATURE)]
            if not all(parts) or not signing.verify(CALLBACK_SECRET, parts[0], parts[1], body, parts[2]):
                raise Violation("a callback is not signed with the callback secret")
        try:
            pushed = _tickets(conn, receiver.deliveries)[ticket]
        except ConnectorError as exc:
            raise Violation(f"parse_callback() refused the agency's own callback: {exc.message[:160]}") from exc
        polled = await h.settle(conn, outcome)
        if pushed.outcome is None or record_signature(pushed.outcome) != record_signature(polled):
            raise Violation("the callback's answer differs from the polled answer of the same ticket")
    try:
        conn.parse_callback({"unexpected": True})
    except RejectedError:
        return
    except Exception as exc:
        raise Violation(f"parse_callback() of an unreadable body raised {type(exc).__name__}, "
                        "expected RejectedError") from exc
    raise Violation("parse_callback() accepted an unreadable body")


__all__ = ["CALLBACK_SECRET"]
