"""The 终本 checklist: the six legal conditions of a closure without property (DOMAIN section 4,
SPC 《关于严格规范终结本次执行程序的规定（试行）》), each met or missing, with its evidence.

Pure: it reads facts (the case's events, its debtors, the searches made through the service)
and applies the rules. Debtor-specific requirements are checked for every debtor of the case; an
event that names no debtor (``data.debtor_id_number``) applies to all of them. Only what happened
on or before ``as_of`` counts. The court-defined parts are ``ChecklistRules`` (settings).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from enforcement.domain.lifecycle import CaseEvent, add_months

COURT_TZ = timezone(timedelta(hours=8), "CST")


@dataclass(frozen=True, slots=True)
class ChecklistRules:
    # 终本 condition 3: the network searched for deposits, vehicles and other transport, real
    # estate and securities. A category is evidenced by a successful search through the service
    # (an agency whose manifest has that search_category) or by a network_search_recorded event.
    required_categories: tuple[str, ...] = ("deposits", "vehicles", "real_estate", "securities")
    min_months: int = 3  # condition 4: more than three months since filing
    # Condition 3, on-site inquiry (2016 rules art. 3(3)): by law only where the network cannot
    # answer (a lead pointing to property the network does not cover, or a required category the
    # network could not search). True: the court's stricter choice, an on-site inquiry for every 终本.
    require_onsite: bool = False
    location_category: str = "location"  # condition 5: what counts as a search for a missing debtor


@dataclass(frozen=True, slots=True)
class Debtor:
    party_id: int
    kind: str
    id_number: str
    name: str

    @property
    def subject_key(self) -> str:
        return f"{self.kind}:{self.id_number}"


@dataclass(frozen=True, slots=True)
class SearchFact:
    """One agency's successful answer (an empty one too) in a search of this case."""

    search_id: str
    subject_key: str
    agency: str
    category: str
    purpose: str
    answered_at: datetime
    record_count: int
    reused: bool = False

    @property
    def on(self) -> date:
        return self.answered_at.astimezone(COURT_TZ).date()


@dataclass(frozen=True, slots=True)
class Evidence:
    source: str  # event | search | case
    on: date
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of_event(cls, e: CaseEvent) -> Evidence:
        detail: dict[str, Any] = {"event_id": e.id, "event_type": e.type}
        for key in ("category", "outcome", "reason", "found", "unavailable", "onsite", "channel", "occasion", "round",
                    "document_number"):
            if key in e.data:
                detail[key] = e.data[key]
        return cls("event", e.occurred_on, detail)

    @classmethod
    def of_search(cls, s: SearchFact) -> Evidence:
        return cls("search", s.on, {"search_id": s.search_id, "agency": s.agency, "category": s.category,
                                    "purpose": s.purpose, "answered_at": s.answered_at.isoformat(),
                                    "record_count": s.record_count, "reused": s.reused})

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "on": self.on.isoformat(), **self.detail}


@dataclass(frozen=True, slots=True)
class Requirement:
    code: str
    zh: str
    en: str
    met: bool
    evidence: tuple[Evidence, ...] = ()
    debtor: Debtor | None = None
    note: str | None = None  # e.g. "not_applicable", "no_leads_given"
    basis: str | None = None  # which rule applied where a court may be stricter: "law" or "court"

    @property
    def key(self) -> str:
        return self.code + (f"@{self.debtor.party_id}" if self.debtor else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": {"zh": self.zh, "en": self.en},
            "met": self.met,
            "debtor": None if self.debtor is None else {
                "party_id": self.debtor.party_id, "kind": self.debtor.kind, "name": self.debtor.name},
            "note": self.note,
            "basis": self.basis,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class Condition:
    number: int
    code: str
    zh: str
    en: str
    requirements: tuple[Requirement, ...]

    @property
    def met(self) -> bool:
        return all(r.met for r in self.requirements)

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "code": self.code, "title": {"zh": self.zh, "en": self.en},
                "met": self.met, "requirements": [r.to_dict() for r in self.requirements]}


