"""The securities connector: the depository's answers mapped to ``SecuritiesHolding`` records.

The mapping is pure (``holding_from_wire``, ``records_from_wire``, ``result_from_wire``) and
unit-tested without I/O; ``SecuritiesConnector`` only wires the client to it.

Mapping rules: one record per holding (``cyxx`` entry) of each account (``zhxx`` entry); an account
that holds nothing is in the raw answer only. ``scdm`` 1/2/6 -> SH/SZ/BJ; ``zhzt`` and ``zqlb``
codes become words; ``cysl``/``djsl`` are whole numbers (the frozen part never more than the
holding); ``jg`` and ``sz`` decimal strings (yuan); ``sjrq``/``jgrq`` ``yyyyMMdd`` dates (a price
date after the data date is malformed); ``xysj`` Beijing time (the answer time becomes UTC).
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
    SecuritiesHolding,
    TransientError,
    compact_date,
    compact_datetime,
)
from connectors.sdk.control_kit import check_declared, control_result
from connectors.securities.codes import ACCOUNT_STATUS, BEIJING, CONTROL_RESULTS, MARKETS, SECURITY_TYPES
from connectors.securities.wire import DepositoryClient

ACCOUNT_NUMBER = re.compile(r"^(?:[A-F][0-9]{9}|[0-9]{10})$")
SECURITY_CODE = re.compile(r"^[0-9]{6}$")


def _malformed(what: str) -> TransientError:
    return TransientError(f"中国结算应答格式异常：{what}", code="malformed")


def _text(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    return "" if value is None else str(value).strip()


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _malformed(f"{what}无效") from None
    if not value.is_finite() or value < 0:
        raise _malformed(f"{what}无效")
    return value


def _count(text: str, what: str) -> int:
    if not text.isdigit():
        raise _malformed(f"{what}不是非负整数")
    return int(text)


def parse_depository_date(text: str, what: str) -> date:
    """``20260105`` as a date."""
    try:
        return compact_date(text.strip())
    except ValueError:
        raise _malformed(f"{what}无法解析") from None


def parse_depository_time(text: str) -> datetime:
    """``20260105140311`` (Beijing time) as an aware UTC time."""
    try:
        naive = compact_datetime(text.strip())
    except ValueError:
        raise _malformed("应答时间 xysj 无法解析") from None
    return naive.replace(tzinfo=BEIJING).astimezone(UTC)


def holding_from_wire(account: Mapping[str, Any], item: Mapping[str, Any], valued_on: date,
                      where: str = "") -> SecuritiesHolding:
    """One ``cyxx`` entry of one ``zhxx`` account. A broken entry is a malformed answer."""
    if not isinstance(item, Mapping):
        raise _malformed(f"{where}持有信息不是对象")
    number = _text(account, "zqzh").upper()
    market = MARKETS.get(_text(account, "scdm"))
    if market is None:
        raise _malformed(f"{where}市场代码 scdm 无效")
    status = ACCOUNT_STATUS.get(_text(account, "zhzt"))
    if status is None:
        raise _malformed(f"{where}账户状态 zhzt 无效")
    code = _text(item, "zqdm")
    if not SECURITY_CODE.match(code):
        raise _malformed(f"{where}证券代码 zqdm 无效")
    kind = SECURITY_TYPES.get(_text(item, "zqlb"))
    if kind is None:
        raise _malformed(f"{where}证券类别 zqlb 无效")
    quantity = _count(_text(item, "cysl"), f"{where}持有数量 cysl ")
    frozen = _count(_text(item, "djsl") or "0", f"{where}冻结数量 djsl ")
    if frozen > quantity:
        raise _malformed(f"{where}冻结数量 djsl 大于持有数量")
    price_date = parse_depository_date(_text(item, "jgrq"), f"{where}价格日期 jgrq ")
    if price_date > valued_on:
        raise _malformed(f"{where}价格日期 jgrq 晚于数据日期")
    return SecuritiesHolding(
        account_number=number,
        market=market,
        account_status=status,
        custodian=_text(account, "tgdy"),
        security_code=code,
        security_name=_text(item, "zqjc") or code,
        security_type=kind,
        quantity=quantity,
        frozen_quantity=frozen,
        price=_decimal(_text(item, "jg"), f"{where}价格 jg ").quantize(Decimal("0.001")),
        price_date=price_date,
        market_value=_decimal(_text(item, "sz"), f"{where}市值 sz ").quantize(Decimal("0.01")),
        valued_on=valued_on,
    )


def records_from_wire(body: Mapping[str, Any]) -> tuple[SecuritiesHolding, ...]:
    """The holdings of an answer's ``body``; ``zhsl`` must match the accounts sent."""
    accounts = body.get("zhxx")
    if accounts is None:
        accounts = []
    if not isinstance(accounts, list):
        raise _malformed("账户信息 zhxx 不是列表")
    declared = _text(body, "zhsl")
    if declared and (not declared.isdigit() or int(declared) != len(accounts)):
        raise _malformed(f"账户数量 zhsl 与返回的 {len(accounts)} 个账户不符")
    if not accounts:
        return ()
    valued_on = parse_depository_date(_text(body, "sjrq"), "数据日期 sjrq ")
    records: list[SecuritiesHolding] = []
    for i, account in enumerate(accounts, 1):
        if not isinstance(account, Mapping):
            raise _malformed(f"第{i}个账户不是对象")
        if not ACCOUNT_NUMBER.match(_text(account, "zqzh").upper()):
            raise _malformed(f"第{i}个账户的证券账户号码 zqzh 无效")
        holdings = account.get("cyxx") or []
        if not isinstance(holdings, list):
            raise _malformed(f"第{i}个账户的持有信息 cyxx 不是列表")
        records += [holding_from_wire(account, item, valued_on, f"第{i}个账户第{j}条")
                    for j, item in enumerate(holdings, 1)]
    return tuple(records)


