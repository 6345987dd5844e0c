"""Rules about control operations (freeze, renew, release, deduct, seal), for connectors whose
manifest declares ``controls``: the connector implements ``control``, takes only what it declares,
and applies an operation once per idempotency key (a re-sent one gets the first answer); a
connector whose controls answer by ticket (``controls.answers: "async"``) polls a pending control
to its final answer with ``control_status``, and polling again answers the same."""

from __future__ import annotations

import functools
from datetime import date, timedelta
from typing import Any

from connectors.sdk.base import BaseConnector
from connectors.sdk.conformance.harness import Harness, probe_subjects
from connectors.sdk.conformance.rule import Violation, rule
from connectors.sdk.errors import RejectedError
from connectors.sdk.manifest import Manifest
from connectors.sdk.types import ControlOp, ControlRequest, Pending
from enforcement.domain.assets import AssetRecord
from enforcement.domain.subjects import Subject

# How a control names the asset a search found, per record kind, as the service sends it
# (enforcement/measures/service.py): a field of the record, else the record's natural key (a real
# estate unit's 不动产单元号; a securities holding's ``market:account:code``; any other kind's).
# The first operation on a kind the service does not know is the one of freeze/seal declared.
TARGET_FIELDS = {"bank_account": "account_number", "vehicle": "vin"}
FIRST_OP: dict[str, ControlOp] = {"bank_account": "freeze", "vehicle": "seal", "real_estate": "seal",
                                  "securities_holding": "freeze"}


def controls_only(manifest: Manifest) -> str | None:
    return None if manifest.controls is not None else "the manifest declares no controls"


def first_op(manifest: Manifest, kind: str) -> ControlOp:
    """The operation that first controls a record of ``kind``."""
    if kind in FIRST_OP:
        return FIRST_OP[kind]
    declared = manifest.controls.operations if manifest.controls is not None else frozenset()
    return "seal" if "seal" in declared else "freeze"


def control_target(record: AssetRecord, controlled: frozenset[str] | None = None) -> str | None:
    """The identifier a control operation names the record's asset by (None: not controllable).

    ``controlled``: the kinds the manifest's controls act on (default: the service's kinds)."""
    if getattr(record, "status", None) == "销户" or getattr(record, "balance", 1) <= 0:
        return None  # a closed or empty account: nothing to control
    if record.kind not in (FIRST_OP if controlled is None else controlled):
        return None
    field_name = TARGET_FIELDS.get(record.kind)
    value = getattr(record, field_name, None) if field_name else record.natural_key()
    return str(value) if value else None


def control_request(h: Harness, subject: Subject, op: ControlOp, target: str, key: str, **kw: Any) -> ControlRequest:
    fields: dict[str, Any] = {
        "op": op, "request_no": f"CFK-{key}", "idempotency_key": key,
        "case_number": "（2026）京0105执1234号", "court_code": "京0105", "judge_name": "李明",
        "judge_officer_id": "J110105023", "ruling_number": "（2026）京0105执1234号",
        "document_number": "（2026）京0105执协00001号", "subject": subject, "target": target,
        "until": date.today() + timedelta(days=300),
    }
    fields.update(kw)
    return ControlRequest(**fields)


@rule(
    "controls.declared",
    "a connector that declares controls implements control(); an undeclared operation is refused",
    fix="override `async def control(self, request) -> ControlResult` and raise RejectedError "
    "(code control_not_supported) for an operation the manifest's `controls.operations` does not list",
    applies=controls_only,
    needs_simulator=False,
)
async def controls_declared(h: Harness) -> None:
    conn = h.connector()
    if type(conn).control is BaseConnector.control:
        raise Violation("the manifest declares controls but the connector does not implement control()")
    assert h.manifest.controls is not None
    strangers = sorted(h.manifest.controls.asset_kinds - set(h.manifest.record_kinds))
    if strangers:
        raise Violation(f"controls act on {', '.join(strangers)}, which the connector never answers with",
                        fix="list in `controls.asset_kinds` only kinds of the manifest's `record_kinds`")
    undeclared = [op for op in ("freeze", "renew", "release", "deduct", "seal")
                  if op not in h.manifest.controls.operations]
    if not undeclared:
        return
    subject = probe_subjects("person", 1)[0]
    try:
        await conn.control(control_request(h, subject, undeclared[0], "X", "cf-undeclared"))  # type: ignore[arg-type]
    except RejectedError:
        return
    raise Violation(f"the undeclared operation {undeclared[0]!r} was not refused with RejectedError")


