"""The consumption-restriction check of an organization debtor's responsible persons.

An order on an organization binds its legal representative, principal responsible persons and
those directly responsible (SPC 《关于限制被执行人高消费及有关消费的若干规定》 art. 3(2)). The case
carries them (``case_responsible_person``); this service searches, for each of them, the agencies
that can show a breach (a manifest whose ``record_kinds`` hold a kind ``domain.breaches`` reads:
``hotel_stay``) and nothing else: he is not a debtor, so his property is not searched.

It runs when the judge asks (``check``, the breach check of a case) and after a judge's
全网查询 of an organization debtor (``follow``, wired by the composition root as a
``SearchFollower``). Each search is made through the search port for this case (the 点对点 rule:
the query serves this case's enforcement), purpose ``限制消费核查``, requested by and audited as
the judge, with the organization and the person's roles in its audit details. The answers go
through the review queue (migration 0015) and a star-rated stay after the order raises a
``consumption_breach`` alert on the organization's order (``enforcement.cases.review``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from connectors.sdk.manifest import Manifest
from enforcement.cases.store.breach_check import BreachCheckStore
from enforcement.domain.actors import Actor
from enforcement.domain.authorization import AccessDenied, CaseAccess, check_breach_check
from enforcement.domain.errors import CaseNotFound, DomainError
from enforcement.domain.privacy import mask_id_number
from enforcement.domain.subjects import Subject
from enforcement.searches.port import SearchPort, SystemSearch

log = structlog.get_logger(__name__)

PURPOSE = "限制消费核查"
BREACH_RECORD_KINDS = frozenset({"hotel_stay"})  # what domain.breaches reads as evidence of a breach


def breach_agencies(manifests: Mapping[str, Manifest]) -> tuple[str, ...]:
    """The agencies that can show a breach of a consumption restriction by a person."""
    return tuple(sorted(name for name, m in manifests.items()
                        if "person" in m.subject_kinds and BREACH_RECORD_KINDS & set(m.record_kinds)))


class BreachCheck:
    def __init__(self, store: BreachCheckStore, searches: SearchPort, manifests: Mapping[str, Manifest]) -> None:
        self.store = store
        self.searches = searches
        self.agencies = breach_agencies(manifests)

    async def check(self, actor: Actor, case_id: int) -> dict[str, Any]:
        """Search the breach-capable agencies for every responsible person of the case's
        organization debtors under an order in force. Who: the judge holding the case
        (``check_breach_check``). Raises ``NotFound`` (404), ``AccessDenied`` (403)."""
        case = await self.store.case(case_id)
        if case is None:
            raise CaseNotFound(f"Case {case_id} does not exist.", message_zh=f"案件 {case_id} 不存在")
        try:
            check_breach_check(actor, CaseAccess(case.id, case.court_code, case.judge_login, case.status))
        except AccessDenied as exc:
            exc.about(action="breach_check", case_id=case_id, case_number=case.case_number,
                      case_court=case.court_code, purpose=PURPOSE)
            raise
        made = await self._search(actor.login, actor.role, case_id, None)
        return {"case_id": case_id, "purpose": PURPOSE, "agencies": list(self.agencies), "searches": made}

    async def follow(self, actor_login: str, actor_role: str, case_id: int, subject: Subject) -> None:
        """``SearchFollower``: after a judge's search of an organization debtor (already authorized
        by the 点对点 rule), its responsible persons' check. Raises nothing: logged."""
        if subject.kind != "organization":
            return
        try:
            await self._search(actor_login, actor_role, case_id, subject.id_number)
        except DomainError as exc:
            log.warning("breach_check_not_made", case_id=case_id, error=exc.code)

    async def _search(self, login: str, role: str, case_id: int, debtor: str | None) -> list[dict[str, Any]]:
        if not self.agencies:
            return []
        made: list[dict[str, Any]] = []
        async with self.store.transaction() as tx:
            for p in await tx.bound_persons(case_id, debtor):
                person = Subject(kind="person", id_number=p.id_number, name=p.name)
                done = await self.searches.submit_system(tx.handle, SystemSearch(
                    case_id=case_id, subject=person, purpose=PURPOSE, requested_by=login, actor_role=role,
                    agencies=self.agencies,
                    details={"breach_check": True, "roles": list(p.roles),
                             "for_debtor": mask_id_number(p.debtor_id_number)}))
                made.append({"search_id": str(done.search_id), "name": p.name, "roles": list(p.roles),
                             "debtor_name": p.debtor_name})
        if made:
            log.info("breach_check_searches", case_id=case_id, searches=len(made))
        return made


__all__ = ["BREACH_RECORD_KINDS", "PURPOSE", "BreachCheck", "breach_agencies"]
