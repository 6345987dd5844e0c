"""The case lifecycle: event types, closure modes, and what a case's events add up to.

Pure: no I/O. ``replay`` checks a case's events in date order (a suspension cannot end before it
started, a case is closed once, ...) and derives the facts the indicators need, above all the end
of the statutory period (执行期限):

    deadline = filing date + base months (6; 3 for non-litigation cases) + approved extension
               months, + approved extension days, + the days of every period not counted
               (public notice, appraisal, auction, suspension 中止, deferral 暂缓执行, referral to
               a higher court 请示上级法院, coordination 协调) that started on or before the
               deadline as it stood then. A suspension still open that started within the period
               stops the clock: the deadline is unknown (None) until it ends.

An extension counts only when approved on or before the deadline as it stood then (SPC
《关于人民法院办理执行案件若干期限的规定》 art. 1: asked for before the period runs out); one
approved later does not save a late case: it is kept as a late extension and shown.

Suspended days are counted end-exclusive: suspended on 1 March, resumed on 11 March = 10 days.
Month arithmetic clamps to the month's end (31 August + 6 months = 28/29 February), as
PostgreSQL's ``date + interval`` does.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from enforcement.domain.errors import DomainError, StateConflict


class InvalidEvent(DomainError):
    """The case event is invalid."""

    default_zh = "案件节点信息无效"
    code = "invalid_event"


class EventConflict(StateConflict):
    """The event does not fit the case's history."""

    default_zh = "该节点与案件已有节点冲突"
    code = "event_conflict"


@dataclass(frozen=True, slots=True)
class EventType:
    code: str
    zh: str
    en: str
    debtor_specific: bool = False  # may name one debtor (data.debtor_id_number); else all debtors


_TYPES = (
    EventType("filed", "立案", "case filed"),
    EventType("notice_served", "送达执行通知书", "enforcement notice served", True),
    EventType("property_report_ordered", "责令报告财产", "debtor ordered to report property", True),
    EventType("property_report_checked", "财产报告核查",
              "property report checked (data.outcome: reported, late, refused, false)", True),
    EventType("sanction_imposed", "采取惩戒措施",
              "sanction imposed (data.reason: report, obstruction, other)", True),
    EventType("consumption_restriction_issued", "发布限制消费令", "consumption restriction order issued", True),
    EventType("consumption_restriction_lifted", "解除限制消费令", "consumption restriction lifted", True),
    EventType("dishonest_listed", "纳入失信被执行人名单", "put on the dishonest-debtor list", True),
    EventType("dishonest_not_qualified", "不符合纳入失信名单条件",
              "debtor does not qualify for the dishonest list", True),
    EventType("dishonest_delisted", "删除失信信息", "removed from the dishonest-debtor list", True),
    EventType("onsite_inquiry", "现场调查", "on-site inquiry"),
    EventType("leads_provided", "申请执行人提供财产线索",
              "the applicant gave property leads (with the application or later; data.count, data.category, "
              "data.onsite: the lead points to property the network does not cover)"),
    EventType("applicant_lead_received", "收到申请执行人财产线索",
              "property lead received from the applicant (data.urgent)"),
    EventType("applicant_leads_checked", "核查申请执行人财产线索", "applicant's leads checked"),
    EventType("applicant_heard", "告知申请执行人并听取意见", "applicant told the results and heard (约谈/告知)"),
    EventType("applicant_notified", "告知申请执行人",
              "applicant told the results (data.occasion: requery, zhongben, other; data.round for a re-query; "
              "data.channel: 短信, 电话, 书面, 当面, 电子送达; data.content: the notice's text; data.heard: the "
              "applicant's opinion was taken, data.opinion)"),
    EventType("zhongben_ruling_served", "终本裁定书送达",
              "the 终本 ruling served on the applicant (data.document_number, data.channel)"),
    EventType("closure_approved", "终本审批",
              "closure approved (collegial panel and president, or applicant's signed confirmation)"),
    EventType("debtor_missing", "被执行人下落不明", "debtor's whereabouts unknown", True),
    EventType("whereabouts_searched", "查找被执行人下落", "missing debtor searched for", True),
    EventType("obstruction_recorded", "妨碍执行行为", "obstruction of enforcement recorded", True),
    EventType("network_search_recorded", "网络查控（总对总/点对点）",
              "network search made outside the service (data.category, data.found)", True),
    EventType("suspension_started", "不计入期限的期间开始（中止、暂缓执行、请示、协调等）",
              "time not counted starts (data.reason: public_notice, appraisal, auction, suspension, deferral, "
              "referral, coordination)"),
    EventType("suspension_ended", "不计入期限的期间结束", "time not counted ends (data.reason, if given, as started)"),
    EventType("extension_approved", "延长执行期限",
              "extension of the statutory period approved (data.months and/or data.days)"),
    EventType("amount_recovered", "执行到位", "amount recovered (data.amount, yuan)"),
    EventType("closed", "结案", "case closed (data.mode)"),
    EventType("resumed", "恢复执行", "case resumed (执恢; data.new_case_number)"),
    EventType("petition_received", "收到执行信访", "enforcement petition received (data.petition_id)"),
    EventType("petition_closed", "执行信访办结", "enforcement petition closed (data.petition_id)"),
)
EVENT_TYPES: Mapping[str, EventType] = {t.code: t for t in _TYPES}

