"""Domain errors: one root, each class's docstring its default English message.

A leaf module: it imports nothing from the project. The API maps each class to a status code
and a JSON body carrying the stable ``code``, both messages and ``details``.

Privacy: a message never carries a full identification number or a name. Callers pass a masked
form (``masked=...``) when they want the user to recognise which number was refused.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

__all__ = ["CaseNotFound", "DomainError", "InvalidIdentifier", "InvalidSubject", "NotFoundError", "StateConflict"]


class DomainError(Exception):
    """A domain rule was violated."""

    default_zh: ClassVar[str] = "违反业务规则。"
    code: str = "domain_error"

    def __init__(
        self,
        message_en: str | None = None,
        *,
        message_zh: str | None = None,
        code: str | None = None,
        **details: object,
    ) -> None:
        self.message_en: str = message_en or self.default_en()
        self.message_zh: str = message_zh or type(self).default_zh
        self.code = code or type(self).code
        self.details: dict[str, object] = dict(details)
        super().__init__(self.message_en)

    @classmethod
    def default_en(cls) -> str:
        """The nearest class docstring, or the code when docstrings are stripped (``-OO``)."""
        for klass in cls.__mro__:
            doc = klass.__dict__.get("__doc__")
            if doc:
                return inspect.cleandoc(doc)
            if klass is DomainError:
                break
        return cls.code

    def __str__(self) -> str:
        return self.message_en

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors defeat Exception's default pickling; restore the state as is.
        return (_restore, (type(self), dict(self.__dict__)))

    def to_dict(self) -> dict[str, object]:
        """The JSON body the API sends (without the request id, which the API adds)."""
        return {
            "code": self.code,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "details": dict(self.details),
        }


def _restore(cls: type[DomainError], state: dict[str, object]) -> DomainError:
    exc = cls.__new__(cls)
    exc.__dict__.update(state)
    exc.args = (state.get("message_en", ""),)
    return exc


# What kind of number, in both languages. The key also names the error code: invalid_<kind>.
KINDS: dict[str, tuple[str, str]] = {
    "resident_id": ("resident ID number", "居民身份证号码"),
    "credit_code": ("unified social credit code", "统一社会信用代码"),
    "org_code": ("organization code", "组织机构代码"),
    "vin": ("vehicle identification number (VIN)", "车辆识别代号（VIN）"),
    "bank_card": ("bank card number", "银行卡号"),
    "corporate_account": ("corporate account number", "单位银行账号"),
    "plate": ("licence plate number", "机动车号牌号码"),
}

# Which rule failed, in both languages.
RULES: dict[str, tuple[str, str]] = {
    "empty": ("it is empty", "号码为空"),
    "length": ("it has the wrong length", "长度不正确"),
    "charset": ("it contains a character that is not allowed", "含有不允许使用的字符"),
    "address_code": (
        "the address code does not begin with a valid province code",
        "地址码的省级代码无效",
    ),
    "birth_date": ("the birth date is not a real date", "出生日期不是有效日期"),
    "future_birth_date": ("the birth date is in the future", "出生日期晚于当前日期"),
    "birth_date_too_early": ("the birth date is before 1900", "出生日期早于1900年"),
    "check_digit": (
        "the check character does not match the other characters",
        "校验码与其他各位不符",
    ),
    "org_code_check": (
        "the check character of the organization code (positions 9-17) does not match",
        "第9至17位组织机构代码的校验码不符",
    ),
    "vin_check_digit": (
        "the check digit (position 9) does not match the other characters",
        "第9位校验位与其他各位不符",
    ),
    "luhn": ("it fails the Luhn check", "未通过Luhn校验"),
    "plate_province": (
        "it does not begin with a province abbreviation",
        "首字不是省、自治区、直辖市简称",
    ),
    "plate_authority": (
        "the second character is not an issuing-authority letter (A-Z, except I and O)",
        "第二位不是发牌机关代号（A-Z，不含I、O）",
    ),
    "plate_format": ("it does not follow the plate format", "不符合号牌编码规则"),
}

# What the rule expects, per kind, where it helps the user fix the number.
HINTS: dict[tuple[str, str], tuple[str, str]] = {
    ("resident_id", "length"): (
        "18 characters, or 15 digits for an old number",
        "应为18位，旧号码为15位数字",
    ),
    ("resident_id", "charset"): (
        "digits, with X only as the last character",
        "应为数字，仅末位可为X",
    ),
    ("credit_code", "length"): ("18 characters", "应为18位"),
    ("credit_code", "charset"): (
        "digits and capital letters except I, O, S, V, Z",
        "应为数字或除I、O、S、V、Z以外的大写字母",
    ),
    ("vin", "length"): ("17 characters", "应为17位"),
    ("vin", "charset"): (
        "digits and capital letters except I, O, Q",
        "应为数字或除I、O、Q以外的大写字母",
    ),
    ("bank_card", "length"): ("16 to 19 digits", "应为16至19位数字"),
    ("bank_card", "charset"): ("digits only", "应全部为数字"),
    ("corporate_account", "length"): ("8 to 32 digits", "应为8至32位数字"),
    ("corporate_account", "charset"): ("digits only", "应全部为数字"),
    ("plate", "length"): ("7 characters, 8 for a new-energy vehicle", "应为7位，新能源汽车为8位"),
    ("plate", "charset"): (
        "digits and letters except I and O; 学警挂港澳领使 only as the last character",
        "应为数字或除I、O以外的字母，学警挂港澳领使仅可作末位",
    ),
    ("plate", "plate_format"): (
        "D or F first or last of the 6 characters of a new-energy plate",
        "新能源号牌的6位序号首位或末位应为D或F",
    ),
}


class InvalidIdentifier(DomainError):
    """The identification number is invalid."""

    default_zh = "证件号码无效。"
    code = "invalid_identifier"

    def __init__(
        self,
        message_en: str | None = None,
        *,
        kind: str = "identifier",
        rule: str = "format",
        masked: str | None = None,
        position: int | None = None,
        message_zh: str | None = None,
        code: str | None = None,
        **details: object,
    ) -> None:
        self.kind = kind
        self.rule = rule
        if masked is not None:
            details["masked"] = masked
        if position is not None:
            details["position"] = position
        # Known kind or rule: a composed message; neither: the class defaults (docstring).
        known = kind in KINDS or rule in RULES
        en, zh = _describe(kind, rule, masked, position) if known else (None, None)
        super().__init__(
            message_en or en,
            message_zh=message_zh or zh,
            code=code or (f"invalid_{kind}" if kind in KINDS else None),
            kind=kind,
            rule=rule,
            **details,
        )


def _describe(kind: str, rule: str, masked: str | None, position: int | None) -> tuple[str, str]:
    """Both messages: which kind of number, which rule failed, never the number itself."""
    kind_en, kind_zh = KINDS.get(kind, ("identification number", "证件号码"))
    rule_en, rule_zh = RULES.get(rule, (f"it breaks the rule {rule!r}", "不符合编码规则"))
    shown_en = f" {masked}" if masked else ""
    shown_zh = f"（{masked}）" if masked else ""
    where_en = f" at position {position}" if position is not None else ""
    where_zh = f"（第{position}位）" if position is not None else ""
    hint_en, hint_zh = HINTS.get((kind, rule), ("", ""))
    hint_en = f" (expected {hint_en})" if hint_en else ""
    hint_zh = f"，{hint_zh}" if hint_zh else ""
    en = f"Invalid {kind_en}{shown_en}: {rule_en}{where_en}{hint_en} [rule: {rule}]."
    zh = f"{kind_zh}{shown_zh}无效：{rule_zh}{where_zh}{hint_zh}。[规则：{rule}]"
    return en, zh


SUBJECT_RULES: dict[str, tuple[str, str]] = {
    "kind": (
        "the subject kind must be 'person' or 'organization'",
        "主体类型必须为自然人（person）或单位（organization）",
    ),
    "name_empty": ("the name is empty", "名称为空"),
    "name_too_long": ("the name is longer than 100 characters", "名称超过100个字符"),
    "name_control_char": (
        "the name contains a control or invisible formatting character",
        "名称含有控制字符或不可见的格式字符",
    ),
}


class InvalidSubject(DomainError):
    """The subject (the person or organization searched for) is invalid."""

    default_zh = "被查询主体信息无效。"
    code = "invalid_subject"

    def __init__(
        self,
        message_en: str | None = None,
        *,
        rule: str = "subject",
        message_zh: str | None = None,
        code: str | None = None,
        **details: object,
    ) -> None:
        self.rule = rule
        en, zh = SUBJECT_RULES.get(rule, ("", ""))
        super().__init__(
            message_en or (f"Invalid subject: {en} [rule: {rule}]." if en else None),
            message_zh=message_zh or (f"被查询主体无效：{zh}。[规则：{rule}]" if zh else None),
            code=code,
            rule=rule,
            **details,
        )


class NotFoundError(DomainError):
    """No such thing."""

    default_zh = "不存在"


class StateConflict(DomainError):
    """The thing is not in a state that allows this."""

    default_zh = "当前状态不允许此操作"


class CaseNotFound(NotFoundError):
    """No such case."""

    default_zh = "案件不存在"
    code = "case_not_found"
