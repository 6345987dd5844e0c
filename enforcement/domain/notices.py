"""Telling the applicant (告知申请执行人): the notice's text, generated from the searches made.

Pure. After each six-monthly re-query of a 终本 case, and before a 终本 closure, the court tells
the applicant what was searched, where and when, and what was found (SPC 《关于严格规范终结本次执行
程序的规定（试行）》 arts. 1(6) and 9), and that he may give new leads at any time. ``applicant_notice``
writes that notice in Chinese; the judge reviews it, sends it, and records it as sent (an
``applicant_notified`` event with the channel, the date and the text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

# Search categories that are property (a count of what was found is told); others (whereabouts)
# are told as searched only: their content is not property and stays in the file.
PROPERTY_CATEGORIES = frozenset({"deposits", "vehicles", "real_estate", "securities", "income"})
CATEGORY_ZH = {"deposits": "存款", "vehicles": "车辆", "real_estate": "不动产", "securities": "证券",
               "income": "收入（社保）", "location": "下落信息"}
_CN_DIGITS = "〇一二三四五六七八九"


@dataclass(frozen=True, slots=True)
class NoticeAnswer:
    """One agency's answer about one debtor: when it answered, and how many property records."""

    debtor_name: str
    agency_zh: str  # the agency's display name
    category: str
    answered_on: date
    property_count: int


@dataclass(frozen=True, slots=True)
class NoticeFacts:
    case_number: str
    court_name: str
    applicant_name: str
    debtor_names: tuple[str, ...]
    occasion: str  # requery | zhongben
    on: date  # the notice's date
    answers: tuple[NoticeAnswer, ...]
    round: int | None = None  # the re-query round


def _ordinal(n: int) -> str:
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    return str(n)


def _found(a: NoticeAnswer) -> str:
    if a.category not in PROPERTY_CATEGORIES:
        return "已查询"
    return f"发现{a.property_count}项" if a.property_count else "查无财产"


def applicant_notice(f: NoticeFacts) -> str:
    """The notice to the applicant, in Chinese: case number, debtors, the searches (agency, date,
    result; 查无财产 where nothing was found), the conclusion, and the applicant's right to give new
    leads (and, after a 终本, to apply for resumption)."""
    debtors = "、".join(f.debtor_names) or "被执行人"
    if f.occasion == "requery":
        what = f"本院依法对被执行人{debtors}的财产进行了终结本次执行程序后的第{_ordinal(f.round or 1)}次网络查控复查"
    else:
        what = f"本院在终结本次执行程序前，通过网络执行查控系统对被执行人{debtors}的财产进行了调查"
    lines = [f"申请执行人{f.applicant_name}：", f"　　你（单位）申请执行的{f.case_number}一案，{what}，情况如下："]
    answers = sorted(f.answers, key=lambda a: (a.debtor_name, a.answered_on, a.agency_zh))
    if not answers:
        lines.append("　　（本次尚无查控单位反馈。）")
    for i, a in enumerate(answers, 1):
        cat = CATEGORY_ZH.get(a.category, a.category)
        lines.append(f"　　{i}. {a.answered_on.isoformat()}，{a.agency_zh}（{cat}），"
                     f"被执行人{a.debtor_name}：{_found(a)}。")
    property_answers = [a for a in answers if a.category in PROPERTY_CATEGORIES]
    total = sum(a.property_count for a in property_answers)
    if property_answers and total == 0:
        lines.append("　　经查询，未发现被执行人有可供执行的财产（查无财产）。")
    elif total:
        lines.append(f"　　经查询，共发现财产{total}项，本院将依法处置"
                     + ("，必要时恢复执行。" if f.occasion == "requery" else "。"))
    lines.append("　　你（单位）如发现被执行人有可供执行的财产，可以随时向本院提供财产线索，本院将在收到线索后"
                 "七日内（情况紧急的三日内）予以核查"
                 + ("；符合恢复执行条件的，可以申请恢复执行。" if f.occasion == "requery"
                    else "；对终结本次执行程序有异议的，可以向本院提出意见。"))
    lines.append("　　特此告知。")
    lines.append(f"{f.court_name}")
    lines.append(f"{f.on.year}年{f.on.month}月{f.on.day}日")
    return "\n".join(lines)


def answers_in(answers: Sequence[NoticeAnswer]) -> tuple[NoticeAnswer, ...]:
    """The latest answer of each agency about each debtor (one line per debtor and agency)."""
    latest: dict[tuple[str, str], NoticeAnswer] = {}
    for a in sorted(answers, key=lambda a: a.answered_on):
        latest[(a.debtor_name, a.agency_zh)] = a
    return tuple(latest.values())


__all__ = ["CATEGORY_ZH", "PROPERTY_CATEGORIES", "NoticeAnswer", "NoticeFacts", "answers_in", "applicant_notice"]
