"""An enforcement case as the court's case-management system pushes it: pure parsing and rules.

The JSON shape is ``schemas/case.schema.json`` (the API checks the structure against it first);
``parse_case`` then applies what a schema cannot say: the case number's form and its agreement
with the court and the type, valid ID numbers for every party (with their check characters),
amounts in yuan with at most two decimals, no filing date in the future, and a closure mode and
date exactly when the case is closed. Messages never carry an ID number or a name in clear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from enforcement.domain.errors import DomainError
from enforcement.domain.subjects import Subject

CASE_TYPES = ("执", "执恢", "执保", "执异", "执复")
CASE_STATUSES = ("open", "suspended", "closed")
CLOSURE_MODES = ("执行完毕", "终结本次执行程序", "终结执行", "不予执行", "驳回申请", "销案", "和解长期履行")
MAX_DEBTORS = 50
MAX_RESPONSIBLE = 20  # responsible persons named for one organization debtor
# Whom a consumption restriction order on an organization binds (SPC 《关于限制被执行人高消费及有关消费的
# 若干规定》 art. 3(2)): its legal representative, principal responsible persons, those directly responsible.
RESPONSIBLE_ROLES = ("法定代表人", "主要负责人", "直接责任人员")
MAX_AMOUNT = Decimal("1e16")

# （2025）辽0102执1234号: year, court code (province abbreviation + 4 digits), type, serial; matched
# after full-width ASCII became half-width and whitespace went (see ``canonical_case_number``).
_CASE_NUMBER = re.compile(r"^[（(]([0-9]{4})[）)]([\u4e00-\u9fff][0-9]{4})(执恢|执保|执异|执复|执)([0-9]{1,6})号$")
_HALF_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0xFF08: "(", 0xFF09: ")"}
STATE_FIELDS = ("status", "amount_recovered")  # a push states these only when it sends them


class CaseRejected(DomainError):
    """The case is invalid."""

    default_zh = "案件信息不合法"
    code = "invalid_case"

    def __init__(self, code: str, field: str, message_en: str, message_zh: str) -> None:
        super().__init__(message_en, message_zh=message_zh, code=code, field=field)
        self.field = field


@dataclass(frozen=True, slots=True)
class JudgeRef:
    """The judge the case is assigned to, as the case system knows them."""

    login: str
    name: str
    officer_id: str | None = None


@dataclass(frozen=True, slots=True)
class ResponsiblePerson:
    """A person an organization debtor's consumption restriction binds: ``debtor_id_number`` is the
    organization's credit code, ``person`` the natural person (resident ID checked), ``role`` one
    of ``RESPONSIBLE_ROLES``."""

    debtor_id_number: str
    person: Subject
    role: str


@dataclass(frozen=True, slots=True)
class CaseInput:
    case_number: str
    court_code: str
    case_type: str
    judge: JudgeRef | None
    applicant: Subject
    debtors: tuple[Subject, ...]
    cause: str
    amount_to_enforce: Decimal
    amount_recovered: Decimal
    non_litigation: bool
    filed_on: date
    status: str
    closure_mode: str | None = None
    closed_on: date | None = None
    case_number_as_written: str = ""  # the number exactly as the case system sent it
    stated: frozenset[str] = frozenset()  # the STATE_FIELDS the push sent (others took their defaults)
    responsible: tuple[ResponsiblePerson, ...] = ()  # of the organization debtors, in the order sent


@dataclass(frozen=True, slots=True)
class CaseNumber:
    year: int
    court_code: str
    case_type: str
    serial: int
    serial_text: str = ""  # the serial as the court wrote it (leading zeros kept)

    @property
    def text(self) -> str:
        """The canonical form (decision 0901): full-width brackets, half-width digits, no
        whitespace, the serial as the court wrote it."""
        return f"（{self.year}）{self.court_code}{self.case_type}{self.serial_text or self.serial}号"


def parse_case_number(raw: str) -> CaseNumber:
    text = "".join(raw.translate(_HALF_WIDTH).split()) if isinstance(raw, str) else ""
    match = _CASE_NUMBER.match(text)
    if match is None:
        raise CaseRejected("invalid_case_number", "case_number",
                           "The case number must look like （2025）辽0102执1234号.",
                           "案号格式应为（2025）辽0102执1234号")
    year, court, kind, serial = match.groups()
    return CaseNumber(int(year), court, kind, int(serial), serial)


def canonical_case_number(raw: str) -> str:
    """The one form a case number is stored, looked up and shown in, on every path (push, import,
    event import, seeds); raises ``CaseRejected`` for a text that is not a case number."""
    return parse_case_number(raw).text


def case_number_key(raw: str) -> str:
    """A case's identity: the canonical form with the serial as a number (执0877号 and 执877号 are
    one serial); the SQL function ``case_number_key`` (migration 0011) is the same rule."""
    n = parse_case_number(raw)
    return f"（{n.year}）{n.court_code}{n.case_type}{n.serial}号"


@dataclass(frozen=True, slots=True)
class CaseState:
    """What a case's row says of its progress (the fields lifecycle events own once they record them)."""

    status: str
    closure_mode: str | None
    closed_on: date | None
    amount_recovered: Decimal


