"""The simulated registry's data: realistic vehicles, derived deterministically from the owner.

``registered_vehicles(kind, id_number)`` gives the ``clxx`` entries the registry holds for an
owner: the same owner always gets the same vehicles. About a quarter of owners have none. Plates
carry the province of the owner's address code, VINs pass their GB 16735 check digit (real
manufacturer WMIs), new-energy plates follow GA 36-2018.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from connectors.sdk import make_vin, normalize_plate, subject_rng

AGENCY = "vehicles"
EMPTY_SHARE = 0.25
# A fixed window, so an owner's answer does not drift from one day to the next.
WINDOW_START = date(2016, 12, 1)
WINDOW_END = date(2026, 10, 31)

# Province abbreviation by the first two digits of the address / region code.
PROVINCE_BY_CODE = {
    "11": "京", "12": "津", "13": "冀", "14": "晋", "15": "蒙", "21": "辽", "22": "吉",
    "23": "黑", "31": "沪", "32": "苏", "33": "浙", "34": "皖", "35": "闽", "36": "赣",
    "37": "鲁", "41": "豫", "42": "鄂", "43": "湘", "44": "粤", "45": "桂", "46": "琼",
    "50": "渝", "51": "川", "52": "贵", "53": "云", "54": "藏", "61": "陕", "62": "甘",
    "63": "青", "64": "宁", "65": "新",
}  # fmt: skip

_VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
_SERIAL_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_MODEL_YEAR = {2016: "G", 2017: "H", 2018: "J", 2019: "K", 2020: "L", 2021: "M", 2022: "N",
               2023: "P", 2024: "R", 2025: "S", 2026: "T", 2027: "V"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Make:
    brand: str  # clpp1, as printed on the registration certificate
    wmi: str
    models: tuple[str, ...]  # clxh, the type-approval model
    engine_prefix: str
    body: str  # car | nev | truck | bus


MAKES: tuple[Make, ...] = (
    Make("大众汽车牌", "LSV", ("SVW7141BRD", "SVW71612BM", "SVW6471EFD"), "DJ", "car"),
    Make("一汽-大众牌", "LFV", ("FV7141FBDWG", "FV7201BCDWG", "FV6462LCDBW"), "DK", "car"),
    Make("丰田牌", "LVG", ("GTM7250GB", "GTM6480GSL", "GTM7200GSLB"), "A25A", "car"),
    Make("本田牌", "LHG", ("GHA7152AAC", "GHA6460BAC6A", "GHA7150FAC"), "L15B", "car"),
    Make("别克牌", "LSG", ("SGM7151DAA1", "SGM6521ATA", "SGM7202EAX1"), "LEA", "car"),
    Make("宝马牌", "LBV", ("BMW7200NM", "BMW6475KX", "BMW7201GM"), "B48", "car"),
    Make("梅赛德斯-奔驰牌", "LE4", ("BJ7204GEL", "BJ6496HCL", "BJ7152XCL"), "M264", "car"),
    Make("日产牌", "LGB", ("DFL7168VBL2", "DFL6461VBN1", "DFL7200VAL"), "HR16", "car"),
    Make("哈弗牌", "LGW", ("CC6470RM21", "CC6460RM2C", "CC6470UM20"), "GW4B15", "car"),
    Make("吉利牌", "L6T", ("MR7153A09", "MR6471DCHEV", "JL7152B01"), "JLC", "car"),
    Make("五菱牌", "LZW", ("LZW6445B3", "LZW6450PY", "LZW6470AVF"), "LJY", "car"),
    Make("比亚迪牌", "LGX", ("BYD7005BEV", "BYD6470ST6HEV", "BYD7152WTHEV3"), "BYD", "nev"),
    Make("特斯拉牌", "LRW", ("TSL7000BEVAR1", "TSL6480BEVBR0"), "TL", "nev"),
    Make("蔚来牌", "LJ1", ("HFC6483ECEV1-W", "HFC7001EAEV1"), "TZ", "nev"),
    Make("理想牌", "LW4", ("LXA6500SHEVX1", "LXA6500SHEVX2"), "L2E", "nev"),
    Make("解放牌", "LFW", ("CA4250P66K24T1A1E5", "CA1180P62K1L5E5"), "CA6DM", "truck"),
    Make("东风牌", "LGA", ("DFH4250A3", "DFH1180EX8", "DFH5180XXYEX8"), "DCI11", "truck"),
    Make("宇通牌", "LZY", ("ZK6117HQ", "ZK6127HN1Y", "ZK6115BEVG"), "WP7", "bus"),
)
_PERSON_MAKES = tuple(m for m in MAKES if m.body in ("car", "nev"))

PERSON_COLOURS = ("A", "A", "J", "J", "B", "H", "E", "Z")
PERSON_USES = ("A",) * 12 + ("D", "G", "L")
ORG_USES = {
    "car": ("A", "A", "G"),
    "nev": ("A", "G", "D"),
    "truck": ("F", "F", "R"),
    "bus": ("B", "C", "E"),
}
# Status letters, most often 正常; the rest as the registry prints them (combinations too).
STATUSES = ("A",) * 16 + ("K", "K", "KQ", "D", "Q", "L", "B", "E", "P", "C", "DQ")


def _day(rng: random.Random) -> date:
    return WINDOW_START + timedelta(days=rng.randrange((WINDOW_END - WINDOW_START).days + 1))


def _serial(rng: random.Random, length: int, letters: int) -> str:
    chars = [rng.choice("0123456789") for _ in range(length)]
    for i in rng.sample(range(length), letters):
        chars[i] = rng.choice(_SERIAL_LETTERS)
    return "".join(chars)


def make_plate(rng: random.Random, province: str, make: Make) -> tuple[str, str]:
    """(hphm, hpzl): a valid plate for the vehicle's body."""
    authority = rng.choice("AAAABBBCCDEFGHJK")
    if make.body == "nev":
        plate, kind = (
            province + authority + rng.choice("DF") + _serial(rng, 5, rng.choice((0, 1))),
            "52",
        )
    elif make.body == "bus" and rng.random() < 0.4:
        plate, kind = province + authority + _serial(rng, 5, 0) + "D", "51"
    elif make.body in ("truck", "bus"):
        plate, kind = province + authority + _serial(rng, 5, rng.choice((0, 1))), "01"
    else:
        plate, kind = province + authority + _serial(rng, 5, rng.choice((0, 1, 1, 2))), "02"
    return normalize_plate(plate), kind


