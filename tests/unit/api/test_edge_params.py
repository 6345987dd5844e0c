"""Path ids and the bound on anonymous refusal records (issue 14), without I/O."""

from __future__ import annotations

import pytest

from enforcement.api.auth import AnonymousRefusals
from enforcement.api.params import PATH_ID_MAX, parse_path_id


@pytest.mark.parametrize("raw", ["1", "42", str(PATH_ID_MAX)])
def test_path_ids_in_range(raw: str) -> None:
    assert parse_path_id(raw) == int(raw)


@pytest.mark.parametrize("raw", ["", "0", "01", "-1", "+1", " 1", "1 ", "1_0", "\uff11", "\u0661", "1e3", "0x10",
                                 str(PATH_ID_MAX + 1), "9" * 30])
def test_anything_else_is_not_a_path_id(raw: str) -> None:
    assert parse_path_id(raw) is None


def test_anonymous_refusals_are_bounded_per_minute_and_the_rest_counted() -> None:
    now = [0.0]
    bound = AnonymousRefusals(2, clock=lambda: now[0])
    assert [bound.admit() for _ in range(5)] == [0, 0, None, None, None]
    now[0] = 61.0
    assert bound.admit() == 3  # the next record says how many were not written
    assert bound.admit() == 0 and bound.admit() is None
