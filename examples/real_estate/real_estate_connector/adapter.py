"""The real estate connector: registry answers mapped to ``RealEstate`` records.

The mapping is pure (``property_from_wire``, ``records_from_wire``, ``result_from_wire``) and
unit-tested without I/O; ``RealEstateConnector`` only wires the client to it.

Mapping rules: ``BDCLX`` 1 宗地 -> parcel, 2 房屋 -> building; ``QLLX`` and ``GYFS`` codes become
their Chinese words; ``MJ`` and ``DYJE`` are decimal strings (m², yuan); ``DYZT``/``CFZT`` are
``"0"``/``"1"``; ``FKSJ`` and ``DJSJ`` are Beijing time (the answer time becomes UTC).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import aiohttp
from connectors.sdk import (
    AgencyRequest,
    AgencyResult,
    BaseConnector,
    ConnectorConfig,
    ControlRequest,
    ControlResult,
    Manifest,
    RejectedError,
    TransientError,
)
from connectors.sdk.control_kit import check_declared, control_result

from real_estate_connector.codes import BEIJING, CONTROL_RESULTS, OWNERSHIP, PROPERTY_TYPES, RIGHT_TYPES
from real_estate_connector.records import RealEstate
from real_estate_connector.wire import RegistryClient

UNIT_NUMBER = re.compile(r"^[0-9]{12}[A-Z]{2}[0-9]{5}[FLQW][0-9]{8}$")


def _malformed(what: str) -> TransientError:
    return TransientError(f"不动产登记平台应答格式异常：{what}", code="malformed")


def _text(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    return "" if value is None else str(value).strip()


def _amount(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _malformed(f"{what}无效") from None
    if not value.is_finite() or value < 0:
        raise _malformed(f"{what}无效")
    return value.quantize(Decimal("0.01"))


def _flag(item: Mapping[str, Any], key: str, position: int) -> bool:
    value = _text(item, key) or "0"
    if value not in ("0", "1"):
        raise _malformed(f"第{position}条的 {key} 不是 0/1")
    return value == "1"


def parse_registry_time(text: str) -> datetime:
    """``2026-01-05 14:03:11`` (Beijing time) as an aware UTC time."""
    try:
        naive = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise _malformed("反馈时间 FKSJ 无法解析") from None
    return naive.replace(tzinfo=BEIJING).astimezone(UTC)


def property_from_wire(item: Mapping[str, Any], position: int = 1) -> RealEstate:
    """One ``BDCXX`` entry. A broken entry is a malformed answer (transient: ask again)."""
    if not isinstance(item, Mapping):
        raise _malformed(f"第{position}条不动产信息不是对象")
    unit = _text(item, "BDCDYH").upper()
    if not UNIT_NUMBER.match(unit):
        raise _malformed(f"第{position}条的不动产单元号 BDCDYH 无效")
    kind = PROPERTY_TYPES.get(_text(item, "BDCLX"))
    if kind is None:
        raise _malformed(f"第{position}条的不动产类型 BDCLX 无效")
    try:
        registered = date.fromisoformat(_text(item, "DJSJ")[:10])
    except ValueError:
        raise _malformed(f"第{position}条的登簿日期 DJSJ 无效") from None
    mortgaged = _flag(item, "DYZT", position)
    mortgage = _text(item, "DYJE")
    seizures = _text(item, "CFSL") or "0"
    if not seizures.isdigit():
        raise _malformed(f"第{position}条的查封数量 CFSL 无效")
    ownership = OWNERSHIP.get(_text(item, "GYFS"), "")
    if not ownership:
        raise _malformed(f"第{position}条的共有方式 GYFS 无效")
    share = _text(item, "QLBL")
    return RealEstate(
        unit_number=unit,
        certificate_number=_text(item, "BDCQZH"),
        property_type=kind,  # type: ignore[arg-type]
        address=_text(item, "ZL"),
        area_sqm=_amount(_text(item, "MJ"), f"第{position}条的面积 MJ "),
        use=_text(item, "YT") or "其他",
        right_type=RIGHT_TYPES.get(_text(item, "QLLX"), _text(item, "QLLX") or "未注明"),
        ownership=ownership,
        share=(share if share.endswith("%") else f"{share}%") if ownership == "按份共有" and share else None,
        registered_on=registered,
        mortgaged=mortgaged,
        mortgage_amount=_amount(mortgage, f"第{position}条的抵押金额 DYJE ") if mortgaged and mortgage else None,
        seized=_flag(item, "CFZT", position) or int(seizures) > 0,
        seizure_count=int(seizures),
    )


def records_from_wire(data: Mapping[str, Any]) -> tuple[RealEstate, ...]:
    """The properties of a query answer's ``data``; ``JLS`` must match what was sent."""
    items = data.get("BDCXX")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise _malformed("BDCXX 不是列表")
    declared = _text(data, "JLS")
    if declared and (not declared.isdigit() or int(declared) != len(items)):
        raise _malformed(f"记录数 JLS 与返回的 {len(items)} 条不符")
    return tuple(property_from_wire(item, i) for i, item in enumerate(items, 1))


def result_from_wire(body: Mapping[str, Any]) -> AgencyResult:
    """A checked registry envelope (code 0, or 1 查无信息) as an ``AgencyResult``."""
    data = body.get("data")
    if not isinstance(data, Mapping):
        raise _malformed("缺少 data")
    return AgencyResult(
        records=records_from_wire(data),
        raw=dict(body),
        answered_at=parse_registry_time(_text(data, "FKSJ")),
        agency_reference=_text(data, "CXBH") or None,
    )


def control_from_wire(data: Mapping[str, Any]) -> ControlResult:
    """The registry's answer to a control (``KZJG`` 1 已办理, 3 不予办理; ``LHSX`` the 轮候 order)."""
    return control_result(
        CONTROL_RESULTS.get(_text(data, "KZJG")),
        agency_zh="不动产登记平台", answered_at=parse_registry_time(_text(data, "FKSJ")),
        reference=data.get("CFBH"), queue=data.get("LHSX"), until=data.get("CFJSRQ"),
        code=data.get("BLDM"), reason=data.get("BLYY"), raw=data,
    )


class RealEstateConnector(BaseConnector):
    """不动产登记信息查询: synchronous, persons and organizations."""

    manifest = Manifest.load("real_estate_connector")

    def __init__(self, config: ConnectorConfig, session: aiohttp.ClientSession) -> None:
        super().__init__(config, session)
        self._client = RegistryClient(config, session)

    async def check(self) -> None:
        await self._client.ping()

    async def search(self, request: AgencyRequest) -> AgencyResult:
        if request.subject.kind not in self.manifest.subject_kinds:
            raise RejectedError("不动产登记平台不受理该类权利人的查询", code="subject_kind")
        return result_from_wire(await self._client.query(request))

    async def control(self, request: ControlRequest) -> ControlResult:
        """查封 (seal), 续封 (renew), 解除查封 (release) of a unit named by its 不动产单元号."""
        check_declared(self.manifest, request, "不动产登记平台")
        return control_from_wire(await self._client.control(request))


__all__ = [
    "RealEstateConnector",
    "control_from_wire",
    "parse_registry_time",
    "property_from_wire",
    "records_from_wire",
    "result_from_wire",
]
