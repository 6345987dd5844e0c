"""The simulated registry's holdings: realistic, and the same for the same 权利人 every time.

About 30% of persons and 25% of organizations hold nothing; the others hold one to three
(persons) or four (organizations) properties in the city of their ID's region: flats mostly,
mortgaged often, seized sometimes; companies also offices, shops and industrial land.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from random import Random
from typing import Any

from connectors.sdk import subject_rng


@dataclass(frozen=True, slots=True)
class City:
    abbr: str  # 省级简称 on certificates
    name: str
    districts: tuple[tuple[str, str], ...]  # (name, region code)
    streets: tuple[str, ...]
    price_per_sqm: int  # yuan, for mortgage amounts


CITIES: dict[str, City] = {
    "2101": City("辽", "沈阳市", (("和平区", "210102"), ("沈河区", "210103"), ("皇姑区", "210105"),
                                   ("铁西区", "210106"), ("浑南区", "210112")),
                 ("南京北街", "中华路", "青年大街", "太原街", "北京街", "兴华北街"), 11000),
    "1101": City("京", "北京市", (("东城区", "110101"), ("西城区", "110102"), ("朝阳区", "110105"),
                                   ("丰台区", "110106"), ("海淀区", "110108")),
                 ("建国路", "中关村大街", "西直门外大街", "丰台北路", "朝阳门北大街"), 62000),
    "3101": City("沪", "上海市", (("黄浦区", "310101"), ("徐汇区", "310104"), ("长宁区", "310105"),
                                   ("浦东新区", "310115")),
                 ("南京东路", "漕溪北路", "延安西路", "世纪大道", "张杨路"), 65000),
    "4403": City("粤", "深圳市", (("罗湖区", "440303"), ("福田区", "440304"), ("南山区", "440305"),
                                   ("宝安区", "440306")),
                 ("深南大道", "滨海大道", "宝安大道", "红荔路", "科苑路"), 58000),
    "5101": City("川", "成都市", (("锦江区", "510104"), ("青羊区", "510105"), ("武侯区", "510107"),
                                   ("成华区", "510108")),
                 ("春熙路", "人民南路", "蜀都大道", "府青路", "科华北路"), 16000),
    "3301": City("浙", "杭州市", (("上城区", "330102"), ("西湖区", "330106"), ("滨江区", "330108"),
                                   ("余杭区", "330110")),
                 ("延安路", "文三路", "江南大道", "文一西路", "解放路"), 32000),
}
PROVINCE_CITY = {"21": "2101", "11": "1101", "31": "3101", "44": "4403", "51": "5101", "33": "3301"}
ANCHOR = date(2025, 12, 31)  # registrations fall in the ten years before this day


def city_of(kind: str, id_number: str) -> City:
    region = id_number[:6] if kind == "person" else id_number[2:8]
    code = region[:4] if region[:4] in CITIES else PROVINCE_CITY.get(region[:2], "2101")
    return CITIES[code]


def _unit_number(rng: Random, district_code: str, building: bool, rural: bool) -> str:
    zone = f"{rng.randint(1, 20):03d}{rng.randint(1, 12):03d}"
    feature = "JC" if rural else "GB"
    parcel = f"{rng.randint(1, 99999):05d}"
    fixture = f"F{rng.randint(1, 60):04d}{rng.randint(1, 2400):04d}" if building else "W00000000"
    return district_code + zone + feature + parcel + fixture


def _property(rng: Random, kind: str, city: City) -> dict[str, Any]:
    district, district_code = rng.choice(city.districts)
    street = rng.choice(city.streets)
    registered = ANCHOR - timedelta(days=rng.randrange(3650))
    if kind == "organization" and rng.random() < 0.3:
        building, use, right = False, "工业", "3"
        area = Decimal(rng.randrange(200_000, 5_000_000)) / 100
        address = f"{city.name}{district}{street}{rng.randint(1, 999)}号"
        price = city.price_per_sqm // 8
    else:
        building = True
        use = rng.choice(("住宅", "住宅", "住宅", "车库")) if kind == "person" else rng.choice(("办公", "商业"))
        area = Decimal(rng.randrange(3_000 if use == "车库" else 4_500, 3_600 if use == "车库" else 18_000)) / 100
        right = "4"
        address = (f"{city.name}{district}{street}{rng.randint(1, 399)}号"
                   f"{rng.randint(1, 30)}-{rng.randint(1, 6)}-{rng.randint(1, 32)}{rng.randint(1, 4):02d}")
        price = city.price_per_sqm
    mortgaged = rng.random() < (0.4 if kind == "person" else 0.5)
    seizures = rng.choice((1, 1, 2, 3)) if rng.random() < 0.15 else 0
    ownership = "0" if kind == "organization" else rng.choices(("0", "1", "2"), weights=(55, 35, 10))[0]
    return {
        "BDCDYH": _unit_number(rng, district_code, building, rural=False),
        "BDCQZH": f"{city.abbr}（{registered.year}）{city.name}不动产权第{rng.randrange(10**7):07d}号",
        "BDCLX": "2" if building else "1",
        "ZL": address,
        "MJ": f"{area:.2f}",
        "YT": use,
        "QLLX": right,
        "GYFS": ownership,
        "QLBL": "50%" if ownership == "2" else "",
        "DJSJ": registered.isoformat(),
        "DYZT": "1" if mortgaged else "0",
        "DYJE": f"{(area * price * Decimal('0.6') / 1000).quantize(Decimal('1')) * 1000:.2f}" if mortgaged else "",
        "CFZT": "1" if seizures else "0",
        "CFSL": str(seizures),
    }


def properties_for(kind: str, id_number: str) -> list[dict[str, Any]]:
    """What the registry holds for this 权利人, in its wire format (``BDCXX`` entries)."""
    rng = subject_rng("real_estate", id_number)
    if rng.random() < (0.30 if kind == "person" else 0.25):
        return []
    count = rng.choice((1, 1, 1, 2, 2, 3)) if kind == "person" else rng.choice((1, 2, 3, 4))
    city = city_of(kind, id_number)
    return [_property(rng, kind, city) for _ in range(count)]


__all__ = ["CITIES", "City", "city_of", "properties_for"]
