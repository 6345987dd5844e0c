"""The court's choices the law leaves open, as settings with documented defaults (issue 16)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from enforcement.cases.indicators import Definition, IndicatorChoices
from enforcement.kernel.settings import Settings


def definition(code: str, function: str, window_years: int | None = None) -> Definition:
    return Definition(code, 1, code, code, function, "ratio", "percent", True, Decimal("0.9"), True,
                      window_years, True, "")


def test_defaults_are_the_documented_ones() -> None:
    s = Settings.from_env({})
    assert (s.petitions_before_window, s.overall_closure_window_years, s.deadline_holiday_extends) == (False, 3, False)
    assert s.zhongben_require_onsite is False  # the law: on-site only where the network cannot answer
    c = IndicatorChoices.from_settings(s)
    assert c.apply(definition("petition_closure_rate", "ind_petition_closure_rate")).function_name \
        == "ind_petition_closure_rate"
    assert c.apply(definition("overall_closure_rate", "ind_overall_closure_rate", 3)).window_years == 3


def test_a_court_chooses_carried_petitions_and_a_one_year_window() -> None:
    s = Settings.from_env({"PETITIONS_BEFORE_WINDOW": "true", "OVERALL_CLOSURE_WINDOW_YEARS": "1",
                           "ZHONGBEN_REQUIRE_ONSITE": "true", "DEADLINE_HOLIDAY_EXTENDS": "1"})
    c = IndicatorChoices.from_settings(s)
    assert c.apply(definition("petition_closure_rate", "ind_petition_closure_rate")).function_name \
        == "ind_petition_closure_rate_carried"
    assert c.apply(definition("overall_closure_rate", "ind_overall_closure_rate", 3)).window_years == 1
    # a court's own function is left alone
    assert c.apply(definition("petition_closure_rate", "court_petitions")).function_name == "court_petitions"
    assert s.zhongben_require_onsite and s.deadline_holiday_extends


def test_the_window_is_three_or_one_year() -> None:
    with pytest.raises(ValueError):
        Settings.from_env({"OVERALL_CLOSURE_WINDOW_YEARS": "2"})