ZHONGBEN = "终结本次执行程序"
FULLY_ENFORCED = "执行完毕"
SETTLEMENT = "和解长期履行"
CLOSURE_MODES: tuple[str, ...] = (FULLY_ENFORCED, ZHONGBEN, "终结执行", "不予执行", "驳回申请", "销案", SETTLEMENT)
_MODE_ALIASES = {
    "终本": ZHONGBEN,
    "fully_enforced": FULLY_ENFORCED,
    "zhongben": ZHONGBEN,
    "terminated": "终结执行",
    "not_enforced": "不予执行",
    "dismissed": "驳回申请",
    "withdrawn": "销案",
    "settlement": SETTLEMENT,
}
RESUMABLE_MODES = frozenset({ZHONGBEN, SETTLEMENT})
# Periods not counted in the statutory period (法发〔2006〕35号 art. 9 and the court's practice):
SUSPENSION_REASONS = ("public_notice", "appraisal", "auction", "suspension", "deferral", "referral", "coordination")
SUSPENSION_REASON_NAMES: Mapping[str, tuple[str, str]] = {
    "public_notice": ("公告", "public notice"),
    "appraisal": ("评估、鉴定", "appraisal"),
    "auction": ("拍卖、变卖", "auction"),
    "suspension": ("中止执行", "suspension"),
    "deferral": ("暂缓执行", "deferral of enforcement"),
    "referral": ("请示上级法院", "referral to a higher court"),
    "coordination": ("报请上级法院协调", "coordination by a higher court"),
}
REPORT_OUTCOMES = ("reported", "late", "refused", "false")
NOTICE_CHANNELS = ("短信", "电话", "书面", "当面", "电子送达")  # how the applicant was told (or served)
NOTICE_OCCASIONS = ("requery", "zhongben", "other")
NOTICE_MAX_CHARS = 4000
# Once closed, the case accepts only what may follow a closure.
AFTER_CLOSURE = frozenset({
    "resumed", "petition_received", "petition_closed", "amount_recovered", "network_search_recorded",
    "consumption_restriction_lifted", "dishonest_delisted", "applicant_lead_received",
    "applicant_leads_checked", "sanction_imposed", "applicant_notified", "zhongben_ruling_served",
})


def normalize_mode(value: object) -> str:
    mode = str(value or "").strip()
    mode = _MODE_ALIASES.get(mode, mode)
    if mode not in CLOSURE_MODES:
        raise InvalidEvent(
            f"data.mode must be one of {', '.join(CLOSURE_MODES)}",
            message_zh=f"结案方式须为：{'、'.join(CLOSURE_MODES)}",
            code="invalid_closure_mode",
        )
    return mode


