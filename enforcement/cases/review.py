"""Reviewing new agency answers for what the judge must know, and showing it in the dossier.

A statement trigger (migration 0003) queues every non-empty answer of a 终本 re-query, or about
a debtor under a consumption restriction, in ``answer_review``, in the transaction that stores
the answer, whoever stores it. ``AnswerReviewer.review`` takes queued answers off the queue and,
in the same transaction, raises:

- ``new_property``: a re-query search found property (``property_kinds``) seen for the first
  time in that search (``subject_asset.first_seen_search_id``). One alert per search, however
  many answers bring new property (the later ones add to its evidence).
- ``consumption_breach``: a star-rated hotel stay after a consumption restriction of the case the
  search was made for (and of no other case the subject is a debtor in: results serve their own
  case only, DOMAIN.md §6); one alert per order and stay, with the stay as evidence.

``DossierFlags.annotate`` puts the same findings beside a search's typed dossier (``alerts``),
computed from the search's own records at read time, so the dossier shows them at once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import structlog

from connectors.sdk.record_labels import kind_name
from enforcement.cases.lifecycle import raise_breach
from enforcement.cases.requery import PURPOSE
from enforcement.cases.store.alerts import AlertStore, AnswerRecord, NewAlert
from enforcement.domain.breaches import Stay, breach_alert, breaches, stays_in
from enforcement.domain.dossier import Dossier, DossierAbout, DossierAlert
from enforcement.kernel import metrics

log = structlog.get_logger(__name__)

def new_property_message(assets: Sequence[Any]) -> dict[str, str]:
    """The alert's message: the kinds and counts of new property, in both languages, each kind
    by the name its record schema gives it (``connectors.sdk.record_labels``, the words the
    workbench and the command line show)."""
    counts = Counter(str(a.get("kind")) for a in assets)
    zh = "、".join(f"{kind_name(k, 'zh')}{n}项" for k, n in sorted(counts.items()))
    en = ", ".join(f"{kind_name(k, 'en')} ({n})" for k, n in sorted(counts.items()))
    return {"zh": f"终本复查发现新的财产：{zh}，可申请恢复执行",
            "en": f"The 终本 re-query found new property: {en}; the case may be resumed"}


def _asset(r: AnswerRecord, agency: str) -> dict[str, Any]:
    return {"kind": r.kind, "natural_key": r.natural_key, "agency": agency, "answer_id": r.answer_id}


class AnswerReviewer:
    """Takes queued answers off the review queue and raises the alerts they call for. A system
    duty run by the lifecycle worker: no actor."""

    def __init__(self, store: AlertStore, property_kinds: Sequence[str]) -> None:
        self.store = store
        self.property_kinds = tuple(property_kinds)

    async def review(self, limit: int = 200) -> tuple[int, int]:
        """Review up to ``limit`` queued answers in one transaction (the answers leave the queue
        with the alerts they raise, or stay on it); return (answers reviewed, alerts raised).
        Raises nothing of its own."""
        raised = 0
        async with self.store.review() as tx:
            ids = await tx.claim(limit)
            if not ids:
                return 0, 0
            answers = await tx.answers(ids)
            records: dict[int, list[AnswerRecord]] = defaultdict(list)
            for r in await tx.records(ids, [*self.property_kinds, "hotel_stay"]):
                records[r.answer_id].append(r)
            for a in answers:
                recs = records.get(a.answer_id, [])
                if a.purpose == PURPOSE:
                    new = [_asset(r, a.agency) for r in recs if r.kind in self.property_kinds and r.first_seen]
                    if new:
                        created = await tx.raise_alert(NewAlert(
                            kind="new_property", dedupe_key=f"new_property:{a.search_id}",
                            case_id=int(a.round_case_id or a.case_id),
                            party_id=int(a.round_party_id) if a.round_party_id else None,
                            search_id=a.search_id, round_id=int(a.round_id) if a.round_id else None,
                            evidence={"assets": new}))
                        if created:
                            metrics.ALERTS_RAISED.labels(kind="new_property").inc()
                        raised += int(created)
                stays = [s for s in (Stay.from_record(r.natural_key, r.data, answer_id=r.answer_id,
                                                      search_id=str(a.search_id))
                                     for r in recs if r.kind == "hotel_stay") if s is not None]
                if stays:
                    orders = await tx.restriction_orders_of(a.subject_kind, a.subject_id_number,
                                                            int(a.case_id) if a.case_id else None)
                    for b in breaches(orders, stays):
                        created_breach = await raise_breach(tx, b)
                        if created_breach:
                            metrics.ALERTS_RAISED.labels(kind="consumption_breach").inc()
                        raised += created_breach
        if raised:
            log.info("alerts_raised", count=raised, answers=len(ids))
        return len(ids), raised


class DossierFlags:
    """Adds alerts to a search's typed dossier: breaches of a consumption restriction shown by
    the search's hotel stays, and new property found by a 终本 re-query."""

    def __init__(self, store: AlertStore, property_kinds: Sequence[str]) -> None:
        self.store = store
        self.property_kinds = tuple(property_kinds)

    async def annotate(self, about: DossierAbout, dossier: Dossier) -> list[DossierAlert]:
        """The alerts of a search's typed dossier (``about``: whose search it is). No authorization
        of its own: called on a search already authorized."""
        flags: list[DossierAlert] = []
        stays = stays_in(dossier, str(about.search_id))
        if stays:
            orders = await self.store.restriction_orders_of(about.subject_kind, about.subject_id_number,
                                                            about.case_id)
            flags.extend(breach_alert(b) for b in breaches(orders, stays))
        if about.purpose == PURPOSE:
            new = await self.store.first_seen_in_search(about.subject_key, about.search_id, self.property_kinds)
            if new:
                flags.append(DossierAlert("new_property", new_property_message(new), about.case_id,
                                          {"assets": new}))
        return flags


__all__ = ["AnswerReviewer", "DossierFlags", "new_property_message"]