@dataclass(frozen=True, slots=True)
class Unsearchable:
    """A required network category that no connector of this installation answers: the service
    cannot search it, so only a search made elsewhere (``network_search_recorded``) can meet it."""

    category: str
    zh: str
    en: str

    @classmethod
    def of(cls, category: str) -> Unsearchable:
        zh, en = CATEGORY_NAMES.get(category, (category, category))
        return cls(category, f"{zh}：本系统未接入可查询的协查单位",
                   f"{en}: no agency this system is connected to can search it")

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "message": {"zh": self.zh, "en": self.en}}


@dataclass(frozen=True, slots=True)
class Checklist:
    as_of: date
    conditions: tuple[Condition, ...]
    unsearchable: tuple[Unsearchable, ...] = ()

    @property
    def ready(self) -> bool:
        return all(c.met for c in self.conditions)

    @property
    def missing(self) -> list[str]:
        """``<condition>:<requirement>[@<party id>]`` for every requirement not met."""
        return [f"{c.number}:{r.key}" for c in self.conditions for r in c.requirements if not r.met]

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "ready": self.ready, "missing": self.missing,
                "conditions": [c.to_dict() for c in self.conditions],
                "unsearchable_categories": [u.to_dict() for u in self.unsearchable]}


CATEGORY_NAMES = {
    "deposits": ("存款", "deposits"),
    "vehicles": ("车辆及其他交通运输工具", "vehicles and other transport"),
    "real_estate": ("不动产", "real estate"),
    "securities": ("有价证券", "securities"),
    "income": ("收入（社保）", "income (social insurance)"),
    "location": ("下落（出入境、住宿）", "whereabouts (exit-entry, hotels)"),
}


class _Facts:
    def __init__(self, events: Iterable[CaseEvent], searches: Iterable[SearchFact], as_of: date) -> None:
        self.events = [e for e in events if e.occurred_on <= as_of]
        self.searches = [s for s in searches if s.on <= as_of]

    def of(self, types: str | tuple[str, ...], debtor: Debtor | None = None,
           since: date | None = None, where: Callable[[CaseEvent], bool] | None = None) -> list[CaseEvent]:
        wanted = (types,) if isinstance(types, str) else types
        return [e for e in self.events
                if e.type in wanted
                and (debtor is None or e.debtor is None or e.debtor == debtor.id_number)
                and (since is None or e.occurred_on >= since)
                and (where is None or where(e))]


def _has(code: str, zh: str, en: str, found: Sequence[CaseEvent], debtor: Debtor | None = None) -> Requirement:
    return Requirement(code, zh, en, bool(found), tuple(Evidence.of_event(e) for e in found), debtor)


def _sanctioned(code: str, zh: str, en: str, f: _Facts, d: Debtor, triggers: list[CaseEvent],
                not_reason: str) -> Requirement:
    """Met when nothing calls for a sanction, or a sanction followed the latest trigger."""
    if not triggers:
        return Requirement(code, zh, en, True, (), d, note="not_applicable")
    latest = max(e.occurred_on for e in triggers)
    sanctions = f.of("sanction_imposed", d, since=latest, where=lambda e: e.data.get("reason") != not_reason)
    return Requirement(code, zh, en, bool(sanctions),
                       tuple(Evidence.of_event(e) for e in [*triggers, *sanctions]), d)


def _category_is(category: str) -> Callable[[CaseEvent], bool]:
    return lambda e: e.data.get("category") == category


LEAD_EVENTS = ("leads_provided", "applicant_lead_received")


