"""Control measures (查控的"控"): freeze, renew, release, deduct, seal: pure rules, no I/O.

After a search finds property, the court controls it through the same agencies. A measure is one
act on one asset found by a search of the case:

| kind            | asset           | what it does                                              |
| --------------- | --------------- | --------------------------------------------------------- |
| ``freeze``      | bank_account    | 冻结 an amount, or the whole account (``amount`` None)    |
| ``deduct``      | bank_account    | 扣划 an amount of a freeze to the court's case-funds account (执行案款) |
| ``seal``        | vehicle         | 查封登记 (movables)                                        |
| ``seal``        | real_estate     | 查封 (the real-estate plug-in)                            |
| ``freeze``      | securities_holding | 冻结证券: the whole holding (no amount), 轮候 behind earlier freezes |
| ``renew``       | any controlled  | 续冻 / 续封: a new term from the old expiry              |
| ``release``     | any controlled  | 解冻 / 解封                                               |

Terms by law (最高人民法院《关于人民法院民事执行中查封、扣押、冻结财产的规定》, and 民诉法解释
第485条): a freeze of bank deposits lasts at most one year, a seal of movables two, a seal of real
estate (and a freeze of other property rights, securities among them: category ``property_rights``)
three; each may be renewed before it ends, each
renewal for at most the same term. A measure that reaches its end without renewal lapses (the
court loses its place: 轮候 rises to the next authority). Periods are counted as the Civil Code
says (第201条: the day it starts is not counted; 第203条: a term in years ends on the corresponding
day, or the month's last day where there is none): a one-year freeze taking effect on 2025-03-01
ends on 2026-03-01, one taking effect on 2024-02-29 on 2025-02-28. A renewal takes effect at the
old expiry, so control is continuous: a one-year renewal of a freeze ending 2026-03-31 ends
2027-03-31.

Every measure carries its ruling (执行裁定书: number and date). Defaults, each a court setting:
renewals are due 15 days before the expiry; a ruling is good for 90 days after its date.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal

from enforcement.domain.errors import DomainError, StateConflict

MeasureKind = Literal["freeze", "deduct", "seal", "renew", "release"]
AssetKind = Literal["bank_account", "vehicle", "real_estate", "securities_holding"]
Category = Literal["deposits", "movables", "real_estate", "property_rights"]
MeasureStatus = Literal["awaiting_approval", "pending", "active", "partial", "refused", "released", "lapsed", "done",
                        "failed", "rejected", "withdrawn"]

KINDS: tuple[MeasureKind, ...] = ("freeze", "deduct", "seal", "renew", "release")
# Which kind first controls which asset (renew and release follow the measure they act on).
CONTROL_KIND: dict[str, MeasureKind] = {"bank_account": "freeze", "vehicle": "seal", "real_estate": "seal",
                                        "securities_holding": "freeze"}
CATEGORY_OF: dict[str, Category] = {"bank_account": "deposits", "vehicle": "movables", "real_estate": "real_estate",
                                    "securities_holding": "property_rights"}
# The legal maximum term of one measure (and of each renewal), in years.
MAX_TERM_YEARS: dict[Category, int] = {"deposits": 1, "movables": 2, "real_estate": 3, "property_rights": 3}
# The connector that performs the measure on each kind of asset.
AGENCY_OF: dict[str, str] = {"bank_account": "banks", "vehicle": "vehicles", "real_estate": "real_estate",
                             "securities_holding": "securities"}
# The assets a freeze may ask an amount of (the others are frozen or sealed whole).
AMOUNT_ASSETS = frozenset({"bank_account"})

DEFAULT_RENEWAL_NOTICE_DAYS = 15
DEFAULT_RULING_VALID_DAYS = 90
MAX_AMOUNT = Decimal("1000000000000.00")  # a bound on input, not a rule of law
_CENT = Decimal("0.01")
# 执行裁定书 number: the case number, optionally with 之一, 之二, ... (several rulings in one case).
_RULING = re.compile(r"^[（(]([0-9]{4})[）)]([\u4e00-\u9fff][0-9]{4})(执恢|执保|执异|执复|执)([0-9]{1,6})号"
                     r"(之[一二三四五六七八九十]{1,3})?$")


class InvalidMeasure(DomainError):
    """The measure is malformed."""

    default_zh = "控制措施不合法"
    code = "invalid_measure"

    def __init__(self, rule: str, message_en: str, message_zh: str, **details: object) -> None:
        super().__init__(message_en, message_zh=message_zh, code=rule, **details)
        self.rule = rule


class MeasureConflict(StateConflict):
    """The measure is not in a state that allows this."""

    default_zh = "该控制措施当前状态不允许此操作"
    code = "measure_conflict"


@dataclass(frozen=True, slots=True)
class Ruling:
    """The 执行裁定书 a measure rests on."""

    number: str
    ruled_on: date

    @classmethod
    def parse(cls, number: object, ruled_on: object, *, today: date,
              valid_days: int = DEFAULT_RULING_VALID_DAYS) -> Ruling:
        if not isinstance(number, str) or not _RULING.match(number.strip().replace("(", "（").replace(")", "）")):
            raise InvalidMeasure("ruling_number_invalid",
                                 "The ruling number must read like （2025）辽0102执1234号 (optionally 之一).",
                                 "执行裁定书文号格式不正确，应如（2025）辽0102执1234号（可带“之一”）")
        text = number.strip().replace("(", "（").replace(")", "）")
        day = _date(ruled_on, "ruled_on")
        if day > today:
            raise InvalidMeasure("ruling_in_future", "The ruling's date is in the future.", "执行裁定书日期晚于今天")
        if (today - day).days > valid_days:
            raise InvalidMeasure("ruling_expired",
                                 f"The ruling is more than {valid_days} days old; a new ruling is needed.",
                                 f"执行裁定书作出已超过{valid_days}日，需重新作出裁定", valid_days=valid_days)
        year = int(text[1:5])
        if year > day.year:
            raise InvalidMeasure("ruling_year_mismatch", "The ruling number's year is after the ruling's date.",
                                 "执行裁定书文号年份晚于裁定日期")
        return cls(text, day)


def _date(raw: object, field: str) -> date:
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise InvalidMeasure("date_invalid", f"{field} must be a date (YYYY-MM-DD).", f"{field}应为日期（YYYY-MM-DD）",
                         field=field)


def parse_amount(raw: object, *, required: bool) -> Decimal | None:
    """A money amount in yuan: positive, at most two decimals. None when absent and not required."""
    if raw is None and not required:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float, Decimal)):
        raise InvalidMeasure("amount_invalid", "The amount must be a number of yuan.", "金额应为以元计的数字")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise InvalidMeasure("amount_invalid", "The amount must be a number of yuan.", "金额应为以元计的数字") from None
    if not value.is_finite() or value <= 0:
        raise InvalidMeasure("amount_not_positive", "The amount must be more than zero.", "金额应大于零")
    if value != value.quantize(_CENT) or value > MAX_AMOUNT:
        raise InvalidMeasure("amount_invalid", "The amount has at most two decimals and is below 10^12 yuan.",
                             "金额最多两位小数且不超过一万亿元")
    return value.quantize(_CENT)


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def max_term_end(category: Category, starts_on: date) -> date:
    """The last day (inclusive) of a term of the legal maximum taking effect on ``starts_on``."""
    return add_years(starts_on, MAX_TERM_YEARS[category])


def term_end(category: Category, starts_on: date, asked_until: date | None = None) -> date:
    """The measure's expiry: what the court asked (``asked_until``), never beyond the legal maximum."""
    limit = max_term_end(category, starts_on)
    if asked_until is None:
        return limit
    if asked_until <= starts_on:
        raise InvalidMeasure("term_before_start", "The term ends before it starts.", "期限截止日早于起始日")
    if asked_until > limit:
        years = MAX_TERM_YEARS[category]
        raise InvalidMeasure("term_too_long", f"The term may last at most {years} year(s), until {limit}.",
                             f"期限不得超过{years}年（至{limit}止）", max_until=limit.isoformat())
    return asked_until


