"""The simulated depository's accounts and holdings: realistic, and the same for the same investor
every time (only prices move, by the data date).

About half of persons and two thirds of organizations have no securities account. The others
have a Shanghai account (persons ``A`` + 9 digits, institutions ``B`` + 9), a Shenzhen one
(persons ``00`` + 8 digits, institutions ``08`` + 8) or both, opened at a securities firm's branch in
the city of their ID's region; an account holds nothing (about one in seven, often dormant) or one
to five of the market's securities: shares in lots of 100, exchange-traded fund units, treasury
bonds (张, face value 100 yuan). Some holdings are partly or wholly frozen by another authority (a
frozen account wholly). Prices are the closing price of the data date (the last weekday before
the query), derived from the security and the date; a suspended security (about one in twenty)
keeps the price of its last trading day, which is its price date.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from random import Random
from typing import Any

from connectors.sdk import subject_rng
from connectors.securities.codes import BEIJING


@dataclass(frozen=True, slots=True)
class Security:
    code: str
    name: str
    type_code: str  # zqlb: A0 stock, E0 fund, B0 bond
    base_price: Decimal


SHANGHAI: tuple[Security, ...] = (
    Security("600519", "贵州茅台", "A0", Decimal("1500.00")),
    Security("601318", "中国平安", "A0", Decimal("50.00")),
    Security("600036", "招商银行", "A0", Decimal("35.00")),
    Security("601398", "工商银行", "A0", Decimal("6.50")),
    Security("600900", "长江电力", "A0", Decimal("28.00")),
    Security("600028", "中国石化", "A0", Decimal("6.00")),
    Security("601888", "中国中免", "A0", Decimal("70.00")),
    Security("688981", "中芯国际", "A0", Decimal("85.00")),
    Security("510300", "沪深300ETF", "E0", Decimal("3.950")),
    Security("510050", "上证50ETF", "E0", Decimal("2.750")),
    Security("019740", "24国债09", "B0", Decimal("101.20")),
)
SHENZHEN: tuple[Security, ...] = (
    Security("000001", "平安银行", "A0", Decimal("11.50")),
    Security("000002", "万科A", "A0", Decimal("7.20")),
    Security("000333", "美的集团", "A0", Decimal("72.00")),
    Security("000858", "五粮液", "A0", Decimal("130.00")),
    Security("002594", "比亚迪", "A0", Decimal("280.00")),
    Security("300750", "宁德时代", "A0", Decimal("210.00")),
    Security("002415", "海康威视", "A0", Decimal("30.00")),
    Security("159919", "沪深300ETF", "E0", Decimal("4.050")),
    Security("159915", "创业板ETF", "E0", Decimal("2.150")),
)
FIRMS = ("中信证券", "国泰君安证券", "华泰证券", "招商证券", "广发证券", "海通证券", "银河证券", "东方财富证券")
CITIES = {"21": ("沈阳", ("青年大街", "中华路", "北京街")), "11": ("北京", ("金融大街", "建国门外大街", "中关村大街")),
          "31": ("上海", ("淮海中路", "世纪大道", "陆家嘴环路")), "44": ("深圳", ("深南大道", "福华一路", "科苑路")),
          "51": ("成都", ("人民南路", "天府大道", "蜀都大道")), "33": ("杭州", ("延安路", "庆春路", "文三路"))}


def last_settlement_day(today: date) -> date:
    """The data date of an answer given on ``today``: the last weekday before it."""
    day = today - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def data_date() -> date:
    return last_settlement_day(datetime.now(BEIJING).date())


def _weekdays_before(day: date, n: int) -> date:
    while n > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def closing_price(security: Security, on: date) -> Decimal:
    """The security's closing price on a day: within 15% of its base, the same for everyone."""
    digest = hashlib.sha256(f"{security.code}:{on.isoformat()}".encode()).digest()
    factor = Decimal(int.from_bytes(digest[:4], "big") % 3001 - 1500) / Decimal(10000)
    places = Decimal("0.001") if security.type_code == "E0" else Decimal("0.01")
    return (security.base_price * (1 + factor)).quantize(places)


def _region(kind: str, id_number: str) -> str:
    return id_number[:2] if kind == "person" else id_number[2:4]


def _custodian(rng: Random, kind: str, id_number: str) -> str:
    city, streets = CITIES.get(_region(kind, id_number), CITIES["21"])
    return f"{rng.choice(FIRMS)}股份有限公司{city}{rng.choice(streets)}证券营业部"


def _quantity(rng: Random, security: Security, kind: str) -> int:
    scale = 10 if kind == "organization" else 1
    if security.type_code == "A0":
        return rng.randint(1, 200) * 100 * scale
    if security.type_code == "E0":
        return rng.randint(10, 1000) * 100 * scale
    return rng.randint(1, 100) * 10 * scale  # bonds, in 张


def _account(rng: Random, kind: str, id_number: str, market: str, on: date) -> dict[str, Any]:
    if market == "1":
        number = ("A" if kind == "person" else "B") + f"{rng.randrange(10**9):09d}"
        catalogue = SHANGHAI
    else:
        number = ("00" if kind == "person" else "08") + f"{rng.randrange(10**8):08d}"
        catalogue = SHENZHEN
    opened = date(2005, 1, 1) + timedelta(days=rng.randrange(6570))
    empty = rng.random() < 0.15
    status = "4" if empty and rng.random() < 0.6 else "1" if rng.random() < 0.06 else "0"
    holdings: list[dict[str, Any]] = []
    for security in ([] if empty else rng.sample(catalogue, rng.randint(1, 5))):
        quantity = _quantity(rng, security, kind)
        if status == "1":
            frozen = quantity
        elif rng.random() < 0.12:
            frozen = quantity if rng.random() < 0.5 else (quantity // 200) * 100 or quantity
        else:
            frozen = 0
        suspended = rng.random() < 0.05
        price_date = _weekdays_before(on, rng.randint(3, 40)) if suspended else on
        price = closing_price(security, price_date)
        holdings.append({
            "zqdm": security.code, "zqjc": security.name, "zqlb": security.type_code,
            "cysl": str(quantity), "djsl": str(frozen), "jg": str(price),
            "jgrq": price_date.strftime("%Y%m%d"), "sz": str((price * quantity).quantize(Decimal("0.01"))),
        })
    return {"zqzh": number, "scdm": market, "zhzt": status, "khrq": opened.strftime("%Y%m%d"),
            "tgdy": _custodian(rng, kind, id_number), "cyxx": holdings}


def accounts_for(kind: str, id_number: str, on: date) -> list[dict[str, Any]]:
    """The investor's accounts (``zhxx`` entries, with their holdings) as at the data date ``on``."""
    rng = subject_rng("securities", id_number)
    if rng.random() < (0.5 if kind == "person" else 0.65):
        return []
    draw = rng.random()
    markets = ["1"] if draw < 0.35 else ["2"] if draw < 0.6 else ["1", "2"]
    return [_account(rng, kind, id_number, m, on) for m in markets]


__all__ = ["SHANGHAI", "SHENZHEN", "Security", "accounts_for", "closing_price", "data_date", "last_settlement_day"]
