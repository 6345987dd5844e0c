"""Hostile bodies on every route that reads one: the two NDJSON imports, the JSON commands and
the bank callback, with valid content mixed with broken (malformed JSON, deep nesting, integers
beyond 64 bits, NaN and 1e400, NUL, lone surrogates, Unicode line separators, over-long lines,
blank lines). Never a 5xx; every answer as the document describes it; every non-blank line of an
import accounted for in the answer, by its line number (a line is what ends at LF; blank means
whitespace only).

Deterministic (``derandomize``) and bounded (``EXAMPLES`` bodies per test). Generated values are
``Piece``s, whose short ``repr`` is what Hypothesis prints for a failing example.
"""

from __future__ import annotations

import json
import secrets
from datetime import date, timedelta
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from connectors.sdk.signing import sign
from enforcement.domain.identifiers import make_resident_id
from tests.fuzz.conftest import CALLBACK_SECRET, CASE_NUMBER, CASE_SYSTEM, DEBTOR, JUDGE, LiveApp
from tests.openapi_check import validate_response

EXAMPLES = 30
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


class Piece:
    """Text with a short label: failing examples print the label, not 5,000 brackets."""

    __slots__ = ("label", "text")

    def __init__(self, text: str, label: str) -> None:
        self.text, self.label = text, label

    def __repr__(self) -> str:
        return self.label if len(self.label) <= 120 else self.label[:117] + "..."


def piece(text: str, label: str | None = None) -> Piece:
    return Piece(text, label if label is not None else repr(text))


def _deep(depth: int, inner: str = "1") -> Piece:
    return piece("[" * depth + inner + "]" * depth, f"<[ nested {depth} deep]>")


# Values (JSON text) put in place of a field's value, or of the whole document.
HOSTILE = [
    piece("10" * 40, "<40-digit integer>"), piece("-" + "9" * 30), piece("18446744073709551616"),
    piece("1e400"), piece("-1e400"), piece("NaN"), piece("Infinity"), piece("-Infinity"),
    piece('"\\u0000"'), piece('"a\\u0000b"'),       # NUL, escaped
    piece('"\\ud800"'), piece('"x\\udfff"'),        # lone surrogates, escaped
    piece('"\u2028"'), piece('"\u0085"'), piece('"\u3000"'),  # raw separators JSON allows in strings
    _deep(40), _deep(1000), _deep(5000), piece('{"a":' * 200 + "1" + "}" * 200, "<{ nested 200 deep}>"),
    piece("null"), piece("true"), piece('""'), piece("[]"), piece("{}"), piece('"' + "字" * 300 + '"', "<300 字>"),
]
HOSTILE_VALUES = st.sampled_from(HOSTILE)
MARK = "@@hostile@@"  # where the hostile value goes: ASCII, so that ensure_ascii leaves it as it is
# Whole lines or bodies that are not JSON at all.
RAW_GARBAGE = st.one_of(
    st.text(max_size=60).map(piece),                        # any Unicode: raw NUL, separators, surrogates
    st.sampled_from([piece("{"), piece("}"), piece("[1,"), piece('{"a":}'), piece("\x00"), piece("\ud800"),
                     piece('{"case_number": "\x00"}'), piece("\u3000"), piece("\ufeff{}"),
                     piece("x" * 70_000, "<70,000 x: over the line limit>")]),
)
BLANK = st.sampled_from(["", " ", "\t", "\r"]).map(piece)


def _resident(seq: int) -> str:
    return make_resident_id("210102", date(1980, 1, 1) + timedelta(days=seq % 9000), seq % 999 + 1)


def _with_hostile(doc: dict[str, Any], field: str, value: Piece, *, where: str = "") -> Piece:
    text = json.dumps({**doc, field: MARK}, ensure_ascii=False).replace(f'"{MARK}"', value.text)
    return Piece(text, f"{where}{field}={value!r}")


