"""The database's JSON encoder (orjson, decision 0706) writes what the standard library wrote:
the same JSON for the values the service stores, ``str`` for what JSON does not know, and the
standard library's answer for integers orjson refuses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from enforcement.kernel.pool import _dumps


def before(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class Point:
    x: int


VALUES: list[Any] = [
    {"code": "0000", "msg": "查询成功",
     "data": {"clxx": [{"hphm": "辽A·12345", "cfsl": 0, "dybj": False}], "jls": None}},
    {"answered_at": datetime(2026, 12, 6, 22, 33, 12, 5, tzinfo=UTC), "on": date(2019, 5, 12), "at": time(9, 30)},
    {"amount": Decimal("89196404975.76"), "id": UUID(int=7), "point": Point(1), "kinds": ("a", "b"), "n": 1.5},
    {1: "int key", 2.5: "float key", None: "null key", False: "bool key"},
    [2**63 - 1, -(2**63), 2**64 - 1, 0.1, 1e-7, -0.0],
    {"big": 123456789012345678901234567890, "card": 6222021234567890123456},
    "",
    None,
]


@pytest.mark.parametrize("value", VALUES)
def test_the_same_json_as_the_standard_library(value: Any) -> None:
    assert json.loads(_dumps(value)) == json.loads(before(value))


def test_times_and_unknown_types_are_written_through_str_as_before() -> None:
    moment = datetime(2026, 12, 6, 22, 33, 12, tzinfo=UTC)
    assert _dumps({"at": moment, "p": Point(1)}) == before({"at": moment, "p": Point(1)})
    assert json.loads(_dumps({"at": moment}))["at"] == "2026-12-06 22:33:12+00:00"


def test_integers_past_64_bits_keep_every_digit() -> None:
    assert _dumps({"n": 123456789012345678901234567890}) == '{"n":123456789012345678901234567890}'