def renewal_due_on(expires_on: date, notice_days: int = DEFAULT_RENEWAL_NOTICE_DAYS) -> date:
    """The day from which a renewal is due (and alerted)."""
    return expires_on - timedelta(days=notice_days)


ExpiryState = Literal["running", "due", "lapsed"]


def expiry_state(expires_on: date, today: date, notice_days: int = DEFAULT_RENEWAL_NOTICE_DAYS) -> ExpiryState:
    """``running`` before the renewal is due, ``due`` from then to the expiry day, ``lapsed`` after."""
    if today > expires_on:
        return "lapsed"
    if today >= renewal_due_on(expires_on, notice_days):
        return "due"
    return "running"


def renewal_term(category: Category, expires_on: date, today: date,
                 asked_until: date | None = None) -> tuple[date, date]:
    """(starts_on, expires_on) of a renewal: it takes effect at the old expiry (counted from the
    day after), for at most the legal term.

    A lapsed measure cannot be renewed: a new measure (behind any 轮候) is needed."""
    if today > expires_on:
        raise MeasureConflict("The measure lapsed on its expiry; submit a new measure instead of a renewal.",
                              message_zh="该措施已到期失效，不能续行，请重新采取措施", code="measure_lapsed")
    return expires_on, term_end(category, expires_on, asked_until)


