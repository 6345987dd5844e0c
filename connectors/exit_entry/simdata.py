"""The simulated travellers behind the exit-entry simulator: deterministic per resident ID.

Each subject's history is drawn once from ``subject_rng`` on an absolute calendar (documents
issued and trips made between 2016 and 2027, a 边控 decided at some date), and what the agency
answers is that history as seen on ``today``: events still in the future are not shown, and
document statuses follow the date. So the same subject gets the same answer on the same day,
and a later re-query may find new crossings, as with the real agency.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from connectors.sdk import resident_id_birth_date, subject_rng

BEIJING = timezone(timedelta(hours=8), "CST")
WINDOW_START = date(2016, 1, 1)
WINDOW_END = date(2027, 12, 31)

DOCUMENT_NAMES = {
    "ORDINARY_PASSPORT": "普通护照",
    "HK_MACAO_PERMIT": "往来港澳通行证",
    "TAIWAN_PERMIT": "往来台湾通行证",
}
STATUS_NAMES = {
    "VALID": "有效",
    "EXPIRED": "已过期",
    "CANCELLED": "已注销",
    "DECLARED_INVALID": "已宣布作废",
}

Port = tuple[str, str, str, tuple[str, ...]]
"""(port code, port name, transport, regions reached from it)"""
AIRPORTS: tuple[Port, ...] = (
    ("110001", "首都机场", "AIR", ("日本", "韩国", "美国", "德国", "新加坡", "阿联酋")),
    ("110002", "大兴机场", "AIR", ("韩国", "泰国", "俄罗斯", "英国")),
    ("310001", "浦东机场", "AIR", ("日本", "美国", "法国", "澳大利亚", "新加坡", "意大利")),
    ("440101", "白云机场", "AIR", ("泰国", "马来西亚", "越南", "印度尼西亚", "新加坡")),
    ("510001", "天府机场", "AIR", ("泰国", "新加坡", "阿联酋", "日本")),
    ("330101", "萧山机场", "AIR", ("日本", "泰国", "马来西亚")),
)
LAND_PASSPORT_PORTS: tuple[Port, ...] = (
    ("450601", "东兴口岸", "LAND", ("越南",)),
    ("451401", "友谊关口岸", "LAND", ("越南",)),
    ("150701", "满洲里口岸", "LAND", ("俄罗斯",)),
    ("152501", "二连浩特口岸", "LAND", ("蒙古",)),
    ("532801", "磨憨口岸", "LAND", ("老挝",)),
)
HK_MACAO_PORTS: tuple[Port, ...] = (
    ("440301", "罗湖口岸", "LAND", ("香港",)),
    ("440302", "福田口岸", "LAND", ("香港",)),
    ("440303", "深圳湾口岸", "LAND", ("香港",)),
    ("440401", "拱北口岸", "LAND", ("澳门",)),
    ("440402", "横琴口岸", "LAND", ("澳门",)),
    ("440403", "港珠澳大桥珠海公路口岸", "LAND", ("香港", "澳门")),
)
TAIWAN_PORTS: tuple[Port, ...] = (
    ("350201", "厦门五通客运码头", "SEA", ("台湾",)),
    ("310001", "浦东机场", "AIR", ("台湾",)),
    ("110001", "首都机场", "AIR", ("台湾",)),
)
RESTRICTING_AUTHORITIES = (
    "北京市朝阳区人民法院",
    "上海市浦东新区人民法院",
    "深圳市福田区人民法院",
    "沈阳市和平区人民法院",
    "杭州市西湖区人民法院",
    "成都市武侯区人民法院",
    "广州市天河区人民法院",
    "大连市中级人民法院",
    "上海市公安局经济犯罪侦查总队",
)
_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


@dataclass(frozen=True, slots=True)
class _Document:
    kind: str
    number: str
    issued: date
    expires: date
    ends: date | None  # cancelled (replaced) or declared invalid (lost) from this date
    end_status: str


def _day(rng: random.Random, start: date, end: date) -> date:
    if end <= start:
        return start
    return start + timedelta(days=rng.randint(0, (end - start).days))


def _years_later(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _number(rng: random.Random, kind: str, issued: date) -> str:
    if kind == "HK_MACAO_PERMIT":
        return f"C{rng.randint(0, 99_999_999):08d}"
    if kind == "TAIWAN_PERMIT":
        return f"L{rng.randint(0, 99_999_999):08d}"
    if issued.year < 2019:
        return f"E{rng.randint(0, 99_999_999):08d}"
    return f"E{rng.choice(_LETTERS[:8])}{rng.randint(0, 9_999_999):07d}"


def _documents(rng: random.Random, kind: str, birth: date) -> list[_Document]:
    """One document, sometimes renewed or lost: a chain of at most two."""
    start = max(WINDOW_START, _years_later(birth, 1))
    issued = _day(rng, start, WINDOW_END - timedelta(days=400))
    chain: list[_Document] = []
    while issued < WINDOW_END and len(chain) < 2:
        adult = issued >= _years_later(birth, 16)
        expires = _years_later(issued, 10 if adult else 5) - timedelta(days=1)
        roll = rng.random()
        if roll < 0.06:  # lost, then declared invalid and replaced
            ends = _day(rng, issued + timedelta(days=30), min(expires, WINDOW_END))
            number = _number(rng, kind, issued)
            chain.append(_Document(kind, number, issued, expires, ends, "DECLARED_INVALID"))
            issued = ends + timedelta(days=rng.randint(7, 60))
        elif roll < 0.35 and expires < WINDOW_END:  # renewed shortly before expiry
            ends = expires - timedelta(days=rng.randint(10, 150))
            number = _number(rng, kind, issued)
            chain.append(_Document(kind, number, issued, expires, ends, "CANCELLED"))
            issued = ends
        else:
            number = _number(rng, kind, issued)
            chain.append(_Document(kind, number, issued, expires, None, ""))
            break
    return chain


def _status(doc: _Document, today: date) -> str:
    if doc.ends is not None and today >= doc.ends:
        return doc.end_status
    return "EXPIRED" if today > doc.expires else "VALID"


def _valid_on(doc: _Document, day: date) -> bool:
    return doc.issued <= day <= doc.expires and (doc.ends is None or day < doc.ends)


def _local(d: date, hour: int, minute: int) -> datetime:
    return datetime.combine(d, time(hour, minute), BEIJING)


def _trip(rng: random.Random, doc: _Document) -> list[dict[str, Any]]:
    last = min(doc.expires, doc.ends - timedelta(days=1) if doc.ends else doc.expires)
    out_day = _day(rng, doc.issued + timedelta(days=3), min(last, WINDOW_END))
    if doc.kind == "HK_MACAO_PERMIT":
        ports, stay = HK_MACAO_PORTS, rng.choice((0, 1, 2, 3))
    elif doc.kind == "TAIWAN_PERMIT":
        ports, stay = TAIWAN_PORTS, rng.randint(4, 10)
    else:
        ports = AIRPORTS if rng.random() < 0.85 else LAND_PASSPORT_PORTS
        stay = rng.randint(150, 500) if rng.random() < 0.05 else rng.randint(3, 20)
    code, port, transport, regions = rng.choice(ports)
    region = rng.choice(regions)
    back_code, back_port, back_transport = (
        (code, port, transport) if rng.random() < 0.7 else rng.choice(ports)[:3]
    )
    out_at = _local(out_day, rng.randint(7, 21), rng.randrange(0, 60, 5))
    back_at = _local(out_day + timedelta(days=stay), rng.randint(8, 23), rng.randrange(0, 60, 5))
    if back_at <= out_at:
        back_at = out_at + timedelta(hours=rng.randint(4, 10))
    common = {"documentType": doc.kind, "documentNumber": doc.number, "region": region}
    return [
        {
            "crossingTime": out_at,
            "portCode": code,
            "portName": port,
            "transport": transport,
            "direction": "EXIT",
            "directionName": "出境",
            **common,
        },
        {
            "crossingTime": back_at,
            "portCode": back_code,
            "portName": back_port,
            "transport": back_transport,
            "direction": "ENTRY",
            "directionName": "入境",
            **common,
        },
    ]


@dataclass(frozen=True, slots=True)
class Traveller:
    """A subject's whole simulated history (not yet filtered by date)."""

    documents: tuple[_Document, ...]
    crossings: tuple[dict[str, Any], ...]
    restricted_since: date | None
    restricting_authority: str

    @property
    def known(self) -> bool:
        return bool(self.documents) or self.restricted_since is not None


