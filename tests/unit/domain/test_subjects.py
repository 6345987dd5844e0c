"""Subjects: parsing, the key, and a repr that never leaks; the domain error root."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import date

import pytest

from enforcement.domain.errors import DomainError, InvalidIdentifier, InvalidSubject
from enforcement.domain.subjects import Subject

TODAY = date(2025, 6, 1)
PERSON_ID = "11010519491231002X"  # GB 11643-1999 appendix sample, verified in test_identifiers
ORG_CODE = "91350100M000100Y43"  # verified in test_identifiers


def test_parse_person() -> None:
    subject = Subject.parse("person", " 11010519491231002x ", "  张三 ", today=TODAY)
    assert subject == Subject(kind="person", id_number=PERSON_ID, name="张三")
    assert subject.key == "person:11010519491231002X"


def test_parse_person_converts_an_old_number() -> None:
    subject = Subject.parse("person", "110105491231002", "张三", today=TODAY)
    assert subject.id_number == PERSON_ID


def test_parse_organization() -> None:
    subject = Subject.parse("organization", "91350100m000100y43", "某某科技有限公司")
    assert subject.kind == "organization"
    assert subject.id_number == ORG_CODE
    assert subject.key == "organization:91350100M000100Y43"


def test_kind_is_normalized_and_checked() -> None:
    assert Subject.parse(" Person ", PERSON_ID, "张三").kind == "person"
    for kind in ("company", "", "people", "个人"):
        with pytest.raises(InvalidSubject) as info:
            Subject.parse(kind, PERSON_ID, "张三")
        assert info.value.rule == "kind"
        assert info.value.code == "invalid_subject"
    with pytest.raises(InvalidSubject):
        Subject(kind="company", id_number=PERSON_ID, name="张三")  # type: ignore[arg-type]


def test_the_number_is_checked_by_kind() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        Subject.parse("person", ORG_CODE, "张三")
    assert info.value.code == "invalid_resident_id"
    with pytest.raises(InvalidIdentifier) as info:
        Subject.parse("organization", PERSON_ID, "某某公司")
    assert info.value.code == "invalid_credit_code"
    with pytest.raises(InvalidIdentifier) as info:
        Subject.parse("person", "110105194912310021", "张三")
    assert info.value.rule == "check_digit"
    with pytest.raises(InvalidIdentifier) as info:
        Subject.parse("person", "11010520300101001X", "张三", today=TODAY)
    assert info.value.rule == "future_birth_date"


def test_checksum_allowance_applies_to_organizations_only() -> None:
    pilot = "91350100M000100Y44"
    with pytest.raises(InvalidIdentifier) as info:
        Subject.parse("organization", pilot, "某某公司")
    assert info.value.rule == "check_digit"
    allowed = Subject.parse("organization", pilot, "某某公司", allow_checksum_failure=True)
    assert allowed.id_number == pilot
    with pytest.raises(InvalidIdentifier) as info:
        Subject.parse("organization", "91350100M000100Y4", "某某公司", allow_checksum_failure=True)
    assert info.value.rule == "length"
    with pytest.raises(InvalidIdentifier) as info:
        Subject.parse("person", "110105194912310021", "张三", allow_checksum_failure=True)
    assert info.value.rule == "check_digit"


@pytest.mark.parametrize(
    "name",
    ["张三", "欧阳娜娜", "买买提·艾力", "Zhang San", "O'Brien-Smith", "张\ue000", "x" * 100],
)
def test_names_accepted(name: str) -> None:
    assert Subject.parse("person", PERSON_ID, name).name == name


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "name_empty"),
        ("   ", "name_empty"),
        ("\u3000", "name_empty"),
        ("张" * 101, "name_too_long"),
        ("张\n三", "name_control_char"),
        ("张\t三", "name_control_char"),
        ("张\x00三", "name_control_char"),
        ("张\u202e三", "name_control_char"),  # right-to-left override
        ("张\u200b三", "name_control_char"),  # zero-width space
        ("张\u2028三", "name_control_char"),  # line separator
    ],
)
def test_names_refused(name: str, rule: str) -> None:
    with pytest.raises(InvalidSubject) as info:
        Subject.parse("person", PERSON_ID, name)
    exc = info.value
    assert exc.rule == rule
    assert "[rule: " + rule + "]" in exc.message_en
    assert "[规则：" + rule + "]" in exc.message_zh
    stripped = name.strip()
    if len(stripped) > 1:
        for text in (str(exc), repr(exc), exc.message_zh, repr(exc.details)):
            assert stripped not in text


def test_name_is_nfc_normalized() -> None:
    decomposed = "E\u0301mile"
    assert Subject.parse("person", PERSON_ID, decomposed).name == "\u00c9mile"


def test_repr_and_str_are_masked() -> None:
    subject = Subject.parse("person", PERSON_ID, "欧阳娜娜")
    expected = "Subject(kind='person', id_number='110105********002X', name='欧***')"
    assert repr(subject) == expected
    assert str(subject) == expected
    for text in (repr(subject), str(subject), f"{subject}", repr([subject]), repr({"s": subject})):
        assert PERSON_ID not in text
        assert "欧阳娜娜" not in text


def test_masked() -> None:
    subject = Subject.parse("organization", ORG_CODE, "某某科技有限公司")
    assert subject.masked() == {
        "kind": "organization",
        "id_number": "913501********0Y43",
        "name": "某*******",
    }


def test_subject_is_frozen_and_hashable() -> None:
    a = Subject.parse("person", PERSON_ID, "张三")
    b = Subject.parse("person", "11010519491231002x", "张三 ")
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.name = "李四"  # type: ignore[misc]


# --- the error root -------------------------------------------------------------------------------


def test_domain_error_defaults_come_from_docstring_and_default_zh() -> None:
    exc = DomainError()
    assert exc.code == "domain_error"
    assert exc.message_en == "A domain rule was violated." == str(exc)
    assert exc.message_zh == DomainError.default_zh
    assert exc.details == {}


def test_domain_error_overrides() -> None:
    exc = DomainError(
        "Something specific.", message_zh="具体情况。", code="something_specific", case_id=7
    )
    assert (str(exc), exc.message_zh, exc.code) == (
        "Something specific.",
        "具体情况。",
        "something_specific",
    )
    assert exc.details == {"case_id": 7}
    assert exc.to_dict() == {
        "code": "something_specific",
        "message_zh": "具体情况。",
        "message_en": "Something specific.",
        "details": {"case_id": 7},
    }


def test_subclass_defaults() -> None:
    class CaseClosed(DomainError):
        """The case is closed."""

        default_zh = "案件已结案。"
        code = "case_closed"

    class Undocumented(CaseClosed):
        pass

    assert (str(CaseClosed()), CaseClosed().message_zh, CaseClosed().code) == (
        "The case is closed.",
        "案件已结案。",
        "case_closed",
    )
    assert str(Undocumented()) == "The case is closed."
    assert str(InvalidIdentifier()) == "The identification number is invalid."
    assert InvalidIdentifier().message_zh == "证件号码无效。"
    assert InvalidIdentifier(rule="length").message_en == (
        "Invalid identification number: it has the wrong length [rule: length]."
    )
    assert (
        InvalidSubject().message_en
        == "The subject (the person or organization searched for) is invalid."
    )
    assert InvalidSubject().message_zh == InvalidSubject.default_zh
    assert issubclass(InvalidIdentifier, DomainError) and issubclass(InvalidSubject, DomainError)


def test_invalid_subject_pickles() -> None:
    exc = InvalidSubject(rule="name_too_long", length=120)
    copy = pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes
    assert type(copy) is InvalidSubject
    assert (copy.rule, copy.code, str(copy), copy.details) == (
        "name_too_long",
        "invalid_subject",
        str(exc),
        {"rule": "name_too_long", "length": 120},
    )