def _vehicle(rng: random.Random, province: str, make: Make, use: str) -> dict[str, str]:
    registered = _day(rng)
    year = registered.year - (1 if rng.random() < 0.3 else 0)
    vis = _MODEL_YEAR.get(year, "H") + rng.choice("0123456789ABCDEFGH") + _serial(rng, 6, 0)
    vin = make_vin(make.wmi, "".join(rng.choice(_VIN_CHARS) for _ in range(5)), vis)
    plate, plate_type = make_plate(rng, province, make)
    status = rng.choice(STATUSES)
    seized = "K" in status
    colour = rng.choice(PERSON_COLOURS) if make.body in ("car", "nev") else rng.choice("ACHG")
    return {
        "hphm": plate,
        "hpzl": plate_type,
        "clsbdh": vin,
        "fdjh": make.engine_prefix + _serial(rng, 7, 0),
        "clpp1": make.brand,
        "clxh": rng.choice(make.models),
        "csys": colour,
        "syxz": use,
        "ccdjrq": registered.isoformat(),
        "zt": status,
        "dybj": "1" if rng.random() < 0.2 else "0",
        "cfsl": str(rng.randint(1, 3) if seized else (1 if rng.random() < 0.05 else 0)),
    }


def province_of(kind: str, id_number: str) -> str:
    """The plate province: the owner's address code (ID) or region code (credit code, 3-8)."""
    region = id_number[2:4] if kind == "organization" else id_number[:2]
    return PROVINCE_BY_CODE.get(region, "京")


def registered_vehicles(kind: str, id_number: str) -> list[dict[str, str]]:
    """The ``clxx`` entries for an owner: the same owner, the same vehicles, every time."""
    rng = subject_rng(AGENCY, id_number)
    if rng.random() < EMPTY_SHARE:
        return []
    province = province_of(kind, id_number)
    vehicles: list[dict[str, str]] = []
    if kind == "organization":
        for _ in range(rng.choice((1, 2, 2, 3, 3, 4))):
            make = rng.choice(MAKES)
            vehicles.append(_vehicle(rng, province, make, rng.choice(ORG_USES[make.body])))
    else:
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            make = rng.choice(_PERSON_MAKES)
            vehicles.append(_vehicle(rng, province, make, rng.choice(PERSON_USES)))
    vehicles.sort(key=lambda v: v["ccdjrq"])
    return vehicles


__all__ = [
    "EMPTY_SHARE",
    "MAKES",
    "Make",
    "make_plate",
    "province_of",
    "registered_vehicles",
]