@st.composite
def case_lines(draw: st.DrawFn) -> Piece:
    """A line for cases:import: a valid case of the case system's court, one with a hostile value
    in a field, garbage, or blank."""
    n = draw(st.integers(1, 9999))
    case: dict[str, Any] = {
        "case_number": f"（2026）辽0102执{n}号", "court_code": "辽0102",
        "applicant": {"kind": "person", "id_number": _resident(n), "name": "申请人"},
        "debtors": [{"kind": "person", "id_number": _resident(n + 1), "name": "被执行人"}],
        "amount_to_enforce": "1000.00", "filed_on": (date(2026, 1, 1) + timedelta(days=n % 300)).isoformat(),
    }
    kind = draw(st.sampled_from(["valid", "hostile", "garbage", "blank"]))
    if kind == "valid":
        return Piece(json.dumps(case, ensure_ascii=draw(st.booleans())), f"<case 执{n}号>")
    if kind == "blank":
        return draw(BLANK)
    if kind == "garbage":
        return draw(RAW_GARBAGE)
    field = draw(st.sampled_from(["case_number", "court_code", "amount_to_enforce", "filed_on", "cause", "debtors",
                                  "applicant", "judge", "non_litigation", "extra"]))
    return _with_hostile(case, field, draw(HOSTILE_VALUES), where=f"<case 执{n}号> ")


@st.composite
def event_lines(draw: st.DrawFn) -> Piece:
    """A line for cases:import-events: an event on the seeded case, one with a hostile value,
    garbage, or blank."""
    day = (date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 400)))).isoformat()
    kind_of_event = draw(st.sampled_from(["notice_served", "onsite_inquiry", "amount_recovered",
                                          "suspension_started", "closed", "no_such_type"]))
    event: dict[str, Any] = {"case_number": CASE_NUMBER, "type": kind_of_event, "occurred_on": day, "data": {},
                             "external_id": f"fz-{draw(st.integers(0, 10**6))}"}
    label = f"<{kind_of_event} {day}>"
    kind = draw(st.sampled_from(["valid", "hostile", "hostile_data", "garbage", "blank"]))
    if kind == "valid":
        return Piece(json.dumps(event, ensure_ascii=draw(st.booleans())), label)
    if kind == "blank":
        return draw(BLANK)
    if kind == "garbage":
        return draw(RAW_GARBAGE)
    if kind == "hostile_data":
        key = draw(st.sampled_from(["amount", "reason", "mode", "months", "debtor_id_number", "petition_id", "x"]))
        inner = _with_hostile({}, key, draw(HOSTILE_VALUES))
        return Piece(json.dumps({**event, "data": MARK}, ensure_ascii=False).replace(f'"{MARK}"', inner.text),
                     f"{label} data.{inner!r}")
    field = draw(st.sampled_from(["case_number", "type", "occurred_on", "data", "external_id", "override_reason"]))
    return _with_hostile(event, field, draw(HOSTILE_VALUES), where=f"{label} ")


def _body(lines: list[Piece], crlf: bool) -> bytes:
    return ("\r\n" if crlf else "\n").join(p.text for p in lines).encode("utf-8", "surrogatepass")


def _counted_lines(body: bytes) -> set[int]:
    """Numbers (from 1) of the lines that must be accounted for: every LF-ended line not blank."""
    return {i for i, line in enumerate(body.split(b"\n"), 1) if line.strip()}