def result_from_wire(envelope: Mapping[str, Any]) -> AgencyResult:
    """A checked depository envelope (``0000``, or ``0100`` 查无账户) as an ``AgencyResult``."""
    head = envelope.get("head")
    if not isinstance(head, Mapping):
        raise _malformed("缺少 head")
    body = envelope.get("body")
    if body is None:
        body = {}
    if not isinstance(body, Mapping):
        raise _malformed("body 不是对象")
    return AgencyResult(
        records=records_from_wire(body),
        raw=dict(envelope),
        answered_at=parse_depository_time(_text(head, "xysj")),
        agency_reference=_text(body, "cxbh") or None,
    )


def control_from_wire(envelope: Mapping[str, Any]) -> ControlResult:
    """The depository's answer to a control (``clzt`` 1 已办理, 2 部分, 3 不予办理; ``lhxh`` 轮候序号).
    The answer time is the body's 处理时间 ``clsj``: a re-sent request gets the first answer."""
    body = envelope.get("body")
    if not isinstance(body, Mapping):
        raise _malformed("控制应答缺少 body")
    return control_result(
        CONTROL_RESULTS.get(_text(body, "clzt")), agency_zh="中国结算",
        answered_at=parse_depository_time(_text(body, "clsj")), reference=body.get("djbh"),
        queue=body.get("lhxh"), until=body.get("djjzrq"), until_format="%Y%m%d",
        code=body.get("sbdm"), reason=body.get("sbyy"), raw=body,
    )


class SecuritiesConnector(BaseConnector):
    """中国结算证券查询: synchronous, persons and organizations."""

    manifest = Manifest.load("connectors.securities")

    def __init__(self, config: ConnectorConfig, session: aiohttp.ClientSession) -> None:
        super().__init__(config, session)
        self._client = DepositoryClient(config, session)

    async def check(self) -> None:
        await self._client.heartbeat()

    async def search(self, request: AgencyRequest) -> AgencyResult:
        if request.subject.kind not in self.manifest.subject_kinds:
            raise RejectedError("中国结算不受理该类投资者的查询", code="subject_kind")
        return result_from_wire(await self._client.query(request))

    async def control(self, request: ControlRequest) -> ControlResult:
        """冻结 (freeze), 续冻 (renew), 解冻 (release) of a holding named ``SH:A123456789:600519``."""
        check_declared(self.manifest, request, "中国结算")
        return control_from_wire(await self._client.control(request))


__all__ = [
    "SecuritiesConnector",
    "control_from_wire",
    "holding_from_wire",
    "parse_depository_date",
    "parse_depository_time",
    "records_from_wire",
    "result_from_wire",
]
