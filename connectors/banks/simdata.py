"""Deterministic bank data for the simulator: the same subject always has the same accounts.

Only the simulator uses this module. It produces accounts in the bank's wire shape
(PascalCase fields, ISO 4217 numeric currency codes, ``yyyyMMdd`` dates, amounts as strings),
the way the 总对总 bank gateway reports them:

- a person has, in roughly three cases out of four, 1-4 accounts spread over the big state
  banks, joint-stock banks and the rural commercial bank of their home province (from the
  address code of the resident ID): debit cards (valid Luhn numbers on the issuer's real BIN),
  passbook current accounts, fixed deposits and wealth-management accounts;
- an organization has, in roughly four cases out of five, a basic account (基本存款账户) and up to
  two general accounts (一般存款账户), current or fixed, at banks of its registration province;
- balances are lognormal, many debtor accounts are nearly empty; about one account in six is
  frozen by other authorities (courts, public security, tax), each freeze with its order and
  its document number; a few accounts are closed (销户).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.sdk import make_bank_card, subject_rng


@dataclass(frozen=True, slots=True)
class Bank:
    name: str
    code: str  # the bank's 金融机构编码 prefix, as the gateway reports it
    bins: tuple[str, ...]  # debit-card BINs
    card_length: int
    corporate_length: int  # length of its corporate account numbers


NATIONAL_BANKS: tuple[Bank, ...] = (
    Bank("中国工商银行", "102", ("622202", "621226", "622208"), 19, 19),
    Bank("中国建设银行", "105", ("621700", "436742", "622700"), 19, 20),
    Bank("中国农业银行", "103", ("622848", "622845"), 19, 15),
    Bank("中国银行", "104", ("621661", "601382"), 19, 12),
    Bank("交通银行", "301", ("622262", "622258"), 19, 21),
    Bank("招商银行", "308", ("622588", "621483"), 16, 15),
    Bank("中国邮政储蓄银行", "403", ("621799", "622188"), 19, 18),
    Bank("兴业银行", "309", ("622909", "622908"), 18, 18),
    Bank("中信银行", "302", ("622690", "622691"), 16, 19),
    Bank("中国民生银行", "305", ("622622", "415599"), 16, 9),
)
# Weights: the big four and the postal bank hold most personal accounts.
NATIONAL_WEIGHTS = (22, 18, 16, 12, 7, 8, 9, 3, 3, 2)


@dataclass(frozen=True, slots=True)
class Province:
    abbreviation: str  # for court document numbers, e.g. 京
    cities: tuple[tuple[str, tuple[str, ...]], ...]  # (city, districts)
    rural_bank: Bank
    court_code_base: int


PROVINCES: dict[str, Province] = {
    "11": Province(
        "京",
        (("北京", ("朝阳", "海淀", "东城", "西城", "丰台", "通州")),),
        Bank("北京农村商业银行", "1401", ("621067",), 19, 16),
        100,
    ),
    "31": Province(
        "沪",
        (("上海", ("浦东", "徐汇", "静安", "黄浦", "闵行")),),
        Bank("上海农村商业银行", "1402", ("622478",), 19, 17),
        200,
    ),
    "44": Province(
        "粤",
        (("广州", ("天河", "越秀", "海珠")), ("深圳", ("福田", "南山", "罗湖"))),
        Bank("广州农村商业银行", "1405", ("621028",), 19, 17),
        300,
    ),
    "32": Province(
        "苏",
        (("南京", ("鼓楼", "玄武", "建邺")), ("苏州", ("姑苏", "工业园区"))),
        Bank("江苏苏州农村商业银行", "1404", ("621578",), 19, 17),
        400,
    ),
    "33": Province(
        "浙",
        (("杭州", ("西湖", "上城", "拱墅")), ("宁波", ("鄞州", "海曙"))),
        Bank("杭州联合农村商业银行", "1408", ("621058",), 19, 18),
        500,
    ),
    "21": Province(
        "辽",
        (("沈阳", ("和平", "沈河", "皇姑")), ("大连", ("中山", "沙河口"))),
        Bank("沈阳农村商业银行", "1411", ("621258",), 19, 17),
        100,
    ),
    "51": Province(
        "川",
        (("成都", ("锦江", "武侯", "青羊", "高新")),),
        Bank("成都农村商业银行", "1420", ("621288",), 19, 19),
        100,
    ),
    "42": Province(
        "鄂",
        (("武汉", ("江汉", "武昌", "洪山")), ("宜昌", ("西陵",))),
        Bank("武汉农村商业银行", "1416", ("621270",), 19, 18),
        100,
    ),
    "37": Province(
        "鲁",
        (("济南", ("历下", "市中")), ("青岛", ("市南", "崂山"))),
        Bank("青岛农村商业银行", "1413", ("621262",), 19, 18),
        200,
    ),
    "41": Province(
        "豫",
        (("郑州", ("金水", "二七", "中原")), ("洛阳", ("西工",))),
        Bank("郑州农村商业银行", "1419", ("621539",), 19, 18),
        100,
    ),
}

OTHER_AUTHORITIES = (
    ("公安局", "经侦冻财字"),
    ("税务局", "税冻字"),
)

PERSON_TYPES = (("03", 55), ("01", 20), ("02", 15), ("04", 10))  # card, current, fixed, wealth
TYPE_NAMES = {"01": "活期储蓄", "02": "定期储蓄", "03": "借记卡", "04": "理财产品"}
CORPORATE_TYPE_NAMES = {"01": "单位活期", "02": "单位定期"}
CURRENCIES = (("156", 94), ("840", 4), ("344", 2))  # CNY, USD, HKD
STATUS_NAMES = {"N": "正常", "F": "冻结", "C": "销户"}
CENT = Decimal("0.01")


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _province_for(kind: str, id_number: str, rng: random.Random) -> str:
    code = id_number[:2] if kind == "person" else id_number[2:4]
    return code if code in PROVINCES else rng.choice(sorted(PROVINCES))


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


def _balance(rng: random.Random, kind: str, type_code: str) -> Decimal:
    if rng.random() < 0.2:  # debtors' accounts are often all but empty
        return _money(rng.uniform(0, 50))
    median = {"01": 6_000, "02": 50_000, "03": 8_000, "04": 120_000}[type_code]
    if kind == "organization":
        median *= 40
    value = rng.lognormvariate(0.0, 1.4) * median
    if type_code == "02" and kind == "person":
        value = max(1_000.0, round(value, -3))  # fixed deposits are round sums
    return _money(value)


def _freezes(
    rng: random.Random, balance: Decimal, province: Province, today: date
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    remaining = balance
    for order in range(1, rng.choice((1, 1, 1, 2, 2, 3)) + 1):
        city = rng.choice(province.cities)[0]
        start = today - timedelta(days=rng.randrange(5, 330))
        if rng.random() < 0.8:
            district = rng.choice(dict(province.cities)[city])
            authority = f"{city}市{district}区人民法院"
            court = province.court_code_base + rng.randrange(1, 30)
            kind = rng.choice(("执", "执", "执保"))
            serial = rng.randrange(1, 9000)
            doc = f"（{start.year}）{province.abbreviation}{court:04d}{kind}{serial}号"
        else:
            suffix, word = rng.choice(OTHER_AUTHORITIES)
            authority = f"{city}市{suffix}"
            doc = f"{province.abbreviation}{word}〔{start.year}〕{rng.randrange(1, 999):04d}号"
        asked = _money(float(balance) * rng.uniform(0.2, 1.5) + rng.uniform(1_000, 50_000))
        amount = min(asked, remaining) if order > 1 else min(asked, balance)
        remaining -= amount
        out.append(
            {
                "FreezeSeq": order,
                "FreezeOrg": authority,
                "FreezeDocNo": doc,
                "FreezeAmount": f"{amount:.2f}",
                "FreezeStartDate": f"{start:%Y%m%d}",
                "FreezeEndDate": f"{start + timedelta(days=365):%Y%m%d}",
            }
        )
    return out


def _account(
    rng: random.Random, kind: str, bank: Bank, province: Province, today: date
) -> dict[str, Any]:
    city, districts = rng.choice(province.cities)
    district = rng.choice(districts)
    rural = bank is province.rural_bank
    branch = f"{district}支行" if rural else f"{city}分行{district}支行"
    if kind == "person":
        type_code = _weighted(rng, PERSON_TYPES)
        type_name = TYPE_NAMES[type_code]
        if type_code == "03":
            number = make_bank_card(
                rng.choice(bank.bins), bank.card_length, _digits(rng, bank.card_length - 7)
            )
        else:
            number = bank.code[-3:] + _digits(rng, bank.card_length - 3)
        currency = _weighted(rng, CURRENCIES) if type_code in ("01", "03") else "156"
    else:
        type_code = "02" if rng.random() < 0.15 else "01"
        type_name = CORPORATE_TYPE_NAMES[type_code]
        number = _digits(rng, 1).replace("0", "1") + _digits(rng, bank.corporate_length - 1)
        currency = "156"
    opened = today - timedelta(days=rng.randrange(60, 3650))
    balance = _balance(rng, kind, type_code)
    roll = rng.random()
    freezes: list[dict[str, Any]] = []
    closed_on: date | None = None
    if roll < 0.06:
        status, balance = "C", Decimal("0.00")
        # Draw independently of today, so the random sequence does not shift from day to day.
        closed_on = min(opened + timedelta(days=rng.randrange(30, 3000)), today - timedelta(days=1))
    elif roll < 0.24:
        status = "F"
        freezes = _freezes(rng, balance, province, today)
    else:
        status = "N"
    frozen = sum((Decimal(f["FreezeAmount"]) for f in freezes), Decimal("0.00"))
    return {
        "BankName": bank.name,
        "BankCode": bank.code,
        "BranchName": branch,
        "AccountNo": number,
        "AccountType": type_code,
        "AccountTypeName": type_name,
        "CurrencyCode": currency,
        "Balance": f"{balance:.2f}",
        "AvailableBalance": f"{max(Decimal('0.00'), balance - frozen):.2f}",
        "AccountStatus": status,
        "AccountStatusName": STATUS_NAMES[status],
        "OpenDate": f"{opened:%Y%m%d}",
        "CloseDate": f"{closed_on:%Y%m%d}" if closed_on else "",
        "FreezeList": freezes,
    }


def accounts_for(kind: str, id_number: str, *, today: date | None = None) -> list[dict[str, Any]]:
    """All accounts the banks hold for the subject (before any date-range filter)."""
    rng = subject_rng("banks", id_number)
    today = today or date.today()
    empty_share = 0.27 if kind == "person" else 0.2
    if rng.random() < empty_share:
        return []
    province = PROVINCES[_province_for(kind, id_number, rng)]
    count = rng.choice((1, 1, 2, 2, 2, 3, 3, 4)) if kind == "person" else rng.choice((1, 2, 2, 3))
    accounts: list[dict[str, Any]] = []
    for i in range(count):
        rural = rng.random() < 0.2
        bank = province.rural_bank if rural else rng.choices(NATIONAL_BANKS, weights=NATIONAL_WEIGHTS)[0]
        account = _account(rng, kind, bank, province, today)
        if kind == "organization":
            account["AccountTypeName"] = ("基本存款账户" if i == 0 else "一般存款账户") + (
                "（定期）" if account["AccountType"] == "02" else ""
            )
        accounts.append(account)
    return accounts


def in_range(account: dict[str, Any], date_from: date | None, date_to: date | None) -> bool:
    """Was the account open at some time within the asked range?"""
    opened = account["OpenDate"]
    closed = account["CloseDate"]
    if date_to is not None and opened > f"{date_to:%Y%m%d}":
        return False
    return not (date_from is not None and closed and closed < f"{date_from:%Y%m%d}")


__all__ = ["NATIONAL_BANKS", "PROVINCES", "Bank", "Province", "accounts_for", "in_range"]