def _leads_checked(f: _Facts, filed_on: date) -> Requirement:
    """2016 rules art. 3(1): the leads the applicant gave are checked. Without leads there is
    nothing to check: met, with "no leads given" as its evidence."""
    code, zh, en = "applicant_leads_checked", "已核查申请执行人提供的财产线索", "applicant's leads checked"
    leads = f.of(LEAD_EVENTS)
    if not leads:
        return Requirement(code, zh, en, True, (Evidence("case", filed_on, {
            "reason": "no leads given", "reason_zh": "申请执行人未提供财产线索"}),), note="no_leads_given")
    since = max(e.occurred_on for e in leads)
    checked = f.of("applicant_leads_checked", since=since)
    return Requirement(code, zh, en, bool(checked), tuple(Evidence.of_event(e) for e in [*leads, *checked]))


def _onsite(f: _Facts, rules: ChecklistRules) -> Requirement:
    """2016 rules art. 3(3): an on-site inquiry where the network cannot answer: a lead pointing to
    property the network does not cover (``data.onsite`` true, or a ``data.category`` outside the
    required network categories), or a required category the network could not search
    (``network_search_recorded`` with ``data.unavailable`` true). The court's stricter setting
    requires one for every 终本; ``basis`` says which rule applied."""
    code, zh, en = "onsite_inquiry", "已进行现场调查", "on-site inquiry made"
    network = set(rules.required_categories)

    def beyond_network(e: CaseEvent) -> bool:
        if e.type == "network_search_recorded":
            return e.data.get("unavailable") is True
        category = e.data.get("category")
        return e.data.get("onsite") is True or (category is not None and str(category) not in network)

    triggers = f.of((*LEAD_EVENTS, "network_search_recorded"), where=beyond_network)
    made = f.of("onsite_inquiry")
    if triggers:
        return Requirement(code, zh, en, bool(made), tuple(Evidence.of_event(e) for e in [*triggers, *made]),
                           basis="law")
    if rules.require_onsite:
        return Requirement(code, zh, en, bool(made), tuple(Evidence.of_event(e) for e in made), basis="court")
    return Requirement(code, zh, en, True, tuple(Evidence.of_event(e) for e in made), note="not_applicable",
                       basis="law")


def _condition_6(f: _Facts) -> list[Requirement]:
    """Condition 6: the applicant told and heard (an ``applicant_heard`` event, or an
    ``applicant_notified`` one whose ``data.heard`` is true: a notice alone tells, it does not
    hear; the notices are shown as evidence either way), and the closure approved (a
    ``closure_approved`` event, or the 终本 ruling served on the applicant,
    ``zhongben_ruling_served``, which only an approved closure has)."""
    notified = f.of("applicant_notified")
    heard = [*f.of("applicant_heard"), *(e for e in notified if e.data.get("heard") is True)]
    approved = f.of(("closure_approved", "zhongben_ruling_served"))
    shown = [e for e in f.events if e.type == "applicant_heard" or e in notified]
    return [
        Requirement("applicant_heard", "已告知申请执行人并听取意见", "applicant told and heard", bool(heard),
                    tuple(Evidence.of_event(e) for e in shown)),
        _has("closure_approved", "终本已经审批（合议庭评议、院长批准或申请执行人签字确认）",
             "closure approved (collegial panel and president, or applicant's signed confirmation)", approved),
    ]


