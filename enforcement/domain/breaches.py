"""Breaches of a consumption restriction (限制消费令): pure.

A debtor under a consumption restriction may not stay in a star-rated hotel. A stay breaches
an order when the hotel has a star rating above zero and the guest checked in (Beijing date)
strictly after the order's date (the order binds from the day after it was issued: its date is
a date, not a time, and the debtor may not know of it before), and before the order was lifted.

An order on an organization binds its legal representative, principal responsible persons and
those directly responsible (SPC 《关于限制被执行人高消费及有关消费的若干规定》 art. 3(2)): a
``RestrictionOrder`` with ``bound_role`` is the organization's order as it binds one of them
(``bound_name``), and his stay breaches the organization's order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from enforcement.domain.checklist import COURT_TZ
from enforcement.domain.dossier import Dossier, DossierAlert

ROLE_NAMES_EN = {"法定代表人": "legal representative", "主要负责人": "principal responsible person",
                 "直接责任人员": "person directly responsible"}


@dataclass(frozen=True, slots=True)
class RestrictionOrder:
    case_id: int
    event_id: int
    party_id: int
    issued_on: date
    lifted_on: date | None = None
    bound_role: str | None = None  # 法定代表人 | 主要负责人 | 直接责任人员: binds a person through the organization
    bound_name: str | None = None  # that person's name
    debtor_name: str | None = None  # the debtor the order was issued on


@dataclass(frozen=True, slots=True)
class Stay:
    natural_key: str
    hotel_name: str
    star_rating: int
    address: str
    checked_in_at: datetime
    checked_out_at: datetime | None
    answer_id: int | None = None
    search_id: str | None = None

    @classmethod
    def from_record(cls, natural_key: str, data: Mapping[str, Any], *, answer_id: int | None = None,
                    search_id: str | None = None) -> Stay | None:
        """The stay of a ``hotel_stay`` record's data; None when it cannot be read."""
        try:
            checked_in = datetime.fromisoformat(str(data["checked_in_at"]))
            out_raw = data.get("checked_out_at")
            checked_out = datetime.fromisoformat(str(out_raw)) if out_raw else None
            stars = int(data.get("star_rating") or 0)
        except (KeyError, ValueError, TypeError):
            return None
        if checked_in.tzinfo is None:
            checked_in = checked_in.replace(tzinfo=COURT_TZ)
        return cls(natural_key, str(data.get("hotel_name", "")), stars, str(data.get("address", "")),
                   checked_in, checked_out, answer_id, search_id)

    @property
    def check_in_date(self) -> date:
        return self.checked_in_at.astimezone(COURT_TZ).date()

    @property
    def digest(self) -> str:
        """A stable short name for the stay that carries no room number."""
        return hashlib.sha256(self.natural_key.encode()).hexdigest()[:16]

    def evidence(self) -> dict[str, Any]:
        return {
            "hotel_name": self.hotel_name,
            "star_rating": self.star_rating,
            "address": self.address,
            "checked_in_at": self.checked_in_at.isoformat(),
            "checked_out_at": self.checked_out_at.isoformat() if self.checked_out_at else None,
            "answer_id": self.answer_id,
            "search_id": self.search_id,
        }


@dataclass(frozen=True, slots=True)
class Breach:
    order: RestrictionOrder
    stay: Stay

    @property
    def dedupe_key(self) -> str:
        return f"consumption_breach:{self.order.event_id}:{self.stay.digest}"

    def evidence(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "stay": self.stay.evidence(),
            "order": {"event_id": self.order.event_id, "case_id": self.order.case_id,
                      "issued_on": self.order.issued_on.isoformat(),
                      "lifted_on": self.order.lifted_on.isoformat() if self.order.lifted_on else None},
        }
        if self.order.bound_role:
            found["bound_person"] = {"role": self.order.bound_role, "name": self.order.bound_name,
                                     "debtor_name": self.order.debtor_name}
        return found

    def message(self) -> dict[str, str]:
        s = self.stay
        o = self.order
        if o.bound_role:
            return {
                "zh": f"被执行人{o.debtor_name or ''}的{o.bound_role}{o.bound_name or ''}于{s.check_in_date}入住"
                      f"{s.star_rating}星级酒店“{s.hotel_name}”，违反{o.issued_on}对该单位发布的限制消费令",
                "en": f"The {ROLE_NAMES_EN.get(o.bound_role, o.bound_role)} of the debtor organization checked in "
                      f"at the {s.star_rating}-star hotel {s.hotel_name} on {s.check_in_date}, in breach of the "
                      f"consumption restriction issued on the organization on {o.issued_on}",
            }
        return {
            "zh": f"被执行人于{s.check_in_date}入住{s.star_rating}星级酒店“{s.hotel_name}”，"
                  f"违反{self.order.issued_on}发布的限制消费令",
            "en": f"The debtor checked in at the {s.star_rating}-star hotel {s.hotel_name} on {s.check_in_date}, "
                  f"in breach of the consumption restriction of {self.order.issued_on}",
        }


def breaches(orders: Iterable[RestrictionOrder], stays: Iterable[Stay]) -> list[Breach]:
    found: list[Breach] = []
    stay_list = list(stays)
    for order in orders:
        for stay in stay_list:
            day = stay.check_in_date
            if stay.star_rating > 0 and day > order.issued_on and (order.lifted_on is None or day < order.lifted_on):
                found.append(Breach(order, stay))
    return sorted(found, key=lambda b: (b.stay.checked_in_at, b.order.event_id))


def stays_in(dossier: Dossier, search_id: str) -> list[Stay]:
    """The star-rated hotel stays of a dossier (the only ones that can breach an order), each
    with the answer that first reported it and the search it was shown in."""
    found: list[Stay] = []
    for entry in dossier.sections.get("hotel_stay", ()):
        answer_id = entry.provenance[0].answer_id if entry.provenance else None
        stay = Stay.from_record(entry.natural_key, entry.data, answer_id=answer_id, search_id=search_id)
        if stay is not None and stay.star_rating > 0:
            found.append(stay)
    return found


def breach_alert(b: Breach) -> DossierAlert:
    """A breach as the dossier shows it."""
    return DossierAlert("consumption_breach", b.message(), b.order.case_id, b.evidence())


__all__ = ["ROLE_NAMES_EN", "Breach", "RestrictionOrder", "Stay", "breach_alert", "breaches", "stays_in"]