@dataclass(frozen=True, slots=True)
class TargetAsset:
    """An asset a search of the case found, as the measure rules need it."""

    asset_kind: str
    natural_key: str
    available_balance: Decimal | None = None  # bank accounts: what may still be frozen


def check_target(asset_kind: str, natural_key: str, found: Collection[TargetAsset]) -> TargetAsset:
    """The target must be an asset found by a search of this case."""
    if asset_kind not in CONTROL_KIND:
        raise InvalidMeasure("asset_kind_invalid",
                             "Measures act on bank accounts, vehicles, real estate or securities holdings.",
                             "控制措施仅适用于银行账户、车辆、不动产或证券")
    for asset in found:
        if asset.asset_kind == asset_kind and asset.natural_key == natural_key:
            return asset
    raise InvalidMeasure("asset_not_found_by_search", "The target was not found by a search of this case.",
                         "该财产不在本案查询结果中，不能采取控制措施")


def check_new_measure(kind: str, target: TargetAsset, amount: Decimal | None) -> Decimal | None:
    """A first measure on a target (freeze or seal): the kind fits the asset, the amount fits the balance.

    Returns the amount to freeze (None: the whole account, or a seal)."""
    expected = CONTROL_KIND[target.asset_kind]
    if kind != expected:
        raise InvalidMeasure("kind_not_for_asset", f"A {target.asset_kind} is controlled by {expected}, not {kind}.",
                             f"该类财产应采取{'冻结' if expected == 'freeze' else '查封'}措施", expected=expected)
    if kind == "seal":
        if amount is not None:
            raise InvalidMeasure("amount_not_for_seal", "A seal carries no amount.", "查封措施不填写金额")
        return None
    if target.asset_kind not in AMOUNT_ASSETS:
        if amount is not None:
            raise InvalidMeasure("amount_not_for_asset", "A freeze of securities is of the whole holding; it carries "
                                 "no amount.", "冻结证券以持有的全部证券为对象，不填写金额")
        return None
    if target.available_balance is not None and amount is not None and amount > target.available_balance:
        raise InvalidMeasure("amount_exceeds_balance",
                             f"The freeze asks for {amount} yuan; the account's available balance is "
                             f"{target.available_balance} yuan.",
                             f"冻结金额{amount}元超过账户可用余额{target.available_balance}元",
                             available_balance=str(target.available_balance))
    return amount