def evaluate(*, filed_on: date, as_of: date, events: Iterable[CaseEvent], debtors: Sequence[Debtor],
             searches: Iterable[SearchFact], rules: ChecklistRules,
             searchable: Collection[str] | None = None) -> Checklist:
    """``searchable``: the search categories the installed connectors answer (None: not known).
    A required category outside it is named (``Checklist.unsearchable``, and the note
    ``no_connector`` on its requirements)."""
    f = _Facts(events, searches, as_of)
    unsearchable = () if searchable is None else tuple(
        Unsearchable.of(c) for c in rules.required_categories if c not in searchable)
    no_connector = {u.category for u in unsearchable}

    c1: list[Requirement] = []
    c2: list[Requirement] = []
    c3: list[Requirement] = []
    c5: list[Requirement] = []
    for d in debtors:
        c1.append(_has("notice_served", "已送达执行通知书", "enforcement notice served", f.of("notice_served", d), d))
        c1.append(_has("property_report_ordered", "已责令报告财产", "ordered to report property",
                       f.of("property_report_ordered", d), d))
        bad = f.of("property_report_checked", d, where=lambda e: e.data.get("outcome") in ("late", "refused", "false"))
        c1.append(_sanctioned("report_sanctioned", "逾期、拒绝或虚假报告财产已依法惩戒",
                              "late, refused or false report sanctioned", f, d, bad, "obstruction"))
        c2.append(_has("consumption_restriction", "已发出限制消费令", "consumption restriction issued",
                       f.of("consumption_restriction_issued", d), d))
        c2.append(_has("dishonest_listing", "符合条件的已纳入失信名单（或记录不符合条件）",
                       "put on the dishonest list (or recorded as not qualifying)",
                       f.of(("dishonest_listed", "dishonest_not_qualified"), d), d))
        for category in rules.required_categories:
            zh, en = CATEGORY_NAMES.get(category, (category, category))
            found_searches = [s for s in f.searches if s.category == category and s.subject_key == d.subject_key]
            found_events = f.of("network_search_recorded", d, where=_category_is(category))
            evidence = (*(Evidence.of_search(s) for s in sorted(found_searches, key=lambda s: s.answered_at)),
                        *(Evidence.of_event(e) for e in found_events))
            c3.append(Requirement(f"network_search_{category}", f"已通过网络查控系统查询{zh}",
                                  f"network searched for {en}", bool(evidence), evidence, d,
                                  note="no_connector" if category in no_connector else None))
        missing = f.of("debtor_missing", d)
        if missing:
            lost_on = max(e.occurred_on for e in missing)
            looked = [Evidence.of_event(e) for e in f.of("whereabouts_searched", d, since=lost_on)]
            looked += [Evidence.of_search(s) for s in f.searches
                       if s.category == rules.location_category and s.subject_key == d.subject_key and s.on >= lost_on]
            c5.append(Requirement("whereabouts_searched", "下落不明的被执行人已查找", "missing debtor searched for",
                                  bool(looked), (*(Evidence.of_event(e) for e in missing), *looked), d))
        else:
            c5.append(Requirement("whereabouts_searched", "下落不明的被执行人已查找", "missing debtor searched for",
                                  True, (), d, note="not_applicable"))
        c5.append(_sanctioned("obstruction_sanctioned", "妨碍执行行为已依法惩戒", "obstruction sanctioned", f, d,
                              f.of("obstruction_recorded", d), "report"))

    c3.insert(0, _leads_checked(f, filed_on))
    c3.append(_onsite(f, rules))

    threshold = add_months(filed_on, rules.min_months)
    c4 = [Requirement("months_since_filing", f"自立案之日起已超过{rules.min_months}个月",
                      f"more than {rules.min_months} months since filing", as_of > threshold,
                      (Evidence("case", filed_on, {"field": "filed_on", "threshold": threshold.isoformat()}),))]
    c6 = _condition_6(f)
    return Checklist(as_of, (
        Condition(1, "notice_and_report", "送达执行通知书、责令报告财产", "notice served, property report ordered",
                  tuple(c1)),
        Condition(2, "restriction_and_listing", "限制消费、纳入失信名单", "consumption restriction, dishonest list",
                  tuple(c2)),
        Condition(3, "searches_exhausted", "穷尽财产调查措施", "property searches exhausted", tuple(c3)),
        Condition(4, "three_months", "立案已满三个月", "more than three months since filing", tuple(c4)),
        Condition(5, "missing_debtor_and_obstruction", "查找下落不明的被执行人、惩戒妨碍执行",
                  "missing debtor searched for, obstruction sanctioned", tuple(c5)),
        Condition(6, "applicant_heard_and_approved", "告知申请执行人并听取意见、终本审批",
                  "applicant told and heard, closure approved", tuple(c6)),
    ), unsearchable)


__all__ = ["COURT_TZ", "Checklist", "ChecklistRules", "Condition", "Debtor", "Evidence", "Requirement",
           "SearchFact", "Unsearchable", "evaluate"]