def add_months(d: date, months: int) -> date:
    month_index = d.month - 1 + months
    year, month = d.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One event as stored (``id`` 0 for one not stored yet)."""

    id: int
    type: str
    occurred_on: date
    data: Mapping[str, Any] = field(default_factory=dict)
    source: str = "case_system"

    @property
    def debtor(self) -> str | None:
        value = self.data.get("debtor_id_number")
        return str(value) if value else None


def _int(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 120 * 31:
        raise InvalidEvent(f"data.{name} must be a non-negative whole number.",
                           message_zh=f"data.{name} 须为非负整数", code="invalid_event_data", field=name)
    return value


def parse_amount(value: object) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidEvent("data.amount must be a decimal number of yuan.",
                           message_zh="data.amount 须为金额（元）", code="invalid_event_data", field="amount") from exc
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidEvent("data.amount must be positive, with at most two decimals.",
                           message_zh="data.amount 须为正数，最多两位小数", code="invalid_event_data", field="amount")
    return amount


def validate_event(event: CaseEvent, *, filed_on: date, today: date) -> CaseEvent:
    """Check one event on its own (type, date, data); return it with normalized data."""
    if event.type not in EVENT_TYPES:
        raise InvalidEvent(f"Unknown event type {event.type!r}.", message_zh=f"未知的节点类型 {event.type}",
                           code="unknown_event_type", known=sorted(EVENT_TYPES))
    if event.occurred_on > today:
        raise InvalidEvent("The event's date is in the future.", message_zh="节点日期晚于今天", code="event_in_future")
    if event.occurred_on < filed_on:
        raise InvalidEvent("The event's date is before the case was filed.", message_zh="节点日期早于立案日期",
                           code="event_before_filing")
    data = dict(event.data)
    t = event.type
    if t == "filed" and event.occurred_on != filed_on:
        raise InvalidEvent("The filing event's date differs from the case's filing date.",
                           message_zh="立案节点日期与案件立案日期不一致", code="filed_date_mismatch")
    if t == "closed":
        data["mode"] = normalize_mode(data.get("mode"))
        if "settlement_performed" in data and not isinstance(data["settlement_performed"], bool):
            raise InvalidEvent("data.settlement_performed must be true or false.",
                               message_zh="data.settlement_performed 须为布尔值", code="invalid_event_data")
    elif t == "extension_approved":
        if _int(data, "months") + _int(data, "days") == 0:
            raise InvalidEvent("An extension needs data.months or data.days.", message_zh="延长期限须注明月数或天数",
                               code="invalid_event_data", field="months")
    elif t == "amount_recovered":
        data["amount"] = f"{parse_amount(data.get('amount')):.2f}"
    elif t in ("petition_received", "petition_closed"):
        if not str(data.get("petition_id") or "").strip():
            raise InvalidEvent("Petition events need data.petition_id.", message_zh="信访节点须注明 petition_id",
                               code="invalid_event_data", field="petition_id")
        data["petition_id"] = str(data["petition_id"]).strip()
    elif t == "network_search_recorded":
        if not str(data.get("category") or "").strip():
            raise InvalidEvent("A recorded network search needs data.category (e.g. real_estate).",
                               message_zh="网络查控节点须注明查询类别 category", code="invalid_event_data",
                               field="category")
    elif t in ("suspension_started", "suspension_ended") and data.get("reason") not in (None, *SUSPENSION_REASONS):
        raise InvalidEvent(f"data.reason must be one of {', '.join(SUSPENSION_REASONS)}.",
                           message_zh="中止原因无效", code="invalid_event_data", field="reason")
    elif t in ("applicant_notified", "zhongben_ruling_served"):
        data = _notice_data(t, data)
    elif t == "property_report_checked" and data.get("outcome") not in REPORT_OUTCOMES:
        raise InvalidEvent(f"data.outcome must be one of {', '.join(REPORT_OUTCOMES)}.",
                           message_zh="财产报告核查结果无效", code="invalid_event_data", field="outcome")
    return CaseEvent(event.id, t, event.occurred_on, data, event.source)


def _notice_data(t: str, data: dict[str, Any]) -> dict[str, Any]:
    """An ``applicant_notified`` or ``zhongben_ruling_served`` event's data, checked: how (the
    channel), and what (the notice's text; the ruling's document number)."""
    def bad(field: str, en: str, zh: str) -> InvalidEvent:
        return InvalidEvent(en, message_zh=zh, code="invalid_event_data", field=field)

    if data.get("channel") not in NOTICE_CHANNELS:
        raise bad("channel", f"data.channel must be one of {', '.join(NOTICE_CHANNELS)}.",
                  f"告知/送达方式须为：{'、'.join(NOTICE_CHANNELS)}")
    if t == "zhongben_ruling_served":
        number = data.get("document_number")
        if not isinstance(number, str) or not 0 < len(number.strip()) <= 60:
            raise bad("document_number", "data.document_number (the ruling's number) is required.",
                      "须注明终本裁定书文号 document_number")
        data["document_number"] = number.strip()
        return data
    occasion = data.get("occasion", "other")
    if occasion not in NOTICE_OCCASIONS:
        raise bad("occasion", f"data.occasion must be one of {', '.join(NOTICE_OCCASIONS)}.",
                  "告知事由 occasion 须为 requery、zhongben 或 other")
    data["occasion"] = occasion
    content = data.get("content")
    if not isinstance(content, str) or not content.strip() or len(content) > NOTICE_MAX_CHARS:
        raise bad("content", f"data.content (what the applicant was told) is required, at most {NOTICE_MAX_CHARS} "
                  "characters.", f"须记录告知内容 content（不超过{NOTICE_MAX_CHARS}字）")
    if occasion == "requery":
        rnd = data.get("round")
        if isinstance(rnd, bool) or not isinstance(rnd, int) or not 1 <= rnd <= 100:
            raise bad("round", "A re-query notice names its round (data.round, a whole number from 1).",
                      "复查告知须注明复查轮次 round")
    if "heard" in data and not isinstance(data["heard"], bool):
        raise bad("heard", "data.heard must be true or false.", "data.heard 须为布尔值")
    return data


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """What a case's events add up to."""

    filed_on: date
    base_months: int
    status: str  # open | suspended | closed
    deadline: date | None
    extension_months: int = 0
    extension_days: int = 0
    suspended_days: int = 0
    suspended_since: date | None = None
    closed_on: date | None = None
    closure_mode: str | None = None
    settlement_performed: bool = False
    resumed_on: date | None = None
    amount_recovered: Decimal | None = None  # None: no amount_recovered event (keep the case's own figure)
    open_petitions: tuple[str, ...] = ()
    suspensions: int = 0  # suspension_started events: without any, the events say nothing of suspension
    late_extensions: tuple[Extension, ...] = ()  # approved after the period ran out: not counted
    not_counted: tuple[NotCounted, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "filed_on": self.filed_on.isoformat(),
            "statutory_months": self.base_months,
            "extension_months": self.extension_months,
            "extension_days": self.extension_days,
            "suspended_days": self.suspended_days,
            "suspended_since": _iso(self.suspended_since),
            "deadline": _iso(self.deadline),
            "closed_on": _iso(self.closed_on),
            "closure_mode": self.closure_mode,
            "resumed_on": _iso(self.resumed_on),
            "amount_recovered": None if self.amount_recovered is None else f"{self.amount_recovered:.2f}",
            "open_petitions": list(self.open_petitions),
            "late_extensions": [x.to_dict() for x in self.late_extensions],
            "time_not_counted": [p.to_dict() for p in self.not_counted],
        }


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def ordered(events: Iterable[CaseEvent]) -> list[CaseEvent]:
    """Date order; on the same day, the order they were recorded in."""
    return sorted(events, key=lambda e: (e.occurred_on, e.id if e.id else 1 << 62))