def check_deduction(amount: Decimal, frozen: Decimal) -> None:
    """A deduction takes at most what the court's own freeze holds."""
    if amount > frozen:
        raise InvalidMeasure("amount_exceeds_frozen",
                             f"The deduction asks for {amount} yuan; this court's freeze holds {frozen} yuan.",
                             f"扣划金额{amount}元超过本院冻结金额{frozen}元", frozen=str(frozen))


MAX_REASON_CHARS = 500


def check_cancel_reason(raw: object, *, required: bool) -> str | None:
    """Why a held deduction is rejected (required) or withdrawn (optional): text of 1 to 500 characters."""
    if raw is None and not required:
        return None
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidMeasure("reason_required", "Give the reason (a text of 1 to 500 characters).",
                             "请填写理由（1至500字）")
    if len(raw.strip()) > MAX_REASON_CHARS:
        raise InvalidMeasure("reason_too_long", f"The reason is at most {MAX_REASON_CHARS} characters.",
                             f"理由不得超过{MAX_REASON_CHARS}字")
    return raw.strip()


# What a later measure may follow: renew, release and deduct act on an active control.
FOLLOWS: dict[MeasureKind, frozenset[str]] = {
    "renew": frozenset({"active", "partial"}),
    "release": frozenset({"active", "partial"}),
    "deduct": frozenset({"active", "partial"}),
}


def check_follow_up(kind: MeasureKind, parent_kind: str, parent_status: str, asset_kind: str | None = None) -> None:
    """A renewal, release or deduction acts on an active freeze or seal (a deduction only on a freeze
    of a bank account: ``asset_kind``, when given, is the controlled asset's)."""
    if parent_kind not in ("freeze", "seal"):
        raise MeasureConflict("Only a freeze or a seal can be renewed, released or deducted from.",
                              message_zh="仅可对冻结或查封措施续行、解除或扣划", code="not_a_control")
    if kind == "deduct" and (parent_kind != "freeze" or (asset_kind is not None and asset_kind not in AMOUNT_ASSETS)):
        raise MeasureConflict("Only a frozen account can be deducted from.", message_zh="仅可从已冻结账户扣划",
                              code="not_a_freeze")
    if parent_status not in FOLLOWS[kind]:
        raise MeasureConflict(f"The measure is {parent_status}; it cannot be {kind}ed now.",
                              message_zh=f"该措施当前状态为{parent_status}，不能执行此操作", code="measure_not_active",
                              status=parent_status)


ClosureAction = Literal["keep", "renew", "release", "lapsed"]
# Closures after which the court keeps its controls: 终本 (最高法《关于严格规范终结本次执行程序的规定
# （试行）》: the controls stay in force and are renewed while the case waits for property) and a
# settlement performed over time (《关于执行和解若干问题的规定》: released only on the applicant's
# request). Every other closure (执行完毕 above all) ends the enforcement: its controls are released.
KEEP_ON_CLOSURE = frozenset({"终结本次执行程序", "和解长期履行"})


@dataclass(frozen=True, slots=True)
class ClosureAdvice:
    """What to do with a live control when the case closes in a given mode."""

    action: ClosureAction
    renew_by: date | None  # keep: the last day a renewal can be answered (the expiry)
    message_en: str
    message_zh: str

    def to_dict(self) -> dict[str, object]:
        return {"action": self.action, "renew_by": None if self.renew_by is None else self.renew_by.isoformat(),
                "message": {"zh": self.message_zh, "en": self.message_en}}


