"""The vehicles connector: 公安交管 registry answers (01C21) mapped to domain ``Vehicle`` records.

The mapping is pure (``records_from_wire``, ``result_from_wire``) and unit-tested without I/O;
``VehiclesConnector`` only wires the client to it.

Mapping rules:

- ``hphm`` plate, normalized (no middle dot, upper case) when it follows GA 36, else as sent;
- ``hpzl`` plate type kept as its GA 24.7 code (``"02"``: labels in ``codes.PLATE_TYPES``);
- ``csys`` colour and ``syxz`` use turned into their Chinese words;
- ``zt`` status letters kept as the code string (``"A"``, ``"KQ"``);
- ``fksj`` (answer time) and dates are Beijing time: the answer time becomes UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import aiohttp

from connectors.sdk import (
    AgencyRequest,
    AgencyResult,
    BaseConnector,
    ConnectorConfig,
    ControlRequest,
    ControlResult,
    ControlStatus,
    InvalidIdentifier,
    Manifest,
    RejectedError,
    TransientError,
    Vehicle,
    compact_date,
    compact_datetime,
    dashed_date,
    dashed_datetime,
    normalize_plate,
    require,
)
from connectors.vehicles.codes import BEIJING, CONTROL_JKIDS, colour_name, use_name
from connectors.vehicles.wire import VehicleRegistryClient

_STATUS = re.compile(r"^[A-Z]{1,8}$")
_TRUE = frozenset({"1", "Y", "是", "TRUE"})


def _malformed(what: str) -> TransientError:
    return TransientError(f"交管系统应答格式异常：{what}", code="malformed")


def _text(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    return "" if value is None else str(value).strip()


def _t_datetime(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S")


def parse_registry_time(text: str) -> datetime:
    """``2026-11-24 21:15:22`` (Beijing time, as the registry writes it) as an aware UTC time."""
    s = text.strip()
    for parse in (dashed_datetime, compact_datetime, _t_datetime):
        try:
            naive = parse(s)
        except ValueError:
            continue
        return naive.replace(tzinfo=BEIJING).astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(s)
    except ValueError:
        raise _malformed("反馈时间 fksj 无法解析") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=BEIJING)
    return parsed.astimezone(UTC)


def parse_registry_date(text: str) -> date:
    """A registry date: ``2019-05-12``, ``2019-05-12 00:00:00`` or ``20190512``."""
    s = text.strip()
    head = s[:10] if "-" in s else s[:8]
    for parse in (dashed_date, compact_date):
        try:
            return parse(head)
        except ValueError:
            continue
    raise ValueError("not a registry date")


def _plate(raw: str) -> str:
    try:
        return normalize_plate(raw)
    except InvalidIdentifier:
        return raw  # embassy, police or old-format plates: keep what the registry holds


def vehicle_from_wire(item: Mapping[str, Any], position: int = 1) -> Vehicle:
    """One ``clxx`` entry as a ``Vehicle``. A broken entry is a malformed answer (transient)."""
    if not isinstance(item, Mapping):
        raise _malformed(f"第{position}条车辆信息不是对象")
    plate, vin = _text(item, "hphm"), _text(item, "clsbdh").upper()
    if not plate and not vin:
        raise _malformed(f"第{position}条车辆信息既无号牌号码也无车辆识别代号")
    status = _text(item, "zt").upper()
    if not _STATUS.match(status):
        raise _malformed(f"第{position}条车辆信息的状态 zt 无效")
    try:
        registered = parse_registry_date(_text(item, "ccdjrq"))
    except ValueError:
        raise _malformed(f"第{position}条车辆信息的初次登记日期 ccdjrq 无效") from None
    seizures_text = _text(item, "cfsl") or "0"
    if not seizures_text.isdigit():
        raise _malformed(f"第{position}条车辆信息的查封数量 cfsl 无效")
    plate_type = _text(item, "hpzl")
    return Vehicle(
        plate_number=_plate(plate) if plate else "",
        plate_type=plate_type.zfill(2) if plate_type.isdigit() else plate_type,
        vin=vin,
        engine_number=_text(item, "fdjh").upper(),
        make_model=" ".join(p for p in (_text(item, "clpp1"), _text(item, "clxh")) if p),
        colour=colour_name(_text(item, "csys")),
        use=use_name(_text(item, "syxz")),
        first_registered_on=registered,
        status_codes=status,
        mortgaged=_text(item, "dybj").upper() in _TRUE,
        seizure_count=int(seizures_text),
    )


def records_from_wire(data: Mapping[str, Any]) -> tuple[Vehicle, ...]:
    """The vehicles of a 01C21 ``data`` object; ``jls`` must match what was sent."""
    items = data.get("clxx")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise _malformed("clxx 不是列表")
    declared = _text(data, "jls")
    if declared and (not declared.isdigit() or int(declared) != len(items)):
        raise _malformed(f"记录数 jls 与返回的 {len(items)} 条车辆信息不符")
    return tuple(vehicle_from_wire(item, i) for i, item in enumerate(items, 1))


def result_from_wire(body: Mapping[str, Any]) -> AgencyResult:
    """A checked registry envelope (``0000`` or ``0001`` 查无信息) as an ``AgencyResult``."""
    data = body.get("data")
    if not isinstance(data, Mapping):
        raise _malformed("缺少 data")
    answered = _text(data, "fksj")
    if not answered:
        raise _malformed("缺少反馈时间 fksj")
    return AgencyResult(
        records=records_from_wire(data),
        raw=dict(body),
        answered_at=parse_registry_time(answered),
        agency_reference=_text(data, "cxbh") or None,
    )


CONTROL_STATES: dict[str, ControlStatus] = {"1": "accepted", "2": "partial", "3": "refused"}


def control_from_wire(body: Mapping[str, Any]) -> ControlResult:
    """The registry's answer to a control operation (data.kzzt 1 done, 2 partly, 3 refused)."""
    data = body["data"]
    status = CONTROL_STATES.get(str(data.get("kzzt")))
    if status is None:
        raise TransientError("交管系统控制应答状态无法识别", code="malformed")
    queue = data.get("lhxh")
    try:
        position = int(queue) if queue not in (None, "") else None
        until = date.fromisoformat(str(data["jzrq"])) if data.get("jzrq") else None
    except ValueError as exc:
        raise TransientError("交管系统控制应答格式错误", code="malformed") from exc
    return ControlResult(
        status=status,
        reference=str(data.get("kzbh") or "") or None,
        answered_at=parse_registry_time(str(require(data, "fksj"))),
        queue_position=position,
        until=until,
        reason=(str(data.get("sbyy") or "") or None) if status == "refused" else None,
        code=(str(data.get("sbdm") or "") or None) if status == "refused" else None,
        raw=dict(data),
    )


class VehiclesConnector(BaseConnector):
    """公安交管 机动车登记信息查询: synchronous, persons and organizations."""

    manifest = Manifest.load("connectors.vehicles")

    def __init__(self, config: ConnectorConfig, session: aiohttp.ClientSession) -> None:
        super().__init__(config, session)
        self._client = VehicleRegistryClient(config, session)

    async def check(self) -> None:
        await self._client.heartbeat()

    async def search(self, request: AgencyRequest) -> AgencyResult:
        if request.subject.kind not in self.manifest.subject_kinds:
            raise RejectedError("交管系统不受理该类主体的查询", code="subject_kind")
        body = await self._client.query_vehicles(request)
        return result_from_wire(body)

    async def control(self, request: ControlRequest) -> ControlResult:
        if request.op not in CONTROL_JKIDS:
            raise RejectedError(f"交管系统不受理该类控制措施：{request.op}", code="control_not_supported")
        return control_from_wire(await self._client.control(request))


__all__ = [
    "VehiclesConnector",
    "control_from_wire",
    "parse_registry_date",
    "parse_registry_time",
    "records_from_wire",
    "result_from_wire",
    "vehicle_from_wire",
]