@dataclass(frozen=True, slots=True)
class Extension:
    approved_on: date
    months: int
    days: int

    def to_dict(self) -> dict[str, Any]:
        return {"approved_on": self.approved_on.isoformat(), "months": self.months, "days": self.days}


@dataclass(frozen=True, slots=True)
class NotCounted:
    """A period not counted in the statutory period (suspension, deferral, ...): ``end`` None
    while open; ``counted`` when it started within the period and so moved the deadline."""

    start: date
    end: date | None
    reason: str | None = None
    counted: bool = False

    @property
    def days(self) -> int | None:
        return None if self.end is None else (self.end - self.start).days

    def to_dict(self) -> dict[str, Any]:
        zh, en = SUSPENSION_REASON_NAMES.get(self.reason or "suspension", ("中止执行", "suspension"))
        return {"reason": self.reason, "name": {"zh": zh, "en": en}, "from": self.start.isoformat(),
                "to": _iso(self.end), "days": self.days, "counted": self.counted}


@dataclass(frozen=True, slots=True)
class Deadline:
    deadline: date | None  # None: an open period not counted stopped the clock
    suspended_days: int
    extension_months: int
    extension_days: int
    late_extensions: tuple[Extension, ...] = ()
    not_counted: tuple[NotCounted, ...] = ()


