"""The last net of the logs: ID numbers inside free text (exception messages, database errors)."""

from __future__ import annotations

from datetime import date

import pytest

from enforcement.domain.identifiers import make_credit_code, make_resident_id
from enforcement.domain.privacy import scrub_identifiers

RESIDENT = make_resident_id("210102", date(1978, 5, 14), 135)
CREDIT = make_credit_code("9", "1", "210102", "MA0T5K3L")


@pytest.mark.parametrize("number", [RESIDENT, RESIDENT[:-1] + "X", CREDIT, "210102780514135"])
def test_numbers_in_text_are_masked(number: str) -> None:
    text = f'duplicate key value violates unique constraint: Key (id_number)=({number}) already exists; "{number}"'
    out = scrub_identifiers(text)
    assert number not in out
    assert out.count("*") >= 2 * 8 if len(number) == 18 else out.count("*") > 0
    assert out.startswith("duplicate key value violates unique constraint: Key (id_number)=(")


@pytest.mark.parametrize("text", [
    "request 3f2a9c0e4b5d6e7f8a9b0c1d2e3f4a5b done",           # a request id (lowercase hex)
    "hash 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "REQNO 0123456789ABCDEF0123 sent",                         # 20 characters: not an ID
    "amount 386500.00 case （2026）辽0102执1032号 seq 12345",
])
def test_other_text_is_left_alone(text: str) -> None:
    assert scrub_identifiers(text) == text
