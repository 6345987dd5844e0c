"""The exit-entry connector: the wire answer mapped to travel documents, crossings and 边控.

``records_from_wire`` is pure (no I/O) and unit-tested on its own. The agency answers only
about natural persons; an organization subject is refused here, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import aiohttp

from connectors.exit_entry.wire import ExitEntryWire
from connectors.sdk import (
    AgencyRequest,
    AgencyResult,
    AuthError,
    BaseConnector,
    BorderCrossing,
    ConnectorConfig,
    ExitRestriction,
    Manifest,
    RejectedError,
    TransientError,
    TravelDocument,
)

DOCUMENT_TYPES: dict[str, str] = {
    "ORDINARY_PASSPORT": "passport",
    "HK_MACAO_PERMIT": "hk_macao_permit",
    "TAIWAN_PERMIT": "taiwan_permit",
}
DOCUMENT_STATUSES: dict[str, str] = {
    "VALID": "有效",
    "EXPIRED": "已过期",
    "CANCELLED": "已注销",
    "DECLARED_INVALID": "已宣布作废",
}
DIRECTIONS: dict[str, str] = {"EXIT": "exit", "ENTRY": "entry"}

TravelRecord = TravelDocument | BorderCrossing | ExitRestriction


class _Malformed(Exception):
    """A field of the answer is missing or unreadable."""


def _field(item: Mapping[str, Any], name: str) -> Any:
    if name not in item or item[name] is None:
        raise _Malformed(name)
    return item[name]


def _date(item: Mapping[str, Any], name: str) -> date:
    try:
        return date.fromisoformat(str(_field(item, name)))
    except ValueError:
        raise _Malformed(name) from None


def _instant(value: Any, name: str) -> datetime:
    """An ISO 8601 timestamp with its offset, as UTC (a naive one is malformed)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise _Malformed(name) from None
    if moment.tzinfo is None:
        raise _Malformed(name)
    return moment.astimezone(UTC)


def _document(item: Mapping[str, Any]) -> TravelDocument:
    wire_type = str(_field(item, "documentType"))
    if wire_type not in DOCUMENT_TYPES:
        raise _Malformed("documentType")
    status_code = str(_field(item, "status"))
    return TravelDocument(
        document_type=DOCUMENT_TYPES[wire_type],
        document_number=str(_field(item, "documentNumber")),
        issued_on=_date(item, "issueDate"),
        expires_on=_date(item, "expiryDate"),
        # A status this client does not know yet keeps the agency's own wording.
        status=DOCUMENT_STATUSES.get(status_code) or str(item.get("statusName") or status_code),
    )


def _crossing(item: Mapping[str, Any]) -> BorderCrossing:
    direction = DIRECTIONS.get(str(_field(item, "direction")))
    if direction is None:
        raise _Malformed("direction")
    return BorderCrossing(
        crossed_at=_instant(_field(item, "crossingTime"), "crossingTime"),
        port=str(_field(item, "portName")),
        direction=direction,
        # 前往地 for an exit, 出发地 for an entry: the region on the other side of the border.
        destination=str(item.get("region") or ""),
        document_number=str(item.get("documentNumber") or ""),
    )


def _restriction(item: Mapping[str, Any]) -> ExitRestriction:
    controlled = _field(item, "controlled")
    if not isinstance(controlled, bool):
        raise _Malformed("controlled")
    if not controlled:
        return ExitRestriction(in_force=False)
    since = item.get("effectiveDate")
    return ExitRestriction(
        in_force=True,
        authority=str(item.get("decidingAuthority") or ""),
        since=_date(item, "effectiveDate") if since else None,
    )


def _items(data: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise _Malformed(name)
    return value


def records_from_wire(data: Mapping[str, Any]) -> tuple[TravelRecord, ...]:
    """Documents, then crossings, then the exit-control status, in the agency's order.

    ``NO_RECORD`` (查无信息) gives ``()``. ``exitControl`` becomes one ``ExitRestriction``
    whether or not a restriction is in force: "not restricted" is an answer too. A missing or
    unreadable field raises ``TransientError`` (code ``malformed``).
    """
    try:
        if str(_field(data, "resultCode")) == "NO_RECORD":
            return ()
        records: list[TravelRecord] = [_document(d) for d in _items(data, "travelDocuments")]
        records.extend(_crossing(c) for c in _items(data, "crossings"))
        control = data.get("exitControl")
        if control is not None:
            if not isinstance(control, Mapping):
                raise _Malformed("exitControl")
            records.append(_restriction(control))
    except _Malformed as exc:
        message = f"出入境管理局答复字段缺失或无法解析：{exc}"
        raise TransientError(message, code="malformed") from exc
    return tuple(records)


def answered_at_from_wire(data: Mapping[str, Any]) -> datetime:
    """The agency's answer time (``answeredAt``, with its offset) as UTC."""
    try:
        return _instant(data.get("answeredAt"), "answeredAt")
    except _Malformed as exc:
        raise TransientError("出入境管理局答复时间无法解析", code="malformed") from exc


class ExitEntryConnector(BaseConnector):
    """Synchronous connector to the exit-entry administration (persons only)."""

    manifest = Manifest.load("connectors.exit_entry")

    def __init__(self, config: ConnectorConfig, session: aiohttp.ClientSession) -> None:
        super().__init__(config, session)
        self.wire = ExitEntryWire(
            session,
            base_url=config.base_url,
            secret=config.secret,
            timeout=config.timeout_seconds,
        )

    def _require_secret(self) -> None:
        if not self.config.secret:
            raise AuthError("出入境管理局：未配置访问令牌", code="no_credential")

    async def check(self) -> None:
        self._require_secret()
        await self.wire.health()

    async def search(self, request: AgencyRequest) -> AgencyResult:
        if request.subject.kind != "person":
            raise RejectedError(
                "出入境管理局只受理自然人查询（居民身份证号码）", code="subject_kind_unsupported"
            )
        self._require_secret()
        data = await self.wire.inquire(request)
        return AgencyResult(
            records=records_from_wire(data),
            raw=data,
            answered_at=answered_at_from_wire(data),
            agency_reference=str(data["queryId"]),
        )


__all__ = [
    "DIRECTIONS",
    "DOCUMENT_STATUSES",
    "DOCUMENT_TYPES",
    "ExitEntryConnector",
    "answered_at_from_wire",
    "records_from_wire",
]
