"""One canonical form of a case number (decision 0901): full-width digits, letters and brackets
become half-width digits and full-width brackets, whitespace goes; the number shown keeps the
serial as the court wrote it, the identity (key) reads the serial as a number."""

from __future__ import annotations

import pytest

from enforcement.domain.cases import CaseRejected, canonical_case_number, case_number_key, parse_case_number


@pytest.mark.parametrize("raw", [
    "（2026）辽0103执0877号",
    "(2026)辽0103执0877号",
    "（２０２６）辽０１０３执０８７７号",
    " （2026） 辽0103 执0877号\u3000",
    "(2026)辽0103执\t0877号",
])
def test_every_way_of_writing_one_number_has_one_canonical_form(raw: str) -> None:
    assert canonical_case_number(raw) == "（2026）辽0103执0877号"


def test_leading_zeros_are_shown_as_the_court_wrote_them_and_are_one_serial() -> None:
    assert canonical_case_number("（2026）辽0103执0877号") != canonical_case_number("（2026）辽0103执877号")
    assert case_number_key("（2026）辽0103执0877号") == case_number_key("（2026）辽0103执877号") \
        == case_number_key("(２０２６)辽０１０３执０８７７号") == "（2026）辽0103执877号"
    assert canonical_case_number("（2025）辽0102执09905号") == "（2025）辽0102执09905号"
    assert canonical_case_number("（2025）辽0102执０９９０５号") == "（2025）辽0102执09905号"
    assert canonical_case_number("（2025）辽0102执９９０５号") == "（2025）辽0102执9905号"


def test_the_parsed_number_keeps_its_serial_text() -> None:
    n = parse_case_number("(2026)辽0103执恢0017号")
    assert (n.serial, n.serial_text, n.text) == (17, "0017", "（2026）辽0103执恢0017号")


@pytest.mark.parametrize("raw", ["（2026）辽0103执号", "2026辽0103执1号", "（2026）辽0103执1234567号", ""])
def test_a_number_that_is_not_one_is_refused(raw: str) -> None:
    with pytest.raises(CaseRejected):
        canonical_case_number(raw)
