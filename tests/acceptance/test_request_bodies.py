"""Request bodies over real HTTP: every body is read whole (or line by line to its end) under a
per-route limit, every NDJSON line is accounted for, and JSON at the edge is bounded (depth,
numbers, NUL, lone surrogates) with a bilingual 4xx naming the field, never a 500."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from enforcement.api.keys import POOL
from enforcement.cases.lifecycle import court_today
from enforcement.seeds import CASES

TODAY = court_today()
CMS = {"login": "cms-0102", "role": "case_system"}
NDJSON = {"Content-Type": "application/x-ndjson"}
OUR_CASES = [c[0] for c in CASES if c[1] == "辽0102"]


async def slowly(body: bytes, piece: int = 32 * 1024, pause: float = 0.005) -> AsyncIterator[bytes]:
    """The body in pieces with a pause between them, so it reaches the server in many reads
    (and, without Content-Length, chunked)."""
    for start in range(0, len(body), piece):
        yield body[start:start + piece]
        await asyncio.sleep(pause)


def event_lines(count: int, *, pad: int = 2800) -> bytes:
    """``count`` events over the court's seeded cases, ~3 KB each; external ids repeat every 40
    lines per case, so the first of each is recorded and the rest are duplicates."""
    on = (TODAY - timedelta(days=3)).isoformat()
    rows = []
    for i in range(count):
        number = OUR_CASES[i % len(OUR_CASES)]
        rows.append(json.dumps({"case_number": number, "type": "notice_served", "occurred_on": on,
                                "external_id": f"bulk-{i % 40}", "data": {"note": "x" * pad}},
                               ensure_ascii=False).encode())
    return b"\n".join(rows) + b"\n"


def assert_bilingual(body: Any, code: str) -> dict[str, Any]:
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, body
    assert error["message"]["zh"] and error["message"]["en"], body
    return error


async def test_an_event_import_arriving_in_pieces_is_read_to_its_end(make_api: Any) -> None:
    api = await make_api()
    body = event_lines(1000)
    assert len(body) > 2_500_000
    status, report = await api.request("POST", "/api/v1/cases:import-events", data=slowly(body),
                                       headers=NDJSON, **CMS)
    assert status == 200, report
    assert report["lines"] == 1000, {k: v for k, v in report.items() if k != "rejected"}
    assert report["rejected_count"] == 0, report["rejected"][:3]
    assert report["recorded"] + report["duplicates"] == 1000
    assert report["recorded"] == 40 and report["truncated"] is False
    stored = await api.app[POOL].fetchval("SELECT count(*) FROM case_event WHERE external_id LIKE 'bulk-%'")
    assert stored == 40


async def test_a_6000_line_event_import_accounts_for_every_line(make_api: Any) -> None:
    """6,000 lines sent in pieces: every one is recorded, a duplicate, or rejected with its number
    and reason; bad JSON on a line (nesting, NaN, 1e400, 2**64, NUL, a lone surrogate, an
    oversized data) is a rejected line, not a failed import."""
    api = await make_api()
    on = (TODAY - timedelta(days=3)).isoformat()
    bad = [  # (raw line, expected code)
        (b'{"case_number": "x", "type": "notice_served", "data": ' + b'{"a": ' * 40 + b"1" + b"}" * 41,
         "too_deep"),
        (b'{"case_number": "x", "type": "notice_served", "data": {"n": NaN}}', "number_not_finite"),
        (b'{"case_number": "x", "type": "notice_served", "data": {"n": 1e400}}', "number_not_finite"),
        (b'{"case_number": "x", "type": "notice_served", "data": {"n": 18446744073709551616}}',
         "integer_out_of_range"),
        (b'{"case_number": "x\\u0000", "type": "notice_served"}', "nul_character"),
        (b'{"case_number": "x", "type": "notice_served", "data": {"s": "\\ud800"}}', "lone_surrogate"),
        (b'{"case_number": "x", "type": "notice_served"', "malformed_json"),
    ]
    rows, expected = [], {}
    for i in range(6000):
        if i % 8 == 7:
            raw, code = bad[(i // 8) % len(bad)]
            rows.append(raw)
            expected[i + 1] = code
        else:
            rows.append(json.dumps({"case_number": OUR_CASES[i % len(OUR_CASES)], "type": "notice_served",
                                    "occurred_on": on, "external_id": f"six-{i % 28}",
                                    "data": {"note": "记录" * 200}}, ensure_ascii=False).encode())
    rows[10] = json.dumps({"case_number": OUR_CASES[0], "type": "notice_served", "occurred_on": on,
                           "data": {"note": "x" * (17 * 1024)}}).encode()
    expected[11] = "data_too_large"
    body = b"\n".join(rows) + b"\n"
    assert len(body) > 6_000_000
    status, report = await api.request("POST", "/api/v1/cases:import-events", data=slowly(body, 64 * 1024, 0.002),
                                       headers=NDJSON, **CMS)
    assert status == 200, report
    assert report["lines"] == 6000
    assert report["recorded"] + report["duplicates"] + report["rejected_count"] == 6000
    assert report["rejected_count"] == len(expected) == 751 and report["truncated"] is False
    assert {r["line"]: r["code"] for r in report["rejected"]} == expected
    by_line = {r["line"]: r for r in report["rejected"]}
    assert by_line[8]["field"] == "data/" + "/".join(["a"] * 31) and by_line[16]["field"] == "data/n"
    assert by_line[11]["field"] == "data"
    assert all(r["message"]["zh"] and r["message"]["en"] for r in report["rejected"])
    distinct = {(OUR_CASES[i % len(OUR_CASES)], i % 28) for i in range(6000) if i + 1 not in expected}
    stored = await api.app[POOL].fetchval("SELECT count(*) FROM case_event WHERE external_id LIKE 'six-%'")
    assert stored == report["recorded"] == len(distinct)


async def test_an_event_import_past_its_limits(make_api: Any) -> None:
    api = await make_api(case_import_max_lines=3, case_import_max_bytes=8 * 1024)
    on = (TODAY - timedelta(days=3)).isoformat()
    body = b"".join(json.dumps({"case_number": OUR_CASES[0], "type": "notice_served", "occurred_on": on,
                                "external_id": f"lim-{i}"}, ensure_ascii=False).encode() + b"\n\n" for i in range(5))
    status, report = await api.request("POST", "/api/v1/cases:import-events", data=slowly(body, 50),
                                       headers=NDJSON, **CMS)
    assert status == 200, report
    assert (report["lines"], report["recorded"], report["rejected_count"]) == (5, 3, 2)
    assert [(r["line"], r["code"]) for r in report["rejected"]] == [(7, "too_many_lines"), (9, "too_many_lines")]

    big = body * 20  # over 8 KiB: refused whole, before anything is recorded, sent with or without a length
    for data in (big, slowly(big, 1000)):
        status, error = await api.request("POST", "/api/v1/cases:import-events", data=data, headers=NDJSON, **CMS)
        assert status == 413
        assert assert_bilingual(error, "payload_too_large")["details"]["limit"] == 8 * 1024
    assert await api.app[POOL].fetchval("SELECT count(*) FROM case_event WHERE external_id LIKE 'lim-%'") == 3


async def test_a_case_import_reports_bad_json_lines_by_number(make_api: Any) -> None:
    api = await make_api()
    body = b"\n".join([b'{"case_number": NaN}', b"[" * 1000 + b"]" * 1000, b'{"case_number": "\\u0000"}', b"",
                       b'{"amount_to_enforce": 1e999}']) + b"\n"
    status, report = await api.request("POST", "/api/v1/cases:import", data=slowly(body, 7), headers=NDJSON, **CMS)
    assert status == 200, report
    assert report["lines"] == 4 and report["accepted"] == 0
    assert [(r["line"], r["code"], r["field"]) for r in report["rejected"]] == [
        (1, "number_not_finite", "case_number"), (2, "too_deep", "/".join(["0"] * 32)),
        (3, "nul_character", "case_number"), (5, "number_not_finite", "amount_to_enforce")]


def deep(levels: int) -> bytes:
    return b'{"a": ' * levels + b"1" + b"}" * levels


EDGE_BODIES = [  # (raw JSON, expected status, code, field)
    (deep(1000), 422, "too_deep", "/".join(["a"] * 32)),
    (b"[" * 60_000, 422, "too_deep", "/".join(["0"] * 32)),
    (b'{"login": "zhangwei", "x": NaN}', 422, "number_not_finite", "x"),
    (b'{"login": "zhangwei", "x": -Infinity}', 422, "number_not_finite", "x"),
    (b'{"login": "zhangwei", "x": 1e400}', 422, "number_not_finite", "x"),
    (b'{"login": "zhangwei", "x": 9223372036854775808}', 422, "integer_out_of_range", "x"),
    (b'{"login": "zhang\\u0000wei"}', 422, "nul_character", "login"),
    (b'{"login": "\\udc00"}', 422, "lone_surrogate", "login"),
    (b'{"login": ', 400, "malformed_json", None),
    (b'{"login": "\xff"}', 400, "malformed_json", None),
]


async def test_json_at_the_edge_is_bounded_on_every_json_route(make_api: Any) -> None:
    api = await make_api()
    cid = await api.app[POOL].fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", OUR_CASES[0])
    routes = [  # (path, login, role): the sign-in needs no token
        ("/api/v1/demo/session", None, "judge"),
        ("/api/v1/searches", "zhangwei", "judge"),
        ("/api/v1/cases", "cms-0102", "case_system"),
        (f"/api/v1/cases/{cid}/events", "zhangwei", "judge"),
        ("/api/v1/alerts/1/status", "zhangwei", "judge"),
        ("/api/v1/searches:batch", "zhangwei", "judge"),
    ]
    json_type = {"Content-Type": "application/json"}
    for path, login, role in routes:
        for raw, status, code, field in EDGE_BODIES:
            got, body = await api.request("POST", path, data=raw, headers=json_type, login=login, role=role)
            assert (got, body["error"]["code"]) == (status, code), (path, raw[:40], body)
            error = assert_bilingual(body, code)
            assert error.get("details", {}).get("field") == field, (path, raw[:40], body)
    # a bulk search as NDJSON: the line is named too
    got, body = await api.request("POST", "/api/v1/searches:batch", data=b"{}\n" + deep(40) + b"\n",
                                  headers=NDJSON, login="zhangwei")
    assert (got, body["error"]["code"], body["error"]["details"]["line"]) == (422, "too_deep", 2)


async def test_bodies_are_bounded_per_route(make_api: Any) -> None:
    api = await make_api(json_body_max_bytes=4096, callback_max_bytes=2048, batch_max_bytes=64 * 1024)
    huge = b"[" + b"0," * (1024 * 1024) + b"0]"  # 2 MiB of a flat array
    for path, login, role in (("/api/v1/demo/session", None, "judge"), ("/api/v1/searches", "zhangwei", "judge"),
                              ("/api/v1/cases", "cms-0102", "case_system")):
        for data in (io.BytesIO(huge), slowly(huge, 64 * 1024, 0)):
            status, body = await api.request("POST", path, data=data, login=login, role=role,
                                             headers={"Content-Type": "application/json"})
            assert status == 413, (path, body)
            assert assert_bilingual(body, "payload_too_large")["details"]["limit"] == 4096
    status, body = await api.request("POST", "/api/v1/searches:batch", data=io.BytesIO(huge), login="zhangwei",
                                     headers={"Content-Type": "application/json"})
    assert (status, body["error"]["details"]["limit"]) == (413, 64 * 1024)
    # the callback: refused on its size before the signature is looked at (there is none here)
    for data in (io.BytesIO(huge), slowly(huge, 64 * 1024, 0)):
        status, body = await api.request("POST", "/api/v1/agencies/banks/callbacks", data=data,
                                         headers={"Content-Type": "application/json"})
        assert status == 413 and assert_bilingual(body, "payload_too_large")["details"]["limit"] == 2048
    # within the limit, a JSON command still works when its body arrives in pieces
    status, body = await api.request("POST", "/api/v1/demo/session", data=slowly(b'{"login": "zhangwei"}', 3),
                                     headers={"Content-Type": "application/json"})
    assert status == 200 and body["user"]["login"] == "zhangwei"


async def test_event_data_is_bounded(make_api: Any) -> None:
    api = await make_api(event_data_max_bytes=1024)
    cid = await api.app[POOL].fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", OUR_CASES[0])
    on = (TODAY - timedelta(days=1)).isoformat()
    status, body = await api.request("POST", f"/api/v1/cases/{cid}/events", login="zhangwei",
                                     json={"type": "notice_served", "occurred_on": on, "data": {"n": "字" * 400}})
    assert status == 422
    error = assert_bilingual(body, "data_too_large")
    assert (error["details"]["field"], error["details"]["limit"]) == ("data", 1024)
    status, body = await api.request("POST", f"/api/v1/cases/{cid}/events", login="zhangwei",
                                     json={"type": "notice_served", "occurred_on": on, "data": {"n": "字" * 300}})
    assert status == 201, body


async def test_nul_in_a_query_parameter_is_refused_by_name(make_api: Any) -> None:
    api = await make_api()
    for path, login, role, name in (("/api/v1/cases?judge=%00", "chenjing", "supervisor", "judge"),
                                    ("/api/v1/cases?status=open&judge=a%00b", "zhangwei", "judge", "judge"),
                                    ("/api/v1/audit?actor=%00", "ops", "ops", "actor"),
                                    ("/api/v1/indicators?court=%00", "zhangwei", "judge", "court"),
                                    ("/api/v1/alerts?kind=%00", "zhangwei", "judge", "kind")):
        status, body = await api.request("GET", path, login=login, role=role)
        assert status == 422, (path, body)
        assert assert_bilingual(body, "invalid_parameter")["details"]["parameter"] == name


async def test_a_compressed_body_is_bounded_as_it_is_inflated(make_api: Any) -> None:
    """A small gzip body (Content-Length well within the limit) that inflates past it is a 413:
    the limit is on what the route reads, not on what crossed the wire (read_body reads an
    uncompressed body of known length at once, a compressed one counted chunk by chunk)."""
    import gzip

    api = await make_api(json_body_max_bytes=4096)
    bomb = gzip.compress(b'{"case_id": 1, "pad": "' + b"a" * (1024 * 1024) + b'"}')
    assert len(bomb) < 4096
    for path, login, role in (("/api/v1/demo/session", None, "judge"), ("/api/v1/searches", "zhangwei", "judge")):
        status, body = await api.request("POST", path, data=bomb, login=login, role=role,
                                         headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        assert status == 413, (path, body)
        assert assert_bilingual(body, "payload_too_large")["details"]["limit"] == 4096
    small = gzip.compress(b'{"login": "zhangwei"}')
    status, body = await api.request("POST", "/api/v1/demo/session", data=small,
                                     headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert status == 200 and body["user"]["login"] == "zhangwei"