def advice_on_closure(closure_mode: str, expires_on: date | None, today: date,
                      notice_days: int = DEFAULT_RENEWAL_NOTICE_DAYS) -> ClosureAdvice:
    """Keep (and renew before the expiry) or release a live control, for a closure in ``closure_mode``.

    ``renew`` is ``keep`` whose renewal is due now (within ``notice_days`` of the expiry);
    ``lapsed``: past its expiry (not yet swept by the expiry watch), it cannot be renewed."""
    if closure_mode not in KEEP_ON_CLOSURE:
        return ClosureAdvice("release", None, f"Closed as {closure_mode}: release the control.",
                             f"以{closure_mode}方式结案：应解除该控制措施")
    if expires_on is None:
        return ClosureAdvice("keep", None, "Keep the control in force.", "保留该控制措施")
    state = expiry_state(expires_on, today, notice_days)
    if state == "lapsed":
        return ClosureAdvice("lapsed", None,
                             f"The control lapsed on {expires_on}: take a new measure to keep the asset.",
                             f"该控制措施已于{expires_on}到期失效，如需保全须重新采取措施")
    if state == "running":
        due = renewal_due_on(expires_on, notice_days)
        return ClosureAdvice("keep", expires_on,
                             f"Keep the control; renew it from {due}, before it expires on {expires_on}.",
                             f"保留该控制措施；自{due}起、于{expires_on}到期前办理续行")
    return ClosureAdvice("renew", expires_on, f"Keep the control: renew it now, before it expires on {expires_on}.",
                         f"保留该控制措施：须于{expires_on}到期前立即办理续行")


def renewal_wanted(case_status: str, closure_mode: str | None) -> bool:
    """Whether a control whose renewal falls due should be renewed (open, suspended, 终本 and
    和解长期履行 cases keep their controls) or released instead (every other closure ended the
    enforcement: a renewal would be refused, ``case_closed_release_only``)."""
    return case_status != "closed" or closure_mode in KEEP_ON_CLOSURE


def due_control_act(case_status: str, closure_mode: str | None, permitted: Collection[str]) -> str | None:
    """The act a control falling due calls for, ``renew`` (or ``release`` once the case closed for
    good: ``renewal_wanted``), when ``permitted`` (``authorization.measure_permissions``) holds it;
    else None: nothing to offer this actor."""
    act = "renew" if renewal_wanted(case_status, closure_mode) else "release"
    return act if act in permitted else None


def control_action(act: str, measure_id: int, case_number: str, today: date | None) -> dict[str, object]:
    """An act on a control as the API offers it, ready to send (an ``actions`` entry): its route,
    and the ruling a form starts from (the case number, dated ``today``, the court's date)."""
    ruling: dict[str, str] = {"number": case_number, **({"ruled_on": today.isoformat()} if today else {})}
    return {"method": "POST", "href": f"/api/v1/measures/{measure_id}:{act}", "body": {"ruling": ruling}}


def idempotency_key(case_id: int, kind: str, target_key: str, ruling_number: str, parent_id: int | None) -> str:
    """Two submissions of the same act are one measure: case, kind, target, ruling (and what it follows)."""
    return f"m:{case_id}:{kind}:{parent_id or 0}:{ruling_number}:{target_key}"


def assistance_notice_number(court_code: str, year: int, serial: int) -> str:
    """协助执行通知书 number; its serial comes from the court's one counter of notices (with 协助查询通知书)."""
    return f"（{year}）{court_code}执协{serial:05d}号"


__all__ = [
    "AGENCY_OF",
    "AMOUNT_ASSETS",
    "CATEGORY_OF",
    "CONTROL_KIND",
    "DEFAULT_RENEWAL_NOTICE_DAYS",
    "DEFAULT_RULING_VALID_DAYS",
    "FOLLOWS",
    "KEEP_ON_CLOSURE",
    "KINDS",
    "MAX_REASON_CHARS",
    "MAX_TERM_YEARS",
    "AssetKind",
    "Category",
    "ClosureAction",
    "ClosureAdvice",
    "ExpiryState",
    "InvalidMeasure",
    "MeasureConflict",
    "MeasureKind",
    "MeasureStatus",
    "Ruling",
    "TargetAsset",
    "add_years",
    "advice_on_closure",
    "assistance_notice_number",
    "check_cancel_reason",
    "check_deduction",
    "check_follow_up",
    "check_new_measure",
    "check_target",
    "control_action",
    "due_control_act",
    "expiry_state",
    "idempotency_key",
    "max_term_end",
    "parse_amount",
    "renewal_due_on",
    "renewal_term",
    "renewal_wanted",
    "term_end",
]