@dataclass(frozen=True, slots=True)
class RecordedState:
    """What a case's lifecycle events recorded; None where they say nothing of it."""

    closure: tuple[str, date] | None = None  # (mode, date) of the ``closed`` event
    suspended: bool | None = None  # None: no suspension event
    amount_recovered: Decimal | None = None  # None: no ``amount_recovered`` event


@dataclass(frozen=True, slots=True)
class FieldConflict:
    field: str
    pushed: str | None
    recorded: str | None

    def to_dict(self) -> dict[str, str | None]:
        return {"field": self.field, "pushed": self.pushed, "recorded": self.recorded}


def _s(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value.isoformat() if isinstance(value, date) else str(value)


def state_after_push(case: CaseInput, recorded: RecordedState) -> tuple[CaseState, tuple[FieldConflict, ...]]:
    """The state a pushed case takes, and where the push contradicts the events (decision 0901).

    Events own what they recorded: a closure (status, mode, date), a suspension (open or
    suspended), a recovered amount. The push owns the rest, as it always did (with no event, all
    of it). A state field the push sent that differs from what the events recorded is a
    conflict: reported, kept for review, never applied; one it left out is no claim at all."""
    conflicts: list[FieldConflict] = []
    stated = "status" in case.stated

    def differ(field: str, pushed: object, recorded_value: object) -> None:
        if _s(pushed) != _s(recorded_value):
            conflicts.append(FieldConflict(field, _s(pushed), _s(recorded_value)))

    closure_mode: str | None
    closed_on: date | None
    if recorded.closure is not None:
        mode, on = recorded.closure
        status, closure_mode, closed_on = "closed", mode, on
        if stated:
            differ("status", case.status, "closed")
            differ("closure_mode", case.closure_mode, mode)
            differ("closed_on", case.closed_on, on)
    elif case.status == "closed":  # the case system closes it; the events say nothing of a closure
        status, closure_mode, closed_on = "closed", case.closure_mode, case.closed_on
    elif recorded.suspended is not None:
        status, closure_mode, closed_on = ("suspended" if recorded.suspended else "open"), None, None
        if stated:
            differ("status", case.status, status)
    else:
        status, closure_mode, closed_on = case.status, None, None
    amount = case.amount_recovered
    if recorded.amount_recovered is not None:
        amount = recorded.amount_recovered
        if "amount_recovered" in case.stated:
            differ("amount_recovered", case.amount_recovered, amount)
    return CaseState(status, closure_mode, closed_on, amount), tuple(conflicts)


def statutory_deadline(filed_on: date, non_litigation: bool) -> date:
    """The end of the statutory period: six months from filing, three for a non-litigation case
    (before suspended time and approved extensions, which the case lifecycle adds)."""
    months = 3 if non_litigation else 6
    month = filed_on.month - 1 + months
    year, month = filed_on.year + month // 12, month % 12 + 1
    day = filed_on.day
    while True:
        try:
            return date(year, month, day)
        except ValueError:  # 31 August + 6 months: the last day of February
            day -= 1


def _subject(raw: Any, field: str) -> Subject:
    if not isinstance(raw, dict):
        raise CaseRejected("wrong_type", field, f"{field} must be an object.", f"{field} 须为对象")
    try:
        return Subject.parse(str(raw.get("kind", "")), str(raw.get("id_number", "")), str(raw.get("name", "")))
    except DomainError as exc:  # InvalidIdentifier / InvalidSubject: messages already masked
        raise CaseRejected(exc.code, field, exc.message_en, exc.message_zh) from exc


def _responsible(raw: Any, debtor: Subject, field: str) -> tuple[ResponsiblePerson, ...]:
    """An organization debtor's ``responsible_persons``: natural persons with a valid resident ID
    and a role; a person may hold several roles, but each (person, role) once. Refused on a person
    debtor (his own order binds him)."""
    if raw is None:
        return ()
    if debtor.kind != "organization":
        raise CaseRejected("responsible_on_person", field, "Only an organization debtor has responsible persons.",
                           "只有单位被执行人才有法定代表人、主要负责人或直接责任人员")
    if not isinstance(raw, list) or len(raw) > MAX_RESPONSIBLE:
        raise CaseRejected("invalid_responsible_persons", field,
                           f"responsible_persons must list at most {MAX_RESPONSIBLE} persons.",
                           f"责任人员最多 {MAX_RESPONSIBLE} 人")
    found: list[ResponsiblePerson] = []
    for i, item in enumerate(raw):
        where = f"{field}/{i}"
        if not isinstance(item, dict):
            raise CaseRejected("wrong_type", where, f"{where} must be an object.", f"{where} 须为对象")
        role = item.get("role")
        if role not in RESPONSIBLE_ROLES:
            raise CaseRejected("invalid_responsible_role", f"{where}/role",
                               "role must be 法定代表人, 主要负责人 or 直接责任人员.",
                               "责任人员身份须为法定代表人、主要负责人或直接责任人员")
        person = _subject({"kind": "person", "id_number": item.get("id_number", ""), "name": item.get("name", "")},
                          where)
        if any(r.person.id_number == person.id_number and r.role == role for r in found):
            raise CaseRejected("duplicate_responsible_person", where,
                               "A responsible person is listed twice in one role.",
                               "同一责任人员以同一身份重复列出")
        found.append(ResponsiblePerson(debtor.id_number, person, str(role)))
    return tuple(found)


def _amount(raw: Any, field: str) -> Decimal:
    try:
        value = Decimal(str(raw)) if isinstance(raw, int | float | str) and not isinstance(raw, bool) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0 or value >= MAX_AMOUNT \
            or value != value.quantize(Decimal("0.01")):
        raise CaseRejected("invalid_amount", field, f"{field} must be a non-negative amount in yuan, "
                           "with at most two decimals.", f"{field} 须为非负金额（元），最多两位小数")
    return value.quantize(Decimal("0.01"))


def _parse_date(raw: Any, field: str, *, required: bool) -> date | None:
    if raw is None and not required:
        return None
    if isinstance(raw, str) and len(raw) == 10:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise CaseRejected("invalid_date", field, f"{field} must be a date YYYY-MM-DD.", f"{field} 须为日期 YYYY-MM-DD")


def _text(raw: Any, field: str, *, max_length: int, required: bool = True) -> str:
    if raw is None and not required:
        return ""
    if not isinstance(raw, str) or (required and not raw.strip()) or len(raw) > max_length:
        raise CaseRejected("invalid_text", field, f"{field} must be text of at most {max_length} characters.",
                           f"{field} 须为不超过 {max_length} 个字符的文本")
    return raw.strip()


def parse_case(body: dict[str, Any], *, today: date | None = None) -> CaseInput:
    """A pushed case, validated; raises ``CaseRejected`` naming the field and the rule."""
    today = today or date.today()
    raw_number = body.get("case_number", "")
    number = parse_case_number(raw_number)
    court_code = _text(body.get("court_code"), "court_code", max_length=10)
    if court_code != number.court_code:
        raise CaseRejected("court_mismatch", "court_code", "The court code differs from the one in the case number.",
                           "法院代码与案号中的法院代码不一致")
    case_type = body.get("case_type") or number.case_type
    if case_type != number.case_type:
        raise CaseRejected("case_type_mismatch", "case_type", "The case type differs from the one in the case number.",
                           "案件类型与案号不一致")
    judge_raw = body.get("judge")
    judge = None
    if judge_raw is not None:
        if not isinstance(judge_raw, dict):
            raise CaseRejected("wrong_type", "judge", "judge must be an object.", "judge 须为对象")
        judge = JudgeRef(
            _text(judge_raw.get("login"), "judge/login", max_length=64),
            _text(judge_raw.get("name"), "judge/name", max_length=50),
            _text(judge_raw.get("officer_id"), "judge/officer_id", max_length=32, required=False) or None,
        )
    applicant = _subject(body.get("applicant"), "applicant")
    debtors_raw = body.get("debtors")
    if not isinstance(debtors_raw, list) or not 1 <= len(debtors_raw) <= MAX_DEBTORS:
        raise CaseRejected("invalid_debtors", "debtors", f"debtors must list 1 to {MAX_DEBTORS} parties.",
                           f"被执行人须为 1 至 {MAX_DEBTORS} 个")
    debtors = tuple(_subject(d, f"debtors/{i}") for i, d in enumerate(debtors_raw))
    if len({d.key for d in debtors}) != len(debtors):
        raise CaseRejected("duplicate_debtor", "debtors", "A debtor is listed twice.", "被执行人重复")
    if isinstance(body.get("applicant"), dict) and body["applicant"].get("responsible_persons") is not None:
        raise CaseRejected("responsible_on_applicant", "applicant/responsible_persons",
                           "Responsible persons are named for organization debtors only.",
                           "责任人员仅适用于单位被执行人")
    responsible = tuple(r for i, (raw, d) in enumerate(zip(debtors_raw, debtors, strict=True))
                        for r in _responsible(raw.get("responsible_persons"), d, f"debtors/{i}/responsible_persons"))
    filed_on = _parse_date(body.get("filed_on"), "filed_on", required=True)
    assert filed_on is not None
    if filed_on > today + timedelta(days=1):  # one day of slack for time zones
        raise CaseRejected("future_filing_date", "filed_on", "The filing date is in the future.", "立案日期晚于今天")
    status = body.get("status", "open")
    if status not in CASE_STATUSES:
        raise CaseRejected("invalid_status", "status", "status must be open, suspended or closed.",
                           "状态须为 open、suspended 或 closed")
    closure_mode = body.get("closure_mode")
    closed_on = _parse_date(body.get("closed_on"), "closed_on", required=False)
    if status == "closed":
        if closure_mode not in CLOSURE_MODES or closed_on is None:
            raise CaseRejected("closure_incomplete", "closure_mode",
                               "A closed case needs a closure mode and a closing date.",
                               "已结案件须有结案方式和结案日期")
        if closed_on < filed_on:
            raise CaseRejected("closed_before_filed", "closed_on", "The case is closed before it was filed.",
                               "结案日期早于立案日期")
    elif closure_mode is not None or closed_on is not None:
        raise CaseRejected("closure_on_open_case", "closure_mode", "Only a closed case has a closure mode and date.",
                           "未结案件不应有结案方式或结案日期")
    return CaseInput(
        case_number=number.text,
        court_code=court_code,
        case_type=case_type,
        judge=judge,
        applicant=applicant,
        debtors=debtors,
        cause=_text(body.get("cause"), "cause", max_length=100, required=False),
        amount_to_enforce=_amount(body.get("amount_to_enforce"), "amount_to_enforce"),
        amount_recovered=_amount(body.get("amount_recovered", 0), "amount_recovered"),
        non_litigation=bool(body.get("non_litigation", False)),
        filed_on=filed_on,
        status=status,
        closure_mode=closure_mode,
        closed_on=closed_on,
        case_number_as_written=raw_number.strip(),
        stated=frozenset(f for f in STATE_FIELDS if body.get(f) is not None),
        responsible=responsible,
    )


__all__ = [
    "CASE_STATUSES",
    "CASE_TYPES",
    "CLOSURE_MODES",
    "RESPONSIBLE_ROLES",
    "STATE_FIELDS",
    "CaseInput",
    "CaseNumber",
    "CaseRejected",
    "CaseState",
    "FieldConflict",
    "JudgeRef",
    "RecordedState",
    "ResponsiblePerson",
    "canonical_case_number",
    "case_number_key",
    "parse_case",
    "parse_case_number",
    "state_after_push",
    "statutory_deadline",
]