def _post(live: LiveApp, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    resp = requests.post(live.base_url + path, data=body, headers=headers, timeout=60)
    content_type = resp.headers.get("Content-Type", "").split(";")[0]
    payload = resp.json() if content_type == "application/json" else resp.text
    assert resp.status_code < 500, f"POST {path} answered {resp.status_code}: {payload}"
    validate_response("POST", path, resp.status_code, content_type, payload)
    return resp.status_code, payload


def _ndjson_headers(live: LiveApp) -> dict[str, str]:
    return {**live.headers(CASE_SYSTEM), "Content-Type": "application/x-ndjson"}


def _brief(report: dict[str, Any]) -> str:
    rejected = [(r["line"], r["code"]) for r in report["rejected"]]
    counts = {k: v for k, v in report.items() if isinstance(v, int | bool)}
    return f"{counts}, rejected {rejected}"


@FUZZ
@given(lines=st.lists(case_lines(), min_size=1, max_size=12), crlf=st.booleans())
def test_case_import_answers_every_line(live: LiveApp, lines: list[Piece], crlf: bool) -> None:
    note(f"lines: {lines!r}, {'CRLF' if crlf else 'LF'}")
    body = _body(lines, crlf)
    status, report = _post(live, "/api/v1/cases:import", body, _ndjson_headers(live))
    assert status == 200, report
    expected = _counted_lines(body)
    rejected = [r["line"] for r in report["rejected"]]
    stored = [c["line"] for c in report["cases"]]
    answered = f"lines {sorted(expected)} sent; answer: {_brief(report)}, stored {stored}"
    assert len(rejected) == len(set(rejected)) and len(stored) == len(set(stored)), answered
    assert set(rejected) | set(stored) == expected and not set(rejected) & set(stored), answered
    assert report["accepted"] + report["rejected_count"] == len(expected), answered
    assert report["truncated"] is False, answered


@FUZZ
@given(lines=st.lists(event_lines(), min_size=1, max_size=12), crlf=st.booleans())
def test_event_import_answers_every_line(live: LiveApp, lines: list[Piece], crlf: bool) -> None:
    note(f"lines: {lines!r}, {'CRLF' if crlf else 'LF'}")
    body = _body(lines, crlf)
    status, report = _post(live, "/api/v1/cases:import-events", body, _ndjson_headers(live))
    assert status == 200, report
    expected = _counted_lines(body)
    rejected = [r["line"] for r in report["rejected"]]
    answered = f"lines {sorted(expected)} sent; answer: {_brief(report)}"
    assert len(rejected) == len(set(rejected)) and set(rejected) <= expected, answered
    assert report["recorded"] + report["duplicates"] + report["rejected_count"] == len(expected), answered
    assert report["truncated"] is False, answered


@st.composite
def callback_bodies(draw: st.DrawFn) -> Piece:
    """A bank's callback: its own shape, with a hostile value, or garbage."""
    item = {"TicketNo": "T-unknown", "Status": "0000", "Accounts": []}
    payload = {"NotifyNo": f"TZ{draw(st.integers(0, 10**9))}", "NotifyTime": "2026-01-01T00:00:00+08:00",
               "ItemCount": 1, "Items": [item]}
    kind = draw(st.sampled_from(["shape", "hostile_item", "hostile", "garbage"]))
    if kind == "garbage":
        return draw(RAW_GARBAGE)
    if kind == "shape":
        return Piece(json.dumps(payload, ensure_ascii=False), "<callback, unknown ticket>")
    if kind == "hostile_item":
        field = draw(st.sampled_from(["TicketNo", "Status", "Accounts", "extra"]))
        inner = _with_hostile(item, field, draw(HOSTILE_VALUES))
        return Piece(json.dumps({**payload, "Items": MARK}, ensure_ascii=False).replace(f'"{MARK}"', f"[{inner.text}]"),
                     f"<callback> Items[0].{inner!r}")
    field = draw(st.sampled_from(["NotifyNo", "NotifyTime", "ItemCount", "Items"]))
    return _with_hostile(payload, field, draw(HOSTILE_VALUES), where="<callback> ")


@FUZZ
@given(body=callback_bodies(), agency=st.sampled_from(["banks", "vehicles", "nobody"]))
def test_signed_callbacks_never_fail(live: LiveApp, body: Piece, agency: str) -> None:
    note(f"POST /api/v1/agencies/{agency}/callbacks, signed: {body!r}")
    raw = body.text.encode("utf-8", "surrogatepass")
    headers = {**sign(CALLBACK_SECRET, raw, nonce=secrets.token_hex(16)), "Content-Type": "application/json"}
    status, answer = _post(live, f"/api/v1/agencies/{agency}/callbacks", raw, headers)
    assert status != 200 or agency == "banks", answer


# --- JSON commands: a valid body with one value made hostile, or a hostile body whole ---

SUBJECT = {"kind": DEBTOR.kind, "id_number": DEBTOR.id_number, "name": DEBTOR.name}
# path ({case_id} and {alert_id} are the live app's), caller, a valid body
JSON_COMMANDS: list[tuple[str, str | None, Any]] = [
    ("/api/v1/searches", JUDGE, {"case_id": "{case_id}", "subject": SUBJECT, "purpose": "财产调查",
                                 "document_number": "X1", "date_from": "2026-01-01"}),
    ("/api/v1/searches:batch", JUDGE, [{"case_id": "{case_id}", "subject": SUBJECT}]),
    ("/api/v1/cases", CASE_SYSTEM, {
        "case_number": "（2026）辽0102执9001号", "court_code": "辽0102", "filed_on": "2026-02-01",
        "applicant": {"kind": "person", "id_number": make_resident_id("210102", date(1970, 1, 1), 7), "name": "甲"},
        "debtors": [SUBJECT], "amount_to_enforce": "10.00", "judge": {"login": "zhangwei", "name": "张伟"}}),
    ("/api/v1/cases/{case_id}/events", CASE_SYSTEM, {"type": "amount_recovered", "occurred_on": "2026-03-01",
                                                    "data": {"amount": "1.00"}, "external_id": "fz-1"}),
    ("/api/v1/cases/{case_id}/events", JUDGE, {"type": "notice_served", "occurred_on": "2026-03-01", "data": {}}),
    ("/api/v1/alerts/{alert_id}/status", JUDGE, {"status": "acknowledged"}),
    ("/api/v1/demo/session", None, {"login": "zhangwei"}),
]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every value in a JSON document, the document itself included."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*path, i))
    return found


def _replaced(value: Any, path: tuple[Any, ...], marker: str) -> Any:
    if not path:
        return marker
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], marker)
    return copy


