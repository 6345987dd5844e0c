"""The wire date and time parsers take their fast path only for the fixed form and otherwise
behave exactly as ``datetime.strptime`` with the same format: same value, same refusal."""

from __future__ import annotations

import cProfile
import pstats
import random
from collections.abc import Callable
from datetime import date, datetime

import pytest

from connectors.sdk import compact_date, compact_datetime, dashed_date, dashed_datetime

PARSERS: list[tuple[Callable[[str], date | datetime], str, bool]] = [
    (compact_date, "%Y%m%d", True),
    (compact_datetime, "%Y%m%d%H%M%S", False),
    (dashed_date, "%Y-%m-%d", True),
    (dashed_datetime, "%Y-%m-%d %H:%M:%S", False),
]
SPELLINGS = ["20190512", "2019512", "20191332", "20190230", "20240229", "00000101", "2019051２", "20190512 ",
             "2019-05-12", "2019-5-12", "2019-05-32", "abcd-ef-gh", "20260105140311", "20260105240311",
             "2026010514031", "2026-11-24 21:15:22", "2026-11-24 21:15:60", "2026-1-24 1:15:22",
             "2026-11-24T21:15:22", "2026-11-24 21:15:2２", ""]


def outcome(parse: Callable[[], date | datetime]) -> tuple[str, date | datetime | None]:
    try:
        return "ok", parse()
    except ValueError:
        return "refused", None


@pytest.mark.parametrize(("parser", "fmt", "is_date"), PARSERS)
def test_same_as_strptime(parser: Callable[[str], date | datetime], fmt: str, is_date: bool) -> None:
    rng = random.Random(19)
    texts = list(SPELLINGS)
    for _ in range(3000):
        n = rng.choice([8, 10, 14, 19])
        texts.append("".join(rng.choice("0123456789") for _ in range(n)))
        texts.append("".join(rng.choice("0123456789-: T") for _ in range(n)))
    for text in texts:
        def slow(t: str = text) -> date | datetime:
            parsed = datetime.strptime(t, fmt)
            return parsed.date() if is_date else parsed

        assert outcome(lambda t=text: parser(t)) == outcome(slow), text


def test_the_usual_form_costs_no_python_calls_beyond_the_parser() -> None:
    profile = cProfile.Profile()
    profile.enable()
    compact_date("20190512")
    dashed_datetime("2026-11-24 21:15:22")
    profile.disable()
    assert pstats.Stats(profile).total_calls < 25  # type: ignore[attr-defined]  # strptime alone: ~26 each
