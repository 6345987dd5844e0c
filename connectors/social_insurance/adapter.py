"""The social insurance connector: insured employments and the pension being drawn.

``records_from_wire`` is pure (no I/O) and unit-tested on its own. The gateway answers only
about natural persons; an organization subject is refused here, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import aiohttp

from connectors.sdk import (
    AgencyRequest,
    AgencyResult,
    AuthError,
    BaseConnector,
    ConnectorConfig,
    Employment,
    Manifest,
    Pension,
    RejectedError,
    TransientError,
    compact_date,
)
from connectors.social_insurance.wire import (
    DEFAULT_APP_KEY,
    RET_NO_DATA,
    SocialInsuranceWire,
    parse_time,
)

# aae140 险种类型
INSURANCE_TYPES: dict[str, str] = {
    "110": "养老",  # 企业职工基本养老保险
    "120": "养老",  # 机关事业单位养老保险
    "210": "失业",
    "310": "医疗",  # 职工基本医疗保险
    "410": "工伤",
    "510": "生育",
}
# aac008 人员参保状态
INSURED_STATUSES: dict[str, str] = {"1": "正常参保", "2": "暂停缴费", "3": "终止"}

InsuranceRecord = Employment | Pension


class _Malformed(Exception):
    """A field of the answer is missing or unreadable."""


def _field(item: Mapping[str, Any], name: str) -> Any:
    value = item.get(name)
    if value is None or value == "":
        raise _Malformed(name)
    return value


def _amount(item: Mapping[str, Any], name: str) -> Decimal:
    try:
        value = Decimal(str(_field(item, name)))
    except InvalidOperation:
        raise _Malformed(name) from None
    if not value.is_finite() or value < 0:
        raise _Malformed(name)
    return value.quantize(Decimal("0.01"))


def _month(item: Mapping[str, Any], name: str) -> str:
    """``YYYYMM`` (费款所属期) as ``YYYY-MM``."""
    text = str(_field(item, name))
    if len(text) != 6 or not text.isdigit() or not 1 <= int(text[4:]) <= 12:
        raise _Malformed(name)
    return f"{text[:4]}-{text[4:]}"


def _day(item: Mapping[str, Any], name: str) -> date | None:
    text = item.get(name)
    if not text:
        return None
    try:
        return compact_date(str(text))
    except ValueError:
        raise _Malformed(name) from None


def _insurance_types(item: Mapping[str, Any]) -> tuple[str, ...]:
    codes = [c.strip() for c in str(_field(item, "aae140")).split(",") if c.strip()]
    names: list[str] = []
    for code in codes:
        # A code this client does not know yet is kept, recognisably, rather than dropped.
        name = INSURANCE_TYPES.get(code, f"险种{code}")
        if name not in names:
            names.append(name)
    if not names:
        raise _Malformed("aae140")
    return tuple(names)


def _employment(item: Mapping[str, Any]) -> Employment:
    status = str(_field(item, "aac008"))
    return Employment(
        employer_name=str(_field(item, "aab004")),
        employer_credit_code=str(item.get("aab998") or ""),
        insurance_types=_insurance_types(item),
        contribution_base=_amount(item, "aae180"),
        status=INSURED_STATUSES.get(status, f"参保状态{status}"),
        last_paid_month=_month(item, "aae002"),
    )


def _pension(item: Mapping[str, Any]) -> Pension:
    return Pension(
        monthly_amount=_amount(item, "aic166"),
        paying_agency=str(_field(item, "aab300")),
        since=_day(item, "aic162"),
    )


def records_from_wire(envelope: Mapping[str, Any]) -> tuple[InsuranceRecord, ...]:
    """Employments (``body.cbxxList``), then the pension (``body.dyxx``) if one is drawn.

    ``retCode`` 300001 (查无信息) gives ``()``. A missing or unreadable field raises
    ``TransientError`` (code ``malformed``).
    """
    try:
        head = _field(envelope, "head")
        if not isinstance(head, Mapping):
            raise _Malformed("head")
        if str(head.get("retCode")) == RET_NO_DATA:
            return ()
        body = envelope.get("body") or {}
        if not isinstance(body, Mapping):
            raise _Malformed("body")
        items = body.get("cbxxList") or []
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise _Malformed("cbxxList")
        records: list[InsuranceRecord] = [_employment(i) for i in items]
        pension = body.get("dyxx")
        if pension:
            if not isinstance(pension, Mapping):
                raise _Malformed("dyxx")
            records.append(_pension(pension))
    except _Malformed as exc:
        raise TransientError(f"人社厅答复字段缺失或无法解析：{exc}", code="malformed") from exc
    return tuple(records)


def answered_at_from_wire(envelope: Mapping[str, Any]) -> datetime:
    """``head.respTime`` (Beijing time) as UTC."""
    head = envelope.get("head")
    try:
        return parse_time(head.get("respTime") if isinstance(head, Mapping) else None).astimezone(
            UTC
        )
    except ValueError as exc:
        raise TransientError("人社厅答复时间无法解析", code="malformed") from exc


class SocialInsuranceConnector(BaseConnector):
    """Synchronous connector to the social insurance gateway (persons only).

    ``config.secret`` is the ``appSecret``; ``config.extra["app_key"]`` the ``appKey``
    (default ``zdz-court``).
    """

    manifest = Manifest.load("connectors.social_insurance")

    def __init__(self, config: ConnectorConfig, session: aiohttp.ClientSession) -> None:
        super().__init__(config, session)
        self.wire = SocialInsuranceWire(
            session,
            base_url=config.base_url,
            app_key=config.extra.get("app_key", DEFAULT_APP_KEY),
            app_secret=config.secret,
            timeout=config.timeout_seconds,
        )

    def _require_secret(self) -> None:
        if not self.config.secret:
            raise AuthError("人社厅：未配置appSecret", code="no_credential")

    async def check(self) -> None:
        self._require_secret()
        await self.wire.ping()

    async def search(self, request: AgencyRequest) -> AgencyResult:
        if request.subject.kind != "person":
            raise RejectedError(
                "人社厅只受理自然人查询（公民身份号码）", code="subject_kind_unsupported"
            )
        self._require_secret()
        envelope = await self.wire.query(request)
        return AgencyResult(
            records=records_from_wire(envelope),
            raw=envelope,
            answered_at=answered_at_from_wire(envelope),
            agency_reference=str(envelope["head"]["respSerialNo"]),
        )


__all__ = [
    "INSURANCE_TYPES",
    "INSURED_STATUSES",
    "SocialInsuranceConnector",
    "answered_at_from_wire",
    "records_from_wire",
]