async def _controllable(h: Harness) -> tuple[Subject, str, str]:
    conn = h.connector()
    request, result = await h.first_answer_with_records(conn)
    assert h.manifest.controls is not None
    for record in result.records:
        target = control_target(record, h.manifest.controls.asset_kinds)
        if target is not None:
            return request.subject, record.kind, target
    raise Violation("no probe subject has a record a control can name",
                    fix="let the simulator give some probe subjects controllable assets")


@rule(
    "controls.idempotent",
    "the same control operation twice (one key) is applied once and answered with the first answer",
    fix="send request.idempotency_key on every control call and let the simulator answer through "
    "ControlLedger.once(key, ...); report `effective_controls` in the simulator's stats",
    applies=controls_only,
)
async def controls_idempotent(h: Harness) -> None:
    subject, kind, target = await _controllable(h)
    await h.reset()
    conn = h.connector()
    request = control_request(h, subject, first_op(h.manifest, kind), target, f"cf-control:{h.manifest.name}")
    first = await h.settle_control(conn, await h.call("control", lambda: conn.control(request)))
    if first.status == "refused":
        raise Violation(f"a control on an asset the search found was refused: {first.reason}")
    applied = (await h.stats()).get("effective_controls")
    again = await h.settle_control(conn, await h.call("control", lambda: conn.control(request)),
                                   what="control() re-sent")
    if (await h.stats()).get("effective_controls") != applied or applied != 1:
        raise Violation(f"one key sent twice was applied {applied} time(s) then more: the agency acted twice")
    if again != first:
        raise Violation("the same key sent twice gave a different answer",
                        fix="answer a re-sent key with the stored first answer (reference, amount, time)")
    released = await h.settle_control(conn, await h.call("control", lambda: conn.control(
        control_request(h, subject, "release", target, "cf-release", reference=first.reference))))
    if released.status != "accepted":
        raise Violation(f"releasing the control just taken was answered {released.status}")


def async_controls_only(manifest: Manifest) -> str | None:
    if manifest.controls is None:
        return "the manifest declares no controls"
    return None if manifest.controls.answers == "async" else "the manifest declares synchronous controls"


@rule(
    "controls.async",
    "a control accepted for processing (Pending) polls to its final answer, and polls again the same",
    fix="control() answers Pending(ticket) while the agency processes the operation; control_status(ticket) "
    "answers Pending until then and afterwards the ControlResult, the same (reference, amount, answer time) on "
    "every later poll, applying nothing again; an unknown ticket raises RejectedError",
    applies=async_controls_only,
)
async def controls_async(h: Harness) -> None:
    subject, kind, target = await _controllable(h)
    await h.reset()
    conn = h.connector()
    request = control_request(h, subject, first_op(h.manifest, kind), target, f"cf-async:{h.manifest.name}")
    outcome = await h.call("control", lambda: conn.control(request))
    if isinstance(outcome, Pending):
        again = await h.call("control() re-sent while pending", lambda: conn.control(request))
        if isinstance(again, Pending) and again.ticket != outcome.ticket:
            raise Violation("the same key re-sent while pending got another ticket",
                            fix="answer a re-sent key with its first ticket (or, once done, its answer)")
    answer = await h.settle_control(conn, outcome)
    if answer.status == "refused":
        raise Violation(f"a control on an asset the search found was refused: {answer.reason}")
    if isinstance(outcome, Pending):
        for n in (1, 2):
            polled = await h.call("control_status() of an answered ticket",
                                  functools.partial(conn.control_status, outcome.ticket))
            if polled != answer:
                raise Violation(f"polling the answered control ticket again (poll {n}) gave another answer",
                                fix="build the ControlResult only from what the agency sent (its own answer "
                                "time, reference and amount), never from the time of the poll")
    if (await h.stats()).get("effective_controls") != 1:
        raise Violation("polling a control ticket applied the operation again at the agency")
    await h.expect_error("control_status() of a ticket the agency never issued",
                         functools.partial(conn.control_status, "CF-NO-SUCH-CONTROL-0000"), RejectedError)


__all__ = ["async_controls_only", "control_request", "control_target", "controls_only", "first_op"]
