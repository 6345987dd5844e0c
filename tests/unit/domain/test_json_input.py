"""The one JSON reader at the edge: depth, numbers, NUL and lone surrogates refused with the path."""

from __future__ import annotations

import json

import pytest

from enforcement.domain.json_input import INT_MAX, INT_MIN, MAX_DEPTH, JsonRejected, parse_json


def refused(raw: bytes | str) -> JsonRejected:
    with pytest.raises(JsonRejected) as info:
        parse_json(raw)
    exc = info.value
    assert exc.message_en and exc.message_zh and exc.message_en != exc.message_zh
    return exc


def test_ordinary_json_is_read_as_json_reads_it() -> None:
    doc = {"a": [1, -2, 3.5, True, None, "中文 😀"], "b": {"c": INT_MAX, "d": INT_MIN}, "e": 1e308}
    assert parse_json(json.dumps(doc, ensure_ascii=True).encode()) == doc
    assert parse_json(json.dumps(doc, ensure_ascii=False)) == doc
    assert parse_json("\ufeff{}".encode()) == {}
    assert parse_json('"\\ud83d\\ude00"') == "😀"  # a surrogate pair is one character


def test_nesting_is_bounded_with_the_path() -> None:
    assert parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    exc = refused("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert (exc.code, exc.field, exc.malformed) == ("too_deep", "/".join(["0"] * MAX_DEPTH), False)
    exc = refused('{"data": ' + '{"x": ' * 40 + "1" + "}" * 41)
    assert exc.code == "too_deep" and exc.field == "data/" + "/".join(["x"] * (MAX_DEPTH - 1))
    for deep in ("[" * 1000 + "]" * 1000, "[" * 100_000, '{"a":' * 5000):
        assert refused(deep).code == "too_deep"
    # brackets inside strings are not nesting
    assert parse_json(json.dumps({"s": "[" * 500 + "{" * 500})) == {"s": "[" * 500 + "{" * 500}
    assert parse_json(json.dumps({"s": '\\"[[[' * 50})) == {"s": '\\"[[[' * 50}


@pytest.mark.parametrize(("raw", "code", "field"), [
    ('{"x": NaN}', "number_not_finite", "x"),
    ('{"x": [1, Infinity]}', "number_not_finite", "x/1"),
    ('{"x": -Infinity}', "number_not_finite", "x"),
    ('{"data": {"amount": 1e400}}', "number_not_finite", "data/amount"),
    ('{"x": -1e400}', "number_not_finite", "x"),
    (f'{{"id": {INT_MAX + 1}}}', "integer_out_of_range", "id"),
    (f'{{"id": {INT_MIN - 1}}}', "integer_out_of_range", "id"),
    ('{"id": ' + "9" * 5000 + "}", "integer_out_of_range", "id"),  # beyond Python's 4,300-digit limit too
    ('{"name": "a\\u0000b"}', "nul_character", "name"),
    ('{"a\\u0000": 1}', "nul_character", "a\ufffd"),
    ('{"data": {"note": "\\ud800"}}', "lone_surrogate", "data/note"),
    ('["ok", "\\udfff x"]', "lone_surrogate", "1"),
    ('"\\u0000"', "nul_character", "(root)"),
])
def test_values_the_database_cannot_keep_are_refused_by_path(raw: str, code: str, field: str) -> None:
    exc = refused(raw)
    assert (exc.code, exc.field, exc.malformed) == (code, field, False)
    assert field in exc.message_en and field in exc.message_zh


def test_text_that_is_not_json_or_not_utf8_is_malformed() -> None:
    exc = refused(b'{"a": ')
    assert (exc.code, exc.malformed) == ("malformed_json", True)
    exc = refused(b"\xff\xfe{}")
    assert (exc.code, exc.malformed) == ("invalid_utf8", True)
    assert refused("{'a': 1}").code == "malformed_json"