@st.composite
def hostile_json(draw: st.DrawFn, valid: Any) -> Piece:
    """``valid`` with one value (or the whole document) replaced by a hostile one, or a key added."""
    value = draw(HOSTILE_VALUES)
    if isinstance(valid, dict) and draw(st.booleans()):
        key = draw(st.sampled_from(["data", "extra", "\x00"]))
        doc, where = {**valid, key: MARK}, f"+{key!r}"
    else:
        path = draw(st.sampled_from(_paths(valid)))
        doc, where = _replaced(valid, path, MARK), "/".join(map(str, path)) or "(body)"
    text = json.dumps(doc, ensure_ascii=draw(st.booleans())).replace(f'"{MARK}"', value.text)
    return Piece(text, f"{where}={value!r}")


@pytest.mark.parametrize(("path", "who", "valid"), JSON_COMMANDS,
                         ids=[f"{p}-{w or 'no_token'}" for p, w, _v in JSON_COMMANDS])
@settings(FUZZ, max_examples=2 * EXAMPLES)
@given(data=st.data())
def test_json_commands_refuse_hostile_bodies(live: LiveApp, path: str, who: str | None, valid: Any,
                                             data: st.DataObject) -> None:
    valid = json.loads(json.dumps(valid).replace('"{case_id}"', live.ids["case_id"]))
    url = path.replace("{case_id}", live.ids["case_id"]).replace("{alert_id}", live.ids["alert_id"])
    body = data.draw(st.one_of(hostile_json(valid), hostile_json(valid), hostile_json(valid), RAW_GARBAGE),
                     label="body")
    note(f"POST {url} as {who or 'no token'}: {body!r}")
    _post(live, url, body.text.encode("utf-8", "surrogatepass"),
          {**live.headers(who), "Content-Type": "application/json"})


@pytest.mark.parametrize(("path", "who", "valid"), JSON_COMMANDS,
                         ids=[f"{p}-{w or 'no_token'}" for p, w, _v in JSON_COMMANDS])
def test_json_commands_refuse_every_hostile_value(live: LiveApp, path: str, who: str | None, valid: Any) -> None:
    """Beside the random mix: each hostile value as the whole body and as the first field's value,
    every one tried (the failures listed together)."""
    valid = json.loads(json.dumps(valid).replace('"{case_id}"', live.ids["case_id"]))
    url = path.replace("{case_id}", live.ids["case_id"]).replace("{alert_id}", live.ids["alert_id"])
    first = next(iter(valid)) if isinstance(valid, dict) else 0
    failures = []
    for value in HOSTILE:
        for where in ((), (first,)):
            text = json.dumps(_replaced(valid, where, MARK)).replace(f'"{MARK}"', value.text)
            try:
                _post(live, url, text.encode("utf-8"), {**live.headers(who), "Content-Type": "application/json"})
            except AssertionError as exc:
                failures.append(f"{'/'.join(map(str, where)) or '(body)'}={value!r}: {str(exc).splitlines()[0][:160]}")
    assert not failures, f"POST {url} as {who or 'no token'}:\n" + "\n".join(failures)
