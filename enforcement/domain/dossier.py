"""The asset dossier: every agency's records about one subject, merged.

Records are deduplicated by ``(kind, natural_key)``: the same account reported twice (say, by a
reused answer and a fresh one) is one entry with two provenances, and the most recent answer's
data wins. Each entry says whether it is new since the subject's previous search. Pure: no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Provenance:
    agency: str
    answer_id: int
    answered_at: datetime
    reused: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "answer_id": self.answer_id,
            "answered_at": self.answered_at.isoformat(),
            "reused": self.reused,
        }


@dataclass(frozen=True, slots=True)
class Observation:
    """One record as one answer reported it."""

    kind: str
    natural_key: str
    data: Mapping[str, Any]
    provenance: Provenance
    is_new: bool = False


@dataclass(frozen=True, slots=True)
class DossierEntry:
    kind: str
    natural_key: str
    data: Mapping[str, Any]
    is_new: bool
    provenance: tuple[Provenance, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "natural_key": self.natural_key,
            "data": dict(self.data),
            "is_new": self.is_new,
            "provenance": [p.to_dict() for p in self.provenance],
        }


@dataclass(frozen=True, slots=True)
class Dossier:
    sections: Mapping[str, tuple[DossierEntry, ...]] = field(default_factory=dict)
    totals: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def entry_count(self) -> int:
        return sum(len(v) for v in self.sections.values())

    @property
    def new_count(self) -> int:
        return sum(1 for v in self.sections.values() for e in v if e.is_new)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry_count": self.entry_count,
            "new_count": self.new_count,
            "sections": {k: [e.to_dict() for e in v] for k, v in self.sections.items()},
            "totals": {k: dict(v) for k, v in self.totals.items()},
        }


@dataclass(frozen=True, slots=True)
class DossierAbout:
    """What a dossier was gathered for: its search, the search's case, subject and purpose."""

    search_id: UUID
    case_id: int
    subject_kind: str
    subject_id_number: str
    subject_key: str
    purpose: str


@dataclass(frozen=True, slots=True)
class DossierAlert:
    """Something the judge must see beside a dossier (a breach of a consumption restriction, new
    property found by a 终本 re-query), with its evidence."""

    kind: str
    message: Mapping[str, str]
    case_id: int
    evidence: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": dict(self.message), "case_id": self.case_id,
                "evidence": dict(self.evidence)}


def merge(observations: Iterable[Observation]) -> Dossier:
    grouped: dict[tuple[str, str], list[Observation]] = defaultdict(list)
    for obs in observations:
        grouped[(obs.kind, obs.natural_key)].append(obs)
    sections: dict[str, list[DossierEntry]] = defaultdict(list)
    for (kind, key), group in grouped.items():
        group.sort(key=lambda o: (o.provenance.answered_at, o.provenance.answer_id))
        latest = group[-1]
        provenance = tuple(dict.fromkeys(o.provenance for o in reversed(group)))
        sections[kind].append(
            DossierEntry(kind, key, latest.data, any(o.is_new for o in group), provenance)
        )
    ordered = {k: tuple(sorted(v, key=lambda e: e.natural_key)) for k, v in sorted(sections.items())}
    return Dossier(ordered, {k: summarize(k, v) for k, v in ordered.items()})


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def _money(d: Decimal) -> str:
    return f"{d:.2f}"


CURRENT_EMPLOYMENT = "正常参保"


def summarize(kind: str, entries: tuple[DossierEntry, ...]) -> dict[str, Any]:
    """Totals a judge reads first, per kind; unknown kinds get a count."""
    out: dict[str, Any] = {"count": len(entries), "new": sum(1 for e in entries if e.is_new)}
    if kind == "bank_account":
        by_currency: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for e in entries:
            cur = by_currency[str(e.data.get("currency", "CNY"))]
            cur["balance"] += _amount(e.data.get("balance"))
            cur["available_balance"] += _amount(e.data.get("available_balance"))
            cur["frozen"] += sum((_amount(f.get("amount")) for f in e.data.get("freezes") or ()), Decimal(0))
        out["by_currency"] = {c: {k: _money(v) for k, v in t.items()} for c, t in sorted(by_currency.items())}
        out["active"] = sum(1 for e in entries if e.data.get("status") != "销户")
    elif kind == "vehicle":
        out["seized"] = sum(
            1
            for e in entries
            if "K" in str(e.data.get("status_codes", "")) or int(e.data.get("seizure_count") or 0) > 0
        )
        out["mortgaged"] = sum(1 for e in entries if e.data.get("mortgaged"))
    elif kind == "employment":
        # Only the employers the debtor is insured with now (正常参保) earn an income to garnish; the
        # ones left years ago (终止, 暂停缴费) are history, counted apart, never added in.
        current = [e for e in entries if e.data.get("status") == CURRENT_EMPLOYMENT]
        out["contribution_base"] = _money(sum((_amount(e.data.get("contribution_base")) for e in current), Decimal(0)))
        out["current_employers"] = len(current)
        out["former_employers"] = len(entries) - len(current)
    elif kind == "pension":
        out["monthly_amount"] = _money(sum((_amount(e.data.get("monthly_amount")) for e in entries), Decimal(0)))
    elif kind == "securities_holding":
        out["market_value"] = _money(sum((_amount(e.data.get("market_value")) for e in entries), Decimal(0)))
        out["accounts"] = len({(e.data.get("market"), e.data.get("account_number")) for e in entries})
        out["frozen"] = sum(1 for e in entries if int(e.data.get("frozen_quantity") or 0) > 0)
        dates = [str(e.data.get("valued_on", "")) for e in entries]
        out["valued_on"] = max(dates) if dates else None
    elif kind == "hotel_stay":
        out["star_rated"] = sum(1 for e in entries if int(e.data.get("star_rating") or 0) > 0)
        stays = [str(e.data.get("checked_in_at", "")) for e in entries]
        out["latest_check_in"] = max(stays) if stays else None
    elif kind == "border_crossing":
        times = [str(e.data.get("crossed_at", "")) for e in entries]
        out["latest"] = max(times) if times else None
    elif kind == "exit_restriction":
        out["in_force"] = any(bool(e.data.get("in_force")) for e in entries)
    return out


__all__ = ["Dossier", "DossierAbout", "DossierAlert", "DossierEntry", "Observation", "Provenance", "merge",
           "summarize"]
