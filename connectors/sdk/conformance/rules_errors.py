"""Rules about failures: each of the three error kinds mapped from the agency's own error style
(the simulator injects faults in that style), and the timeout honoured."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from connectors.sdk.conformance.harness import (
    NORMAL_TIMEOUT,
    SHORT_TIMEOUT,
    TIMEOUT_SLACK,
    Harness,
    broken_subject,
    probe_subjects,
)
from connectors.sdk.conformance.rule import Violation, rule
from connectors.sdk.errors import AuthError, ConnectorError, RejectedError, TransientError
from connectors.sdk.protocol import Connector
from connectors.sdk.simulator_kit import FAULT_REASONS
from connectors.sdk.types import AgencyRequest, Pending

TRANSIENT_FAULTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("HTTP 5xx", {"p_5xx": 1.0}),
    ("the agency down (503)", {"down": True}),
    ("a malformed JSON body", {"p_malformed": 1.0}),
    ("an HTML page instead of JSON", {"p_wrong_content_type": 1.0}),
    ("the connection reset", {"p_reset": 1.0}),
)
RETRY_AFTER = 7.0


async def _calls(h: Harness, conn: Connector) -> list[tuple[str, Callable[[], Awaitable[Any]]]]:
    """check(), search() and, for a deferred connector, poll() of a ticket taken beforehand."""
    subject = probe_subjects(sorted(h.manifest.subject_kinds)[0], 1)[0]
    calls: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("check()", conn.check),
        ("search()", functools.partial(conn.search, h.request(subject))),
    ]
    if h.manifest.answer_mode == "deferred":
        outcome = await h.call("search()", functools.partial(conn.search, h.request(subject)))
        if isinstance(outcome, Pending):
            calls.append(("poll()", functools.partial(conn.poll, outcome.ticket)))
    return calls


@rule(
    "errors.transient",
    "outages, 5xx, malformed answers, wrong content types and resets are TransientError",
    fix="call the agency through connectors.sdk.http.fetch_json (it maps transport failures to "
    "TransientError) and map the agency's own outage codes to TransientError",
)
async def errors_transient(h: Harness) -> None:
    conn = h.connector()
    calls = await _calls(h, conn)
    for label, fault in TRANSIENT_FAULTS:
        await h.configure(**fault)
        for what, make in calls:
            await h.expect_error(f"{what} with {label}", make, TransientError)
    await h.configure()


@rule(
    "errors.rate_limited",
    "throttling (HTTP 429 with Retry-After) is TransientError carrying retry_after",
    fix="map HTTP 429/503 (and the agency's own 'too many requests' code) to "
    "TransientError(retry_after=<the Retry-After seconds>); fetch_json does this",
)
async def errors_rate_limited(h: Harness) -> None:
    conn = h.connector()
    calls = await _calls(h, conn)
    await h.configure(p_rate_limited=1.0, retry_after_seconds=RETRY_AFTER)
    for what, make in calls:
        exc = await h.expect_error(f"{what} when throttled", make, TransientError)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after != RETRY_AFTER:
            raise Violation(f"{what} when throttled with Retry-After: {RETRY_AFTER:g} gave retry_after={retry_after!r}")
    await h.configure()


@rule(
    "errors.auth",
    "the agency's refusal of our credentials is AuthError carrying the agency's reason",
    fix="map HTTP 401/403 and the agency's own credential error codes to AuthError, and put the "
    "agency's reason (its message field) into the error message",
)
async def errors_auth(h: Harness) -> None:
    conn = h.connector()
    calls = await _calls(h, conn)
    await h.configure(p_unauthorized=1.0)
    reason = FAULT_REASONS["unauthorized"]
    for what, make in calls:
        exc = await h.expect_error(f"{what} when the agency refuses the credential", make, AuthError)
        if reason not in exc.message:
            raise Violation(
                f"{what}: the AuthError message {exc.message[:120]!r} lost the agency's reason {reason!r}",
            )
    await h.configure()


async def _refused(h: Harness, conn: Connector, request: AgencyRequest, what: str) -> RejectedError:
    """A refusal, at search() or (deferred) when the ticket is polled."""
    try:
        await h.answer(conn, request)
    except RejectedError as exc:
        return exc
    except ConnectorError as exc:
        raise Violation(f"{what} raised {type(exc).__name__} ({exc.code}: {exc.message[:160]}), "
                        "expected RejectedError") from exc
    raise Violation(f"{what} was answered instead of refused")


@rule(
    "errors.rejected",
    "the agency's refusal of a query is RejectedError with its reason, never echoing personal data",
    fix="map the agency's business refusal (missing field, malformed ID...) to RejectedError with "
    "the agency's code and reason; never put an ID number or a name into an error message",
)
async def errors_rejected(h: Harness) -> None:
    conn = h.connector()
    kind = sorted(h.manifest.subject_kinds)[0]
    subject = probe_subjects(kind, 1)[0]
    exc = await _refused(h, conn, h.request(subject, document_number=""), "a query without its document number")
    if not exc.message.strip() or exc.message == (RejectedError.__doc__ or "").strip():
        raise Violation("the RejectedError for a missing document number does not carry the agency's reason")
    bad = broken_subject(kind)
    exc = await _refused(h, conn, h.request(bad), "a query for an ID number with a wrong check character")
    for text in (bad.id_number, bad.id_number[:-1], subject.name):
        if text in exc.message or text in exc.code:
            raise Violation("the RejectedError message echoes the subject's ID number or name",
                            fix="describe the refusal without the personal data (mask it with "
                            "connectors.sdk.mask_id_number / mask_name if you must refer to it)")


@rule(
    "timeout.honoured",
    "every call ends within config.timeout_seconds (a hung or dripping agency is TransientError)",
    fix="bound every HTTP exchange, headers and body, by config.timeout_seconds "
    "(connectors.sdk.http.fetch_json does) and raise TransientError(code='timeout')",
)
async def timeout_honoured(h: Harness) -> None:
    conn = h.connector(timeout=SHORT_TIMEOUT)
    calls = await _calls(h, conn)
    for label, fault in (("hangs", {"p_hang": 1.0, "hang_seconds": 2.0}),
                         ("drips its answer", {"p_drip": 1.0, "drip_seconds": 2.0})):
        await h.configure(**fault)
        for what, make in calls:
            started = time.monotonic()
            when = f"{what} with timeout_seconds={SHORT_TIMEOUT:g}, when the agency {label} for 2s,"
            exc = await h.expect_error(when, make, TransientError)
            took = time.monotonic() - started
            if took > SHORT_TIMEOUT + TIMEOUT_SLACK:
                raise Violation(f"{when} took {took:.2f}s")
            if exc.code != "timeout":
                raise Violation(f"{when} raised TransientError with code {exc.code!r}, not 'timeout'")
    await h.configure(latency_median_ms=SHORT_TIMEOUT * 1000 / 2)
    slow = h.connector(timeout=NORMAL_TIMEOUT)
    subject = probe_subjects(sorted(h.manifest.subject_kinds)[0], 1)[0]
    try:
        await h.answer(slow, h.request(subject))
    except ConnectorError as exc:
        raise Violation(f"a slow but timely answer ({SHORT_TIMEOUT / 2:g}s, timeout {NORMAL_TIMEOUT:g}s) "
                        f"raised {type(exc).__name__}: {exc.message[:120]}",
                        fix="use config.timeout_seconds as the call's bound, not a shorter constant") from exc
    await h.configure()


__all__ = ["RETRY_AFTER", "TRANSIENT_FAULTS"]