def traveller(id_number: str) -> Traveller:
    """The history of the person with this (valid) resident ID."""
    rng = subject_rng("exit_entry", id_number)
    birth = resident_id_birth_date(id_number)
    if rng.random() < 0.25 or _years_later(birth, 1) > WINDOW_END - timedelta(days=400):
        return Traveller((), (), None, "")  # never applied for a document: 查无信息
    kinds = rng.choices(
        (
            ("ORDINARY_PASSPORT",),
            ("HK_MACAO_PERMIT",),
            ("ORDINARY_PASSPORT", "HK_MACAO_PERMIT"),
            ("ORDINARY_PASSPORT", "HK_MACAO_PERMIT", "TAIWAN_PERMIT"),
        ),
        weights=(35, 25, 30, 10),
    )[0]
    documents = [doc for kind in kinds for doc in _documents(rng, kind, birth)]
    restricted_since = None
    if rng.random() < 0.15:
        restricted_since = _day(rng, date(2019, 1, 1), date(2027, 6, 30))
    authority = rng.choice(RESTRICTING_AUTHORITIES) if restricted_since else ""
    crossings: list[dict[str, Any]] = []
    for _ in range(rng.choices((0, 1, 2), weights=(35, 45, 20))[0]):
        trip = _trip(rng, rng.choice(documents))
        if restricted_since is None or trip[0]["crossingTime"].date() < restricted_since:
            crossings.extend(trip)
    return Traveller(tuple(documents), tuple(crossings), restricted_since, authority)


