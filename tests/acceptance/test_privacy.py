"""Privacy end to end: a debtor's ID number and name never appear in clear in the service's logs,
its metrics or its error messages, through a search, reads, refusals, bad input and imports."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import structlog

from enforcement.api.keys import POOL
from enforcement.kernel.logging import configure_logging
from enforcement.seeds import CASES

NUMBER, _, JUDGE, *_ = CASES[0]
DEBTOR = CASES[0][-1][0]


def secrets_of(id_number: str, name: str) -> list[str]:
    # The whole number, its hidden middle (birth date and sequence), and the name.
    return [id_number, id_number[6:14], name]


@pytest.fixture
def restore_logging() -> Any:
    yield
    structlog.reset_defaults()


async def test_no_id_number_or_name_in_logs_metrics_or_errors(restore_logging: None, capsys: pytest.CaptureFixture[str],
                                                            caplog: pytest.LogCaptureFixture, make_api: Any) -> None:
    # Fixture order matters: the app (make_api) stops before the captured streams close.
    caplog.set_level(logging.DEBUG)  # aiohttp's access log and any library logging too
    configure_logging("DEBUG", json_output=True)  # structlog JSON to the (captured) stderr, as in production
    api = await make_api()
    pool = api.app[POOL]
    cid = await pool.fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", NUMBER)
    subject = {"kind": DEBTOR.kind, "id_number": DEBTOR.id_number, "name": DEBTOR.name}
    bodies: list[Any] = []

    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE, json={"case_id": cid, "subject": subject})
    assert status == 202
    view = await api.wait_search(body["id"], JUDGE)
    assert view["subject"]["id_number"] == DEBTOR.id_number  # the judge sees it; only logs and errors must not
    for login, role in (("lina", "judge"), ("liuyang", "supervisor")):
        bodies.append((await api.request("GET", f"/api/v1/searches/{body['id']}", login=login, role=role))[1])
        bodies.append((await api.request("POST", "/api/v1/searches", login=login, role=role,
                                         json={"case_id": cid, "subject": subject}))[1])
    bad_number = DEBTOR.id_number[:-1] + ("1" if DEBTOR.id_number[-1] != "1" else "2")
    bodies.append((await api.request("POST", "/api/v1/searches", login=JUDGE, json={
        "case_id": cid, "subject": {**subject, "id_number": bad_number}}))[1])
    bodies.append((await api.request("POST", "/api/v1/searches", login=JUDGE, json={
        "case_id": cid, "subject": {**subject, "id_number": DEBTOR.id_number[:17]}}))[1])
    pushed = {"case_number": "（2026）辽0102执9901号", "court_code": "辽0102", "amount_to_enforce": "1.00",
              "filed_on": "2026-01-05", "applicant": {**subject, "id_number": bad_number},
              "debtors": [subject, {**subject, "id_number": bad_number}]}
    bodies.append((await api.request("POST", "/api/v1/cases", login="cms-0102", role="case_system", json=pushed))[1])
    status, report = await api.request("POST", "/api/v1/cases:import", login="cms-0102", role="case_system",
                                       data=json.dumps(pushed, ensure_ascii=False).encode() + b"\n{bad json "
                                       + DEBTOR.id_number.encode() + b"\n",
                                       headers={"Content-Type": "application/x-ndjson"})
    assert status == 200 and report["rejected_count"] == 2
    bodies.append(report)
    status, metrics_text = await api.request("GET", "/metrics")
    assert status == 200

    captured = capsys.readouterr()
    logs = captured.err + captured.out + "\n".join(r.getMessage() for r in caplog.records)
    assert "agency_call_finished" in logs and "dispatcher_started" in logs  # the capture really captured
    errors = json.dumps(bodies, ensure_ascii=False)
    assert all(b.get("error") or b.get("rejected") for b in bodies)
    for where, text in (("logs", logs), ("metrics", metrics_text), ("error bodies", errors)):
        for secret in [*secrets_of(DEBTOR.id_number, DEBTOR.name), bad_number]:
            assert secret not in text, f"{secret[:3]}… appears in clear in the {where}"


def test_an_id_number_inside_an_exception_or_a_library_message_is_masked(
        restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers.clear()  # as in production: configure_logging installs the root handler itself
    try:
        configure_logging("INFO", json_output=True)
        _log_secrets()
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        root.handlers.extend(saved)
    out = capsys.readouterr()
    text = out.err + out.out
    assert "unhandled_error" in text and "already exists" in text and "detail:" in text
    assert DEBTOR.id_number not in text and DEBTOR.id_number[6:14] not in text
    assert DEBTOR.id_number[:6] + "********" + DEBTOR.id_number[-4:] in text


def _log_secrets() -> None:
    log = structlog.get_logger("privacy-test")
    try:
        raise ValueError(f"Key (case_id, role, id_number)=(1, debtor, {DEBTOR.id_number}) already exists")
    except ValueError:
        log.error("unhandled_error", exc_info=True)
    logging.getLogger("asyncpg.test").warning("detail: %s", DEBTOR.id_number)
