"""Telling the applicant: the draft notice after a re-query round or before a 终本 closure.

``NoticeService.draft`` generates the text (``domain.notices.applicant_notice``) from the answers
the agencies gave about the case's debtors: for a re-query, those of the round's searches; for a
终本, those of the case's own searches up to the closure (or today). Sending it and recording it
as sent is an ``applicant_notified`` event (``POST /api/v1/cases/{id}/events``, data: occasion,
round, channel, content), which the 终本 checklist (condition 6) and the re-query indicator read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from connectors.sdk.manifest import Manifest
from enforcement.cases.breach_check import PURPOSE as BREACH_PURPOSE
from enforcement.cases.requery import PURPOSE as REQUERY_PURPOSE
from enforcement.cases.store.notices import NoticeStore
from enforcement.domain.actors import Actor
from enforcement.domain.authorization import AccessDenied, CaseAccess, check_read
from enforcement.domain.checklist import COURT_TZ
from enforcement.domain.errors import CaseNotFound
from enforcement.domain.lifecycle import NOTICE_CHANNELS
from enforcement.domain.notices import NoticeAnswer, NoticeFacts, answers_in, applicant_notice


class NoticeService:
    def __init__(self, store: NoticeStore, manifests: Mapping[str, Manifest], property_kinds: Sequence[str],
                 today: Callable[[], date]) -> None:
        self.store = store
        self.names = {n: m.display_zh for n, m in manifests.items()}
        self.categories = {n: m.search_category for n, m in manifests.items()}
        self.property_kinds = tuple(property_kinds)
        self.today = today

    async def draft(self, actor: Actor, case_id: int, occasion: str, round_: int | None = None) -> dict[str, Any]:
        """The notice's draft text and what it was generated from. ``occasion`` requery (``round_``:
        that round; default the latest round answered) or zhongben. Who: whoever may read the case.
        Raises ``CaseNotFound`` (404), ``AccessDenied`` (403)."""
        case = await self.store.case(case_id)
        if case is None:
            raise CaseNotFound(f"Case {case_id} does not exist.", message_zh=f"案件 {case_id} 不存在")
        try:
            check_read(actor, CaseAccess(case.id, case.court_code, case.judge_login, case.status))
        except AccessDenied as exc:
            exc.about(action="case_read", case_id=case_id, case_number=case.case_number, case_court=case.court_code)
            raise
        rows = await self.store.answers(case_id, self.property_kinds)
        if occasion == "requery":
            rounds = sorted({r.round for r in rows if r.purpose == REQUERY_PURPOSE and r.round is not None})
            round_ = round_ if round_ is not None else (rounds[-1] if rounds else None)
            rows = [r for r in rows if r.purpose == REQUERY_PURPOSE and r.round == round_]
        else:
            until = case.closed_on or self.today()
            rows = [r for r in rows if r.purpose not in (REQUERY_PURPOSE, BREACH_PURPOSE)
                    and r.answered_at.astimezone(COURT_TZ).date() <= until]
        answers = answers_in([NoticeAnswer(r.debtor_name, self.names.get(r.agency, r.agency),
                                           self.categories.get(r.agency, "unknown"),
                                           r.answered_at.astimezone(COURT_TZ).date(), r.property_count)
                              for r in rows])
        debtors = tuple(dict.fromkeys(a.debtor_name for a in answers))
        on = self.today()
        text = applicant_notice(NoticeFacts(case.case_number, case.court_name, case.applicant_name, debtors,
                                            occasion, on, answers, round_))
        return {"case_id": case_id, "occasion": occasion, "round": round_, "date": on.isoformat(), "text": text,
                "channels": list(NOTICE_CHANNELS),
                "answers": [{"debtor_name": a.debtor_name, "agency": a.agency_zh, "category": a.category,
                             "answered_on": a.answered_on.isoformat(), "property_count": a.property_count}
                            for a in answers]}


__all__ = ["NoticeService"]