def _issuer(issued: date) -> str:
    """The national passport authority: 国家移民管理局 since its creation in 2018."""
    return "国家移民管理局" if issued.year >= 2019 else "公安部出入境管理局"


def answer_parts(
    person: Traveller, now: datetime, start: date | None, end: date | None
) -> dict[str, Any]:
    """What the agency shows of ``person`` at ``now``, crossings limited to [start, end]."""
    today = now.astimezone(BEIJING).date()
    docs = sorted(
        (d for d in person.documents if d.issued <= today), key=lambda d: d.issued, reverse=True
    )
    shown = []
    for c in sorted(person.crossings, key=lambda c: c["crossingTime"], reverse=True):
        local = c["crossingTime"].date()
        if c["crossingTime"] > now or (start and local < start) or (end and local > end):
            continue
        shown.append({**c, "crossingTime": c["crossingTime"].isoformat()})
    in_force = person.restricted_since is not None and person.restricted_since <= today
    return {
        "travelDocuments": [
            {
                "documentType": d.kind,
                "documentTypeName": DOCUMENT_NAMES[d.kind],
                "documentNumber": d.number,
                "issueDate": d.issued.isoformat(),
                "expiryDate": d.expires.isoformat(),
                "issuingAuthority": _issuer(d.issued),
                "status": _status(d, today),
                "statusName": STATUS_NAMES[_status(d, today)],
            }
            for d in docs
        ],
        "crossings": shown,
        "exitControl": (
            {
                "controlled": True,
                "controlType": "LIMIT_EXIT",
                "decidingAuthority": person.restricting_authority,
                "effectiveDate": str(person.restricted_since),
            }
            if in_force
            else {"controlled": False}
        ),
        "found": person.known and (bool(docs) or in_force),
    }


def utc_now() -> datetime:
    return datetime.now(UTC)


__all__ = ["BEIJING", "Traveller", "answer_parts", "traveller", "utc_now"]
