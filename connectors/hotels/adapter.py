"""The hotels connector: 旅馆业住宿登记 answers mapped to domain ``HotelStay`` records.

The mapping is pure (``records_from_wire``, ``result_from_wire``) and unit-tested without I/O;
``HotelsConnector`` only wires the client to it.

Mapping rules:

- times come as ISO 8601 with the registry's offset (``+08:00``); a time without an offset is
  Beijing time. Records carry aware UTC times, so their natural keys do not depend on the zone;
- ``star_rating`` is 0 (not star-rated) to 5;
- when the request asked for a period, only stays overlapping it (in Beijing calendar days) are
  kept, whatever the registry sent: the period is part of what the court asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import aiohttp

from connectors.hotels.wire import HotelRegistryClient
from connectors.sdk import (
    AgencyRequest,
    AgencyResult,
    BaseConnector,
    ConnectorConfig,
    HotelStay,
    Manifest,
    RejectedError,
    TransientError,
)

BEIJING = timezone(timedelta(hours=8), "CST")


def _malformed(what: str) -> TransientError:
    return TransientError(f"旅馆业系统应答格式异常：{what}", code="malformed")


def _text(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    return "" if value is None else str(value).strip()


def parse_registry_time(text: str) -> datetime:
    """An ISO 8601 time of the registry as an aware UTC time (no offset: Beijing time)."""
    parsed = datetime.fromisoformat(text.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=BEIJING)
    return parsed.astimezone(UTC)


def _star_rating(value: Any, position: int) -> int:
    if isinstance(value, bool):
        raise _malformed(f"第{position}条住宿记录的星级 star_rating 无效")
    if value is None or value == "":
        return 0
    if isinstance(value, int):
        stars = value
    elif isinstance(value, str) and value.strip().isdigit():
        stars = int(value.strip())
    else:
        raise _malformed(f"第{position}条住宿记录的星级 star_rating 无效")
    if not 0 <= stars <= 5:
        raise _malformed(f"第{position}条住宿记录的星级 star_rating 超出0至5")
    return stars


def stay_from_wire(item: Mapping[str, Any], position: int = 1) -> HotelStay:
    """One ``stays`` entry as a ``HotelStay``. A broken entry is a malformed answer (transient)."""
    if not isinstance(item, Mapping):
        raise _malformed(f"第{position}条住宿记录不是对象")
    name = _text(item, "hotel_name")
    if not name:
        raise _malformed(f"第{position}条住宿记录缺少旅馆名称 hotel_name")
    try:
        checked_in = parse_registry_time(_text(item, "check_in_time"))
    except ValueError:
        raise _malformed(f"第{position}条住宿记录的入住时间 check_in_time 无效") from None
    checked_out: datetime | None = None
    if _text(item, "check_out_time"):
        try:
            checked_out = parse_registry_time(_text(item, "check_out_time"))
        except ValueError:
            raise _malformed(f"第{position}条住宿记录的退房时间 check_out_time 无效") from None
    return HotelStay(
        hotel_name=name,
        star_rating=_star_rating(item.get("star_rating"), position),
        address=_text(item, "address"),
        checked_in_at=checked_in,
        checked_out_at=checked_out,
        room=_text(item, "room_no"),
    )


def records_from_wire(result: Mapping[str, Any]) -> tuple[HotelStay, ...]:
    """The stays of a ``result`` object; ``total`` must match what was sent."""
    items = result.get("stays")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise _malformed("stays 不是列表")
    total = result.get("total")
    if total is not None and (isinstance(total, bool) or total != len(items)):
        raise _malformed(f"记录数 total 与返回的 {len(items)} 条住宿记录不符")
    return tuple(stay_from_wire(item, i) for i, item in enumerate(items, 1))


def in_period(stay: HotelStay, date_from: date | None, date_to: date | None) -> bool:
    """Whether the stay overlaps the period (Beijing calendar days, both bounds included)."""
    arrived = stay.checked_in_at.astimezone(BEIJING).date()
    left = (stay.checked_out_at or stay.checked_in_at).astimezone(BEIJING).date()
    if date_to is not None and arrived > date_to:
        return False
    return not (date_from is not None and left < date_from)


def result_from_wire(
    body: Mapping[str, Any], date_from: date | None = None, date_to: date | None = None
) -> AgencyResult:
    """An ``ok`` answer as an ``AgencyResult``, keeping only the stays in the asked period."""
    result = body.get("result")
    if not isinstance(result, Mapping):
        raise _malformed("缺少 result")
    answered = _text(result, "answered_at")
    try:
        answered_at = parse_registry_time(answered)
    except ValueError:
        raise _malformed("应答时间 answered_at 无效") from None
    stays = records_from_wire(result)
    return AgencyResult(
        records=tuple(s for s in stays if in_period(s, date_from, date_to)),
        raw=dict(body),
        answered_at=answered_at,
        agency_reference=_text(result, "query_id") or None,
    )


class HotelsConnector(BaseConnector):
    """旅馆业住宿登记信息查询: synchronous, natural persons only, optional period."""

    manifest = Manifest.load("connectors.hotels")

    def __init__(self, config: ConnectorConfig, session: aiohttp.ClientSession) -> None:
        super().__init__(config, session)
        self._client = HotelRegistryClient(config, session)

    async def check(self) -> None:
        await self._client.health()

    async def search(self, request: AgencyRequest) -> AgencyResult:
        if request.subject.kind not in self.manifest.subject_kinds:
            raise RejectedError("旅馆业住宿登记仅可按自然人身份证号查询", code="subject_kind")
        body = await self._client.search_stays(request)
        return result_from_wire(body, request.date_from, request.date_to)


__all__ = [
    "BEIJING",
    "HotelsConnector",
    "in_period",
    "parse_registry_time",
    "records_from_wire",
    "result_from_wire",
    "stay_from_wire",
]
