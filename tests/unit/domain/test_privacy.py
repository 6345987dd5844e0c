"""Masking for logs: what stays visible, what never does."""

from __future__ import annotations

import pytest

from enforcement.domain.privacy import (
    REDACTED_KEYS,
    mask_account,
    mask_id_number,
    mask_name,
    redact,
)
from enforcement.domain.subjects import Subject


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("11010119900307851X", "110101********851X"),
        ("11010519491231002X", "110105********002X"),
        ("91350100M000100Y43", "913501********0Y43"),
        ("110105491231002", "11***********02"),  # old 15-digit number: at most 2 + 2
        ("1M8GDM9AXKP042788", "1M*************88"),
        ("E12345678", "E1*****78"),
        ("12345678", "1******8"),
        ("12345", "1***5"),
        ("1234", "****"),
        ("12", "**"),
        ("", ""),
    ],
)
def test_mask_id_number(raw: str, masked: str) -> None:
    assert mask_id_number(raw) == masked
    assert len(mask_id_number(raw)) == len(raw)


def test_masks_never_show_half_except_the_customary_18_character_form() -> None:
    for n in range(40):
        value = "9" * n
        assert mask_account(value).count("9") <= n // 2
        if n != 18:
            assert mask_id_number(value).count("9") <= n // 2
    # 18 characters: the address code and the last 4 show; the birth date never does.
    assert mask_id_number("11010519491231002X")[6:14] == "*" * 8


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("  李四 ", "李*"),
        ("买买提·艾力", "买*****"),
        ("张", "*"),
        ("Zhang San", "Z***"),
        ("Émile Zola", "É***"),
        ("Al", "A***"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_mask_name(raw: str, masked: str) -> None:
    assert mask_name(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("6222020200000012345", "***************2345"),
        ("4111111111111111", "************1111"),
        ("12345678", "****5678"),
        ("123456", "***456"),
        ("1234", "****"),
        ("", ""),
    ],
)
def test_mask_account(raw: str, masked: str) -> None:
    assert mask_account(raw) == masked


def test_redacted_keys_cover_the_personal_fields() -> None:
    expected = {
        "id_number",
        "name",
        "subject_name",
        "debtor_name",
        "account_number",
        "card_number",
        "phone",
        "passport_no",
        "document_number",
        "vin",
        "plate_number",
        "address",
    }
    assert expected <= REDACTED_KEYS
    assert isinstance(REDACTED_KEYS, frozenset)


def test_redact_masks_by_kind_of_key() -> None:
    event = {
        "event": "agency_call_finished",
        "agency": "banks",
        "duration_ms": 120,
        "id_number": "11010519491231002X",
        "subject_id_number": "91350100M000100Y43",
        "name": "欧阳娜娜",
        "debtor_name": "Zhang San",
        "account_number": "6222020200000012345",
        "card_number": "4111111111111111",
        "phone": "13800138000",
        "address": "北京市朝阳区某路1号",
        "vin": "1M8GDM9AXKP042788",
        "plate_number": "京A12345",
    }
    out = redact(event)
    assert out == {
        "event": "agency_call_finished",
        "agency": "banks",
        "duration_ms": 120,
        "id_number": "110105********002X",
        "subject_id_number": "913501********0Y43",
        "name": "欧***",
        "debtor_name": "Z***",
        "account_number": "***************2345",
        "card_number": "************1111",
        "phone": "***",
        "address": "***",
        "vin": "1M*************88",
        "plate_number": "***",
    }
    assert event["id_number"] == "11010519491231002X"  # the input is not modified


def test_redact_walks_nested_structures() -> None:
    event: dict[str, object] = {
        "request": {
            "case_number": "（2025）辽0102执1234号",
            "subject": {"ID_Number": "11010519491231002X", "Name": "张三"},
        },
        "accounts": [
            {"account_number": "6222020200000012345", "balance": "100.00"},
            ({"card_no": "4111111111111111"},),
        ],
        "phone": 13800138000,
        "passport_no": None,
        "holder_name": ["张三", "李四"],
    }
    out = redact(event)
    request = out["request"]
    assert isinstance(request, dict)
    assert request["case_number"] == "（2025）辽0102执1234号"
    assert request["subject"] == {"ID_Number": "110105********002X", "Name": "张*"}
    assert out["accounts"] == [
        {"account_number": "***************2345", "balance": "100.00"},
        ({"card_no": "************1111"},),
    ]
    assert out["phone"] == "***"
    assert out["passport_no"] is None
    assert out["holder_name"] == ["张*", "李*"]
    text = repr(out)
    for secret in ("11010519491231002X", "张三", "李四", "6222020200000012345", "13800138000"):
        assert secret not in text


def test_redact_masks_a_mapping_under_a_sensitive_key() -> None:
    out = redact({"name": {"zh": "张三", "en": "Zhang San"}, "address": {"city": "北京"}})
    assert out == {"name": {"zh": "张*", "en": "Z***"}, "address": {"city": "***"}}


def test_redact_replaces_subjects_by_their_masked_form() -> None:
    subject = Subject.parse("person", "11010519491231002X", "张三")
    out = redact({"subject": subject, "subjects": [subject]})
    masked = {"kind": "person", "id_number": "110105********002X", "name": "张*"}
    assert out == {"subject": masked, "subjects": [masked]}


def test_redact_survives_a_cycle() -> None:
    event: dict[str, object] = {"id_number": "11010519491231002X"}
    event["self"] = event
    out = redact(event)
    assert out["id_number"] == "110105********002X"
    assert "11010519491231002X" not in repr(out)
