"""The authorization matrix: every /api/v1 route times every kind of caller, against one case held
by judge 张伟 (zhangwei) of 辽0102. Each cell is the expected status (and, for a refusal, its code);
every 403 must also leave a refusal in the audit trail.

Callers: the judge holding the case; another judge of the same court; a judge of another court;
a supervisor of the same court and of another court; ops; an agency; the case-management system
of the same court and of another court; no token at all.

A new /api/v1 route fails ``test_every_api_route_is_in_the_matrix`` until a row is added here.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from enforcement.api.keys import POOL
from enforcement.app import create_app
from enforcement.domain.identifiers import make_credit_code, make_resident_id
from enforcement.kernel.audit_chainer import AUDIT_CHAINER
from enforcement.kernel.settings import Settings
from enforcement.measures.keys import MEASURE_CLOCK
from enforcement.seeds import CASES

CALLERS: dict[str, tuple[str, str] | None] = {
    "judge_own": ("zhangwei", "judge"),
    "judge_same_court": ("lina", "judge"),
    "judge_other_court": ("wangfang", "judge"),
    "supervisor_same_court": ("chenjing", "supervisor"),
    "supervisor_other_court": ("liuyang", "supervisor"),
    "ops": ("ops", "ops"),
    "agency": ("bank-gateway", "agency"),
    "case_system_same_court": ("cms-0102", "case_system"),
    "case_system_other_court": ("cms-0103", "case_system"),
    "no_token": None,
}
TARGET_NUMBER = CASES[0][0]  # （2026）辽0102执1032号, held by zhangwei
DEBTOR = CASES[0][-1][0]


def row(*cells: str) -> dict[str, str]:
    assert len(cells) == len(CALLERS), "one cell per caller"
    return dict(zip(CALLERS, cells, strict=True))


DENY_ROLE = "403:role_not_allowed"
# Expected outcome per route and caller: "200", "403:<code>", "401".
MATRIX: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/api/v1/searches"): row(
        "202", "403:not_case_judge", "403:not_case_judge", "403:role_cannot_search", "403:role_cannot_search",
        DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    ("GET", "/api/v1/searches/{search_id}"): row(
        "200", "403:not_case_judge", "403:not_case_judge", "200", "403:other_court",
        DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    ("GET", "/api/v1/searches/{search_id}/events"): row(
        "200", "403:not_case_judge", "403:not_case_judge", "200", "403:other_court",
        DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    ("POST", "/api/v1/cases"): row(
        "403:role_cannot_push_cases", "403:role_cannot_push_cases", "403:role_cannot_push_cases",
        "403:role_cannot_push_cases", "403:role_cannot_push_cases", DENY_ROLE, DENY_ROLE, "201", "403:other_court",
        "401"),
    ("POST", "/api/v1/cases:import"): row(
        "403:role_cannot_push_cases", "403:role_cannot_push_cases", "403:role_cannot_push_cases",
        "403:role_cannot_push_cases", "403:role_cannot_push_cases", DENY_ROLE, DENY_ROLE,
        "200", "200",  # the other court's system: 200, its row refused (see _check_import)
        "401"),
    ("GET", "/api/v1/cases:push-conflicts"): row(
        "403:role_cannot_read_push_conflicts", "403:role_cannot_read_push_conflicts",
        "403:role_cannot_read_push_conflicts", "200", "200",  # each court's own (see _check_conflicts)
        DENY_ROLE, DENY_ROLE, "200", "200", "401"),
    ("GET", "/api/v1/cases"): row(
        "200", "200", "200", "200", "200",  # each sees only their own (see _check_list)
        DENY_ROLE, DENY_ROLE, "403:role_cannot_read", "403:role_cannot_read", "401"),
    ("GET", "/api/v1/cases/{case_id}"): row(
        "200", "403:not_case_judge", "403:not_case_judge", "200", "403:other_court",
        DENY_ROLE, DENY_ROLE, "403:role_cannot_read", "403:role_cannot_read", "401"),
    ("GET", "/api/v1/audit"): row(
        "403:role_cannot_read_audit", "403:role_cannot_read_audit", "403:role_cannot_read_audit",
        "200", "200",  # each supervisor sees only their court's trail (see _check_audit)
        "200",  # ops: only the records of no court (issue 14)
        DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    # Agencies and bulk searches (issue 3). Callbacks carry the agency's HMAC signature, not a
    # bearer token: every caller here is refused alike (no signature), and it is not an audited 403.
    ("GET", "/api/v1/agencies"): row(
        "200", "200", "200", "200", "200", "200", DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    ("POST", "/api/v1/agencies/{agency}/callbacks"): row(*(["401"] * 10)),  # unsigned_callback
    ("POST", "/api/v1/searches:batch"): row(
        # A bulk search is refused whole (422) when a row is not lawful; each refused row is audited
        # with its reason, case and subject (see _check_batch_refusal). A supervisor may not search:
        # 403, as on a single search (issue 14).
        "202", "422", "422", "403:role_cannot_search", "403:role_cannot_search",
        DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    ("GET", "/api/v1/searches:batch/{batch_id}"): row(
        "200", "403:not_batch_owner", "403:not_batch_owner", "200", "403:not_batch_owner",
        DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    ("GET", "/api/v1/searches:batch/{batch_id}/results"): row(
        "200", "403:not_batch_owner", "403:not_batch_owner", "200", "403:not_batch_owner",
        DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    # The workbench (issue 7): the demo sign-in is public in demo mode; "me" needs a person's token.
    ("GET", "/api/v1/demo/users"): row(*(["200"] * 10)),
    ("POST", "/api/v1/demo/session"): row(*(["200"] * 10)),
    # ops too (issue 18: the workbench opens on the agencies' health page for the operator).
    ("GET", "/api/v1/workbench/me"): row(
        "200", "200", "200", "200", "200", "200", DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    # The words of the record kinds (issue 18): for the people who read records.
    ("GET", "/api/v1/record-kinds"): row(
        "200", "200", "200", "200", "200", DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    # Case lifecycle, 终本 checklist, indicators and alerts (issue 5).
    ("POST", "/api/v1/cases/{case_id}/events"): row(
        "201", "403:not_case_judge", "403:not_case_judge", "201", "403:other_court",
        DENY_ROLE, DENY_ROLE, "201", "403:other_court", "401"),
    ("GET", "/api/v1/cases/{case_id}/events"): row(
        "200", "403:not_case_judge", "403:not_case_judge", "200", "403:other_court",
        DENY_ROLE, DENY_ROLE, "403:role_cannot_read", "403:role_cannot_read", "401"),
    ("GET", "/api/v1/cases/{case_id}/closure-check"): row(
        "200", "403:not_case_judge", "403:not_case_judge", "200", "403:other_court",
        DENY_ROLE, DENY_ROLE, "403:role_cannot_read", "403:role_cannot_read", "401"),
    ("POST", "/api/v1/cases:import-events"): row(
        "403:role_cannot_import_events", "403:role_cannot_import_events", "403:role_cannot_import_events",
        "403:role_cannot_import_events", "403:role_cannot_import_events", DENY_ROLE, DENY_ROLE,
        "200", "200",  # the other court's system: 200, its line refused and audited (see _check_event_import)
        "401"),
    ("GET", "/api/v1/indicators"): row(
        "200", "200", "200", "200", "200",  # each sees their own figures or court (see _check_indicators)
        DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    ("GET", "/api/v1/indicators/{code}/cases"): row(
        "200", "200", "200", "200", "200", DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    ("GET", "/api/v1/alerts"): row(
        "200", "200", "200", "200", "200", DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    ("POST", "/api/v1/alerts/{alert_id}/status"): row(
        "200", "403:not_case_judge", "403:not_case_judge", "200", "403:other_court",
        DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    # The notice to the applicant (issue 16) is drawn from the results: read like the case. A
    # case system passes the gate (/api/v1/cases) and is refused by the read rule.
    ("GET", "/api/v1/cases/{case_id}/applicant-notice"): row(
        "200", "403:not_case_judge", "403:not_case_judge", "200", "403:other_court",
        DENY_ROLE, DENY_ROLE, "403:role_cannot_read", "403:role_cannot_read", "401"),
    # The breach check of an organization debtor's responsible persons is a search (点对点): the
    # judge holding the case only; a supervisor reads but never searches.
    ("POST", "/api/v1/cases/{case_id}/breach-check"): row(
        "202", "403:not_case_judge", "403:not_case_judge", "403:role_cannot_search", "403:role_cannot_search",
        DENY_ROLE, DENY_ROLE, "403:role_cannot_search", "403:role_cannot_search", "401"),
    # Control measures (issue 17): read like the case's results; taken, renewed and released only
    # by the judge holding the case (check_measure). /api/v1/measures is past a case system's gate.
    ("GET", "/api/v1/cases/{case_id}/measures"): row(
        "200", "403:not_case_judge", "403:not_case_judge", "200", "403:other_court",
        DENY_ROLE, DENY_ROLE, "403:role_cannot_read", "403:role_cannot_read", "401"),
    ("POST", "/api/v1/cases/{case_id}/measures"): row(
        "202", "403:not_case_judge", "403:not_case_judge", "403:role_cannot_control", "403:role_cannot_control",
        DENY_ROLE, DENY_ROLE, "403:role_cannot_control", "403:role_cannot_control", "401"),
    ("GET", "/api/v1/measures/{measure_id}"): row(
        "200", "403:not_case_judge", "403:not_case_judge", "200", "403:other_court",
        DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    ("POST", "/api/v1/measures/{measure_id}:renew"): row(
        "202", "403:not_case_judge", "403:not_case_judge", "403:role_cannot_control", "403:role_cannot_control",
        DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    ("POST", "/api/v1/measures/{measure_id}:release"): row(
        "202", "403:not_case_judge", "403:not_case_judge", "403:role_cannot_control", "403:role_cannot_control",
        DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    # Measures across cases (the supervisor's court-wide view, a judge's own): each caller their
    # own scope (see _check_court_measures); no role outside judges and supervisors passes the gate.
    ("GET", "/api/v1/measures"): row(
        "200", "200", "200", "200", "200", DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    # Approving a deduction held above the court's set amount: a supervisor of the case's court
    # only. The measure here is a freeze, not a held deduction, so the one caller allowed gets 409
    # (not_awaiting_approval); tests/acceptance/test_measures.py approves a real one.
    ("POST", "/api/v1/measures/{measure_id}:approve"): row(
        "403:approval_requires_supervisor", "403:approval_requires_supervisor", "403:approval_requires_supervisor",
        "409", "403:approval_requires_supervisor", DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    # Rejecting a held deduction: as approving it (the freeze here is not held: 409 for the one
    # allowed). Withdrawing it: the case's judge only (409 here too).
    ("POST", "/api/v1/measures/{measure_id}:reject"): row(
        "403:approval_requires_supervisor", "403:approval_requires_supervisor", "403:approval_requires_supervisor",
        "409", "403:approval_requires_supervisor", DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
    ("POST", "/api/v1/measures/{measure_id}:withdraw"): row(
        "409", "403:not_case_judge", "403:not_case_judge", "403:not_case_judge", "403:not_case_judge",
        DENY_ROLE, DENY_ROLE, DENY_ROLE, DENY_ROLE, "401"),
}


@functools.cache
def api_routes() -> frozenset[tuple[str, str]]:
    app = create_app(Settings(database_url="postgresql://unused/none", data_dir=_tmp()))
    found = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or ""
        if route.method not in ("HEAD", "*") and path.startswith("/api/v1/"):
            found.add((route.method, path))
    return frozenset(found)


def _tmp() -> Any:
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp(prefix="matrix-"))


def test_every_api_route_is_in_the_matrix() -> None:
    missing = sorted(api_routes() - set(MATRIX))
    assert not missing, (
        f"routes missing from the authorization matrix: {missing}; add each to MATRIX in "
        f"tests/acceptance/test_authorization_matrix.py (expected outcome per caller) and a request in REQUESTS")


@dataclass
class Ctx:
    case_id: int
    search_id: str
    batch_id: str
    serial: itertools.count  # type: ignore[type-arg]
    alert_id: int = 0
    account_key: str = ""  # a bank account the case's search found (the measure routes)
    measure_id: int = 0  # an active freeze of it (issue 17)
    court_today: date = field(default_factory=date.today)  # the measures' clock (Beijing), for rulings

    def ruling(self, n: int) -> dict[str, str]:
        on = self.court_today
        return {"number": f"（{on.year}）辽0102执{n}号", "ruled_on": on.isoformat()}


def _subject() -> dict[str, str]:
    return {"kind": DEBTOR.kind, "id_number": DEBTOR.id_number, "name": DEBTOR.name}


def _new_case(ctx: Ctx, court: str = "辽0102") -> dict[str, Any]:
    n = next(ctx.serial)
    return {
        "case_number": f"（2026）{court}执{8000 + n}号", "court_code": court,
        "applicant": {"kind": "organization", "id_number": make_credit_code("9", "1", "210102", "MA0Y8R2K"),
                      "name": "沈阳银信小额贷款有限公司"},
        "debtors": [{"kind": "person", "id_number": make_resident_id("210102", date(1980, 1, 1), n % 1000),
                     "name": "矩阵债务人"}],
        "amount_to_enforce": "1000.00", "filed_on": (date.today() - timedelta(days=3)).isoformat(),
    }


def _push_case(ctx: Ctx, caller: str) -> tuple[str, str, dict[str, Any]]:
    return "POST", "/api/v1/cases", {"json": _new_case(ctx)}  # a case of 辽0102, like the target


def _import(ctx: Ctx, caller: str) -> tuple[str, str, dict[str, Any]]:
    import json

    return "POST", "/api/v1/cases:import", {"data": json.dumps(_new_case(ctx), ensure_ascii=False).encode() + b"\n",
                                            "headers": {"Content-Type": "application/x-ndjson"}}


REQUESTS: dict[tuple[str, str], Callable[[Ctx, str], tuple[str, str, dict[str, Any]]]] = {
    ("POST", "/api/v1/searches"): lambda ctx, _c: ("POST", "/api/v1/searches", {"json": {
        "case_id": ctx.case_id, "purpose": "财产调查",
        "subject": {"kind": DEBTOR.kind, "id_number": DEBTOR.id_number, "name": DEBTOR.name}}}),
    ("GET", "/api/v1/searches/{search_id}"): lambda ctx, _c: ("GET", f"/api/v1/searches/{ctx.search_id}", {}),
    ("GET", "/api/v1/searches/{search_id}/events"): lambda ctx, _c: (
        "GET", f"/api/v1/searches/{ctx.search_id}/events", {}),
    ("POST", "/api/v1/cases"): _push_case,
    ("POST", "/api/v1/cases:import"): _import,
    ("GET", "/api/v1/cases"): lambda ctx, _c: ("GET", "/api/v1/cases?limit=500", {}),
    ("GET", "/api/v1/cases:push-conflicts"): lambda ctx, _c: ("GET", "/api/v1/cases:push-conflicts", {}),
    ("GET", "/api/v1/cases/{case_id}"): lambda ctx, _c: ("GET", f"/api/v1/cases/{ctx.case_id}", {}),
    ("GET", "/api/v1/audit"): lambda ctx, _c: ("GET", "/api/v1/audit?limit=500", {}),
    ("GET", "/api/v1/demo/users"): lambda ctx, _c: ("GET", "/api/v1/demo/users", {}),
    ("POST", "/api/v1/demo/session"): lambda ctx, _c: ("POST", "/api/v1/demo/session",
                                                      {"json": {"login": "zhangwei"}}),
    ("GET", "/api/v1/workbench/me"): lambda ctx, _c: ("GET", "/api/v1/workbench/me", {}),
    ("GET", "/api/v1/agencies"): lambda ctx, _c: ("GET", "/api/v1/agencies", {}),
    ("GET", "/api/v1/record-kinds"): lambda ctx, _c: ("GET", "/api/v1/record-kinds", {}),
    ("POST", "/api/v1/agencies/{agency}/callbacks"): lambda ctx, _c: (
        "POST", "/api/v1/agencies/banks/callbacks", {"json": {"tickets": []}}),
    ("POST", "/api/v1/searches:batch"): lambda ctx, _c: ("POST", "/api/v1/searches:batch", {"json": [
        {"case_id": ctx.case_id, "subject": _subject(), "purpose": "财产调查"}]}),
    ("GET", "/api/v1/searches:batch/{batch_id}"): lambda ctx, _c: ("GET", f"/api/v1/searches:batch/{ctx.batch_id}", {}),
    ("GET", "/api/v1/searches:batch/{batch_id}/results"): lambda ctx, _c: (
        "GET", f"/api/v1/searches:batch/{ctx.batch_id}/results", {}),
    ("POST", "/api/v1/cases/{case_id}/events"): lambda ctx, _c: ("POST", f"/api/v1/cases/{ctx.case_id}/events", {
        "json": {"type": "notice_served", "occurred_on": date.today().isoformat()}}),
    ("GET", "/api/v1/cases/{case_id}/events"): lambda ctx, _c: ("GET", f"/api/v1/cases/{ctx.case_id}/events", {}),
    ("GET", "/api/v1/cases/{case_id}/closure-check"): lambda ctx, _c: (
        "GET", f"/api/v1/cases/{ctx.case_id}/closure-check", {}),
    ("POST", "/api/v1/cases:import-events"): lambda ctx, _c: ("POST", "/api/v1/cases:import-events", {
        "data": json.dumps({"case_number": TARGET_NUMBER, "type": "notice_served",
                            "occurred_on": date.today().isoformat()}, ensure_ascii=False).encode() + b"\n",
        "headers": {"Content-Type": "application/x-ndjson"}}),
    ("GET", "/api/v1/indicators"): lambda ctx, _c: ("GET", "/api/v1/indicators", {}),
    ("GET", "/api/v1/indicators/{code}/cases"): lambda ctx, _c: (
        "GET", "/api/v1/indicators/overall_closure_rate/cases", {}),
    ("GET", "/api/v1/alerts"): lambda ctx, _c: ("GET", "/api/v1/alerts", {}),
    ("POST", "/api/v1/alerts/{alert_id}/status"): lambda ctx, _c: (
        "POST", f"/api/v1/alerts/{ctx.alert_id}/status", {"json": {"status": "acknowledged"}}),
    ("GET", "/api/v1/cases/{case_id}/applicant-notice"): lambda ctx, _c: (
        "GET", f"/api/v1/cases/{ctx.case_id}/applicant-notice", {}),
    ("POST", "/api/v1/cases/{case_id}/breach-check"): lambda ctx, _c: (
        "POST", f"/api/v1/cases/{ctx.case_id}/breach-check", {}),
    ("GET", "/api/v1/cases/{case_id}/measures"): lambda ctx, _c: ("GET", f"/api/v1/cases/{ctx.case_id}/measures", {}),
    ("POST", "/api/v1/cases/{case_id}/measures"): lambda ctx, _c: ("POST", f"/api/v1/cases/{ctx.case_id}/measures", {
        "json": {"kind": "freeze", "asset_kind": "bank_account", "natural_key": ctx.account_key,
                 "ruling": ctx.ruling(1)}}),
    ("GET", "/api/v1/measures/{measure_id}"): lambda ctx, _c: ("GET", f"/api/v1/measures/{ctx.measure_id}", {}),
    ("GET", "/api/v1/measures"): lambda ctx, _c: ("GET", "/api/v1/measures?state=live", {}),
    ("POST", "/api/v1/measures/{measure_id}:renew"): lambda ctx, _c: (
        "POST", f"/api/v1/measures/{ctx.measure_id}:renew", {"json": {"ruling": ctx.ruling(2)}}),
    ("POST", "/api/v1/measures/{measure_id}:release"): lambda ctx, _c: (
        "POST", f"/api/v1/measures/{ctx.measure_id}:release", {"json": {"ruling": ctx.ruling(2)}}),
    ("POST", "/api/v1/measures/{measure_id}:approve"): lambda ctx, _c: (
        "POST", f"/api/v1/measures/{ctx.measure_id}:approve", {}),
    ("POST", "/api/v1/measures/{measure_id}:reject"): lambda ctx, _c: (
        "POST", f"/api/v1/measures/{ctx.measure_id}:reject", {"json": {"reason": "金额有误"}}),
    ("POST", "/api/v1/measures/{measure_id}:withdraw"): lambda ctx, _c: (
        "POST", f"/api/v1/measures/{ctx.measure_id}:withdraw", {}),
}
# Routes without bearer authentication: their refusals are the route's own, not audited 403s.
NOT_BEARER = {("POST", "/api/v1/agencies/{agency}/callbacks"), ("GET", "/api/v1/demo/users"),
              ("POST", "/api/v1/demo/session")}


def _check_list(ctx: Ctx, caller: str, body: Any) -> None:
    ids = {c["id"] for c in body["items"]}
    may_read = caller in ("judge_own", "supervisor_same_court")
    assert (ctx.case_id in ids) == may_read, f"{caller} {'should' if may_read else 'must not'} see the case"


def _check_import(ctx: Ctx, caller: str, body: Any) -> None:
    if caller == "case_system_other_court":
        assert body["accepted"] == 0 and [r["code"] for r in body["rejected"]] == ["other_court"]
    else:
        assert body["accepted"] == 1 and body["rejected_count"] == 0


def _check_audit(ctx: Ctx, caller: str, body: Any) -> None:
    """A supervisor reads what concerns their court: its cases, and what its own users did (here, a
    辽0103 judge's refused attempt at the 辽0102 case), nothing else."""
    about_case = [r for r in body["items"] if (r["case"] or {}).get("id") == ctx.case_id]
    if caller == "ops":
        assert body["court_code"] is None and not about_case
        assert all(r["actor"]["court_code"] is None and r["case"] is None for r in body["items"])
        return
    if caller == "supervisor_same_court":
        assert body["court_code"] == "辽0102"
        assert {r["action"] for r in about_case} >= {"search", "refusal"}
    else:
        assert body["court_code"] == "辽0103"
        assert about_case and {r["actor"]["court_code"] for r in about_case} == {"辽0103"}
        assert {r["action"] for r in about_case} == {"refusal"}
    assert all("*" in r["subject"]["id_number"] for r in body["items"] if r["subject"])


BATCH_ROW_REASON = {"judge_same_court": "not_case_judge", "judge_other_court": "not_case_judge",
                    "supervisor_same_court": "role_cannot_search", "supervisor_other_court": "role_cannot_search"}


async def _check_batch_refusal(pool: Any, caller: str, body: Any, request_id: str) -> None:
    assert body["error"]["code"] == "batch_invalid"
    rows = await pool.fetch("SELECT reason, case_court, subject_key FROM audit_log WHERE request_id = $1 "
                            "AND action = 'refusal'", request_id)
    assert [r["reason"] for r in rows] == [BATCH_ROW_REASON[caller]], f"audited {rows}"
    assert [(r["case_court"], r["subject_key"]) for r in rows] == [("辽0102", f"{DEBTOR.kind}:{DEBTOR.id_number}")]


def _check_event_import(ctx: Ctx, caller: str, body: Any) -> None:
    if caller == "case_system_other_court":
        assert body["recorded"] == 0 and [r["code"] for r in body["rejected"]] == ["other_court"]
    else:
        assert body["recorded"] == 1 and body["rejected_count"] == 0


def _check_indicators(ctx: Ctx, caller: str, body: Any) -> None:
    """A judge sees their own figures, a supervisor their court's."""
    expected = {"judge_own": ("辽0102", "zhangwei"), "judge_same_court": ("辽0102", "lina"),
                "judge_other_court": ("辽0103", "wangfang"), "supervisor_same_court": ("辽0102", None),
                "supervisor_other_court": ("辽0103", None)}[caller]
    assert (body["court"], body["judge"]) == expected


def _check_alerts(ctx: Ctx, caller: str, body: Any) -> None:
    ids = {a["id"] for a in body["alerts"]}
    may_read = caller in ("judge_own", "supervisor_same_court")
    assert (ctx.alert_id in ids) == may_read, f"{caller} {'should' if may_read else 'must not'} see the alert"


def _check_conflicts(ctx: Ctx, caller: str, body: Any) -> None:
    court = "辽0102" if caller.endswith("_same_court") else "辽0103"
    assert all(item["court_code"] == court for item in body["items"]), caller


def _check_court_measures(ctx: Ctx, caller: str, body: Any) -> None:
    """The case's live freeze is listed for its judge and its court's supervisor only."""
    ids = [m["id"] for m in body["measures"]]
    expected = [ctx.measure_id] if caller in ("judge_own", "supervisor_same_court") else []
    assert ids == expected, (caller, ids)


CHECKS: dict[tuple[str, str], Callable[[Ctx, str, Any], None]] = {
    ("GET", "/api/v1/measures"): _check_court_measures,
    ("GET", "/api/v1/cases"): _check_list,
    ("GET", "/api/v1/cases:push-conflicts"): _check_conflicts,
    ("POST", "/api/v1/cases:import"): _check_import,
    ("GET", "/api/v1/audit"): _check_audit,
    ("POST", "/api/v1/cases:import-events"): _check_event_import,
    ("GET", "/api/v1/indicators"): _check_indicators,
    ("GET", "/api/v1/alerts"): _check_alerts,
}


async def _call(api: Any, caller: str, method: str, path: str, kwargs: dict[str, Any]) -> tuple[int, Any, str]:
    request_id = f"matrix-{caller.replace('_', '-')}-{abs(hash((method, path))) % 10**8}"
    headers = {**kwargs.pop("headers", {}), "X-Request-Id": request_id}
    who = CALLERS[caller]
    if path.startswith("/api/v1/searches/") and path.endswith("/events"):  # a stream: only the status matters
        if who:
            headers["Authorization"] = f"Bearer {api.token(*who)}"
        async with api.session.get(api.url(path), headers=headers, timeout=aiohttp.ClientTimeout(total=30)) as resp:
            body = await resp.json() if resp.content_type == "application/json" else None
            return resp.status, body, request_id
    login, role = who if who else (None, "judge")
    status, body = await api.request(method, path, login=login, role=role, headers=headers, **kwargs)
    return status, body, request_id


async def _found_account(api: Any, ctx: Ctx) -> None:
    """A bank account with money that the case's search found (as tests/acceptance/test_measures.py)."""
    view = await api.wait_search(ctx.search_id, "zhangwei")
    accounts = [e for e in view["dossier"]["sections"].get("bank_account", [])
                if Decimal(str(e["data"]["available_balance"])) > 10 and e["data"]["status"] != "销户"]
    assert accounts, view["dossier"]["sections"].keys()
    ctx.account_key = accounts[0]["natural_key"]


async def _active_freeze(api: Any, ctx: Ctx) -> int:
    """The judge freezes the account (ruling 1) and the bank holds it."""
    status, body = await api.request("POST", f"/api/v1/cases/{ctx.case_id}/measures", login="zhangwei", json={
        "kind": "freeze", "asset_kind": "bank_account", "natural_key": ctx.account_key, "ruling": ctx.ruling(1)})
    assert status == 202, body
    async with asyncio.timeout(20):
        while True:
            status, got = await api.request("GET", f"/api/v1/measures/{body['id']}", login="zhangwei")
            assert status == 200, got
            if got["status"] != "pending":
                break
            await asyncio.sleep(0.1)
    assert got["status"] == "active", got
    return int(body["id"])


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
async def test_matrix_row(make_api: Any, route: tuple[str, str]) -> None:
    if route not in api_routes():
        pytest.skip(f"{route} is not served (yet)")
    api = await make_api(callback_secrets={"banks": "matrix-callback-secret"})
    pool = api.app[POOL]
    case_id = await pool.fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", TARGET_NUMBER)
    status, created = await api.request("POST", "/api/v1/searches", login="zhangwei", json={
        "case_id": case_id, "subject": {"kind": DEBTOR.kind, "id_number": DEBTOR.id_number, "name": DEBTOR.name}})
    assert status == 202, created
    # The other court's supervisor needs a trail of their own court to read.
    await api.request("GET", f"/api/v1/cases/{case_id}", login="wangfang")
    status, batch = await api.request("POST", "/api/v1/searches:batch", login="zhangwei", json=[
        {"case_id": case_id, "subject": _subject()}])
    assert status == 202, batch
    ctx = Ctx(case_id, created["id"], batch["id"], itertools.count(1))
    if route == ("GET", "/api/v1/audit"):  # the trail lists chained records: wait for the app's chainer
        async with asyncio.timeout(10):
            await api.app[AUDIT_CHAINER].drain()
    if route[1].startswith("/api/v1/alerts"):
        ctx.alert_id = await pool.fetchval(  # an alert on the case, for the alert routes (issue 5)
            "INSERT INTO case_alert (kind, dedupe_key, case_id, evidence) VALUES ('consumption_breach', 'matrix', $1, "
            "'{}'::jsonb) RETURNING id", case_id)
    if "measures" in route[1]:  # a bank account the search found, and (but to freeze it) its freeze
        ctx.court_today = api.app[MEASURE_CLOCK].today()
        await _found_account(api, ctx)
        if route != ("POST", "/api/v1/cases/{case_id}/measures"):
            ctx.measure_id = await _active_freeze(api, ctx)
    wrong: list[str] = []
    for caller, expected in MATRIX[route].items():
        method, path, kwargs = REQUESTS[route](ctx, caller)
        status, body, request_id = await _call(api, caller, method, path, kwargs)
        code = (body or {}).get("error", {}).get("code") if isinstance(body, dict) else None
        got = f"{status}:{code}" if status == 403 else str(status)
        if got != expected:
            wrong.append(f"{caller}: expected {expected}, got {got} ({code})")
            continue
        if status == 403 and route not in NOT_BEARER:
            audited = await pool.fetch("SELECT reason, case_id FROM audit_log WHERE request_id = $1 "
                                       "AND action = 'refusal'", request_id)
            if [r["reason"] for r in audited] != [code]:
                wrong.append(f"{caller}: the refusal {code} was not audited once ({[r['reason'] for r in audited]})")
            elif code != "role_not_allowed" and ("{case_id}" in route[1] or "{measure_id}" in route[1]) \
                    and audited[0]["case_id"] != ctx.case_id:
                wrong.append(f"{caller}: the refusal {code} does not name the case ({audited[0]['case_id']})")
        if status == 422 and route == ("POST", "/api/v1/searches:batch"):
            try:
                await _check_batch_refusal(pool, caller, body, request_id)
            except AssertionError as exc:
                wrong.append(f"{caller}: {exc}")
        if status < 300 and route in CHECKS:
            try:
                CHECKS[route](ctx, caller, body)
            except AssertionError as exc:
                wrong.append(f"{caller}: {exc}")
    assert not wrong, f"{route[0]} {route[1]}:\n  " + "\n  ".join(wrong)


async def test_a_judge_searches_only_debtors_of_their_open_cases(make_api: Any) -> None:
    api = await make_api()
    pool = api.app[POOL]
    case_id = await pool.fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", TARGET_NUMBER)
    other_debtor = CASES[1][-1][0]  # a debtor of another of zhangwei's cases
    status, body = await api.request("POST", "/api/v1/searches", login="zhangwei", json={
        "case_id": case_id, "subject": {"kind": other_debtor.kind, "id_number": other_debtor.id_number,
                                        "name": other_debtor.name}})
    assert (status, body["error"]["code"]) == (403, "subject_not_debtor")
    await pool.execute("UPDATE enforcement_case SET status = 'closed', closure_mode = '执行完毕', "
                       "closed_on = current_date "
                       "WHERE id = $1", case_id)
    status, body = await api.request("POST", "/api/v1/searches", login="zhangwei", headers={"X-Request-Id": "closed-1"},
                                     json={"case_id": case_id, "subject": {"kind": DEBTOR.kind,
                                           "id_number": DEBTOR.id_number, "name": DEBTOR.name}})
    assert (status, body["error"]["code"]) == (403, "case_not_open")
    rec = await pool.fetchrow("SELECT * FROM audit_log WHERE request_id = 'closed-1'")
    assert (rec["action"], rec["reason"], rec["case_id"], rec["subject_key"], rec["purpose"]) == (
        "refusal", "case_not_open", case_id, f"{DEBTOR.kind}:{DEBTOR.id_number}", "财产调查")
    assert rec["details"] == {"attempted": "search"}
    # A 终本 closure closes the case for now: the judge holding it keeps searching its debtor
    # (DOMAIN.md §4), his own post-closure searches counting for the 失信 removal rule.
    await pool.execute("UPDATE enforcement_case SET closure_mode = '终结本次执行程序' WHERE id = $1", case_id)
    status, body = await api.request("POST", "/api/v1/searches", login="zhangwei",
                                     json={"case_id": case_id, "subject": {"kind": DEBTOR.kind,
                                           "id_number": DEBTOR.id_number, "name": DEBTOR.name}})
    assert status == 202, body
    status, body = await api.request("POST", "/api/v1/searches", login="lina",
                                     json={"case_id": case_id, "subject": {"kind": DEBTOR.kind,
                                           "id_number": DEBTOR.id_number, "name": DEBTOR.name}})
    assert (status, body["error"]["code"]) == (403, "not_case_judge")