def statutory_deadline(filed_on: date, base_months: int, extensions: Sequence[Extension],
                       suspensions: Sequence[NotCounted],
                       roll: Callable[[date], date] | None = None) -> Deadline:
    """The end of the statutory period (see the module doc). Extensions and periods not counted are
    taken in date order against the deadline as it stands then: an extension approved after it is
    late (kept, not counted), a period starting after it does not revive it. ``roll`` (a court's
    choice) moves a deadline falling on a non-working day to the next working day."""
    def current() -> date:
        raw = add_months(filed_on, base_months + months) + timedelta(days=days + suspended)
        return roll(raw) if roll else raw

    months = days = suspended = 0
    stopped = False
    late: list[Extension] = []
    periods: list[NotCounted] = []
    items: list[tuple[date, int, Extension | NotCounted]] = [
        *((x.approved_on, 0, x) for x in extensions), *((p.start, 1, p) for p in suspensions)]
    for on, _, item in sorted(items, key=lambda i: (i[0], i[1])):
        within = stopped or on <= current()
        if isinstance(item, Extension):
            if within:
                months, days = months + item.months, days + item.days
            else:
                late.append(item)
            continue
        periods.append(replace(item, counted=within))
        if not within:
            continue
        if item.end is None:
            stopped = True
        else:
            suspended += (item.end - item.start).days
    return Deadline(None if stopped else current(), suspended, months, days, tuple(late), tuple(periods))


def replay(events: Iterable[CaseEvent], *, filed_on: date, non_litigation: bool,
           statutory_months: int = 6, statutory_months_non_litigation: int = 3,
           roll: Callable[[date], date] | None = None) -> Lifecycle:
    """Check the history in date order and derive the case's lifecycle; raise EventConflict.
    ``roll``: the court's choice to move a deadline off a non-working day (None: not moved)."""
    base = statutory_months_non_litigation if non_litigation else statutory_months
    extensions: list[Extension] = []
    suspensions: list[NotCounted] = []
    open_since: date | None = None
    open_reason: str | None = None
    closed_on: date | None = None
    mode: str | None = None
    performed = False
    resumed_on: date | None = None
    recovered: Decimal | None = None
    petitions: dict[str, bool] = {}
    for e in ordered(events):
        t = e.type
        if closed_on is not None and t not in AFTER_CLOSURE:
            raise EventConflict(f"{t} cannot follow the closure of {closed_on}.",
                                message_zh=f"案件已于{closed_on}结案，不能再记录“{EVENT_TYPES[t].zh}”",
                                code="case_closed")
        if t == "suspension_started":
            if open_since is not None:
                raise EventConflict("The case is already suspended.", message_zh="案件已处于中止状态",
                                    code="already_suspended")
            open_since, open_reason = e.occurred_on, _reason(e)
        elif t == "suspension_ended":
            if open_since is None:
                raise EventConflict("No suspension is open.", message_zh="案件未处于中止状态", code="not_suspended")
            ended = _reason(e)
            if ended is not None and ended != (open_reason or "suspension"):
                raise EventConflict(f"The open period is {open_reason or 'suspension'}, not {ended}.",
                                    message_zh="结束的期间与开始的期间原因不一致", code="suspension_reason_mismatch")
            suspensions.append(NotCounted(open_since, e.occurred_on, open_reason))
            open_since = None
        elif t == "extension_approved":
            extensions.append(Extension(e.occurred_on, int(e.data.get("months") or 0), int(e.data.get("days") or 0)))
        elif t == "amount_recovered":
            recovered = (recovered or Decimal(0)) + Decimal(str(e.data["amount"]))
        elif t == "closed":
            closed_on, mode = e.occurred_on, str(e.data["mode"])
            performed = bool(e.data.get("settlement_performed", False))
            if open_since is not None:  # a closure ends a suspension
                suspensions.append(NotCounted(open_since, e.occurred_on, open_reason))
                open_since = None
        elif t == "resumed":
            if closed_on is None or mode not in RESUMABLE_MODES or resumed_on is not None:
                raise EventConflict("Only a case closed as 终本 (or by a long-term settlement) can be resumed, once.",
                                    message_zh="仅终本（或和解长期履行）结案的案件可恢复执行，且仅一次",
                                    code="not_resumable")
            resumed_on = e.occurred_on
        elif t == "petition_received":
            pid = str(e.data["petition_id"])
            if pid in petitions:
                raise EventConflict(f"Petition {pid} was already received.", message_zh=f"信访{pid}已登记",
                                    code="duplicate_petition")
            petitions[pid] = False
        elif t == "petition_closed":
            pid = str(e.data["petition_id"])
            if petitions.get(pid) is not False:
                raise EventConflict(f"Petition {pid} is not open.", message_zh=f"信访{pid}未登记或已办结",
                                    code="petition_not_open")
            petitions[pid] = True
    all_suspensions = [*suspensions, *([NotCounted(open_since, None, open_reason)] if open_since else [])]
    d = statutory_deadline(filed_on, base, extensions, all_suspensions, roll)
    status = "closed" if closed_on else ("suspended" if open_since else "open")
    return Lifecycle(
        filed_on=filed_on, base_months=base, status=status, deadline=d.deadline,
        extension_months=d.extension_months, extension_days=d.extension_days, suspended_days=d.suspended_days,
        suspended_since=open_since, closed_on=closed_on, closure_mode=mode, settlement_performed=performed,
        resumed_on=resumed_on, amount_recovered=recovered,
        open_petitions=tuple(sorted(p for p, done in petitions.items() if not done)),
        suspensions=len(all_suspensions), late_extensions=d.late_extensions, not_counted=d.not_counted,
    )


def _reason(e: CaseEvent) -> str | None:
    value = e.data.get("reason")
    return str(value) if value else None


__all__ = [
    "AFTER_CLOSURE",
    "CLOSURE_MODES",
    "EVENT_TYPES",
    "FULLY_ENFORCED",
    "NOTICE_CHANNELS",
    "NOTICE_OCCASIONS",
    "RESUMABLE_MODES",
    "SETTLEMENT",
    "SUSPENSION_REASONS",
    "SUSPENSION_REASON_NAMES",
    "ZHONGBEN",
    "CaseEvent",
    "Deadline",
    "EventConflict",
    "EventType",
    "Extension",
    "InvalidEvent",
    "Lifecycle",
    "NotCounted",
    "add_months",
    "normalize_mode",
    "ordered",
    "parse_amount",
    "replay",
    "statutory_deadline",
    "validate_event",
]
