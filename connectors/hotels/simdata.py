"""The simulated registry's data: hotel stays derived deterministically from the guest's ID.

``registered_stays(id_number)`` gives every stay the registry holds for a guest (the same guest,
the same stays, every time); ``in_period`` keeps those overlapping a period. About a quarter of
guests have no stay at all; a good share of stays are in star-rated hotels (the evidence of a
breach of a consumption restriction), the rest in budget chains that carry no stars.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from connectors.sdk import subject_rng

AGENCY = "hotels"
EMPTY_SHARE = 0.25
STAR_RATED_SHARE = 0.6
NEAR_HOME_SHARE = 0.5
# A fixed window, so a guest's answer does not drift from one day to the next.
WINDOW_START = date(2016, 12, 1)
WINDOW_END = date(2026, 10, 31)
REGISTRY_TZ = timezone(timedelta(hours=8), "CST")  # the registry writes Beijing time


@dataclass(frozen=True, slots=True)
class Hotel:
    name: str
    stars: int
    address: str
    region: str  # 6-digit administrative division code of the district

    @property
    def province(self) -> str:
        return self.region[:2]


HOTELS: tuple[Hotel, ...] = (
    Hotel("北京饭店", 5, "北京市东城区东长安街33号", "110101"),
    Hotel("北京王府井希尔顿酒店", 5, "北京市东城区王府井东街8号", "110101"),
    Hotel("上海和平饭店", 5, "上海市黄浦区南京东路20号", "310101"),
    Hotel("上海浦东香格里拉大酒店", 5, "上海市浦东新区富城路33号", "310115"),
    Hotel("广州白天鹅宾馆", 5, "广州市荔湾区沙面南街1号", "440103"),
    Hotel("广州花园酒店", 5, "广州市越秀区环市东路368号", "440104"),
    Hotel("南京金陵饭店", 5, "南京市鼓楼区汉中路2号", "320106"),
    Hotel("杭州西湖国宾馆", 5, "杭州市西湖区杨公堤18号", "330106"),
    Hotel("成都锦江宾馆", 5, "成都市锦江区人民南路二段80号", "510104"),
    Hotel("深圳五洲宾馆", 5, "深圳市福田区深南大道6001号", "440304"),
    Hotel("天津利顺德大饭店", 5, "天津市和平区台儿庄路33号", "120101"),
    Hotel("沈阳香格里拉大酒店", 5, "沈阳市沈河区青年大街115号", "210103"),
    Hotel("长沙华天大酒店", 5, "长沙市芙蓉区解放东路300号", "430102"),
    Hotel("北京前门建国饭店", 4, "北京市西城区永安路175号", "110102"),
    Hotel("上海新亚大酒店", 4, "上海市虹口区天潼路422号", "310109"),
    Hotel("辽宁大厦", 4, "沈阳市皇姑区黄河南大街105号", "210105"),
    Hotel("青岛汇泉王朝大酒店", 4, "青岛市市南区南海路9号", "370202"),
    Hotel("武汉晴川假日酒店", 4, "武汉市汉阳区洗马长街88号", "420105"),
    Hotel("郑州中州国际饭店", 4, "郑州市金水区花园路115号", "410105"),
    Hotel("北京燕京饭店", 3, "北京市西城区复兴门外大街19号", "110102"),
    Hotel("上海海鸥饭店", 3, "上海市虹口区黄浦路60号", "310109"),
    Hotel("沈阳北陵大厦", 3, "沈阳市皇姑区黄河北大街56号", "210105"),
    Hotel("西安唐城宾馆", 3, "西安市雁塔区含光南路176号", "610113"),
    Hotel("北京远东饭店", 2, "北京市西城区铁树斜街90号", "110102"),
    Hotel("天津交通饭店", 2, "天津市河北区中山路12号", "120105"),
    Hotel("如家酒店(北京西单店)", 0, "北京市西城区宣武门内大街2号", "110102"),
    Hotel("汉庭酒店(上海人民广场店)", 0, "上海市黄浦区西藏中路250号", "310101"),
    Hotel("7天连锁酒店(广州火车站店)", 0, "广州市越秀区环市西路123号", "440104"),
    Hotel("锦江之星(南京新街口店)", 0, "南京市秦淮区中山南路49号", "320104"),
    Hotel("全季酒店(杭州西湖湖滨店)", 0, "杭州市上城区平海路12号", "330102"),
    Hotel("亚朵酒店(成都春熙路店)", 0, "成都市锦江区红星路三段1号", "510104"),
    Hotel("格林豪泰(沈阳北站店)", 0, "沈阳市沈河区北站路61号", "210103"),
    Hotel("汉庭酒店(沈阳中街店)", 0, "沈阳市沈河区中街路128号", "210103"),
    Hotel("维也纳酒店(深圳罗湖口岸店)", 0, "深圳市罗湖区建设路1072号", "440303"),
    Hotel("如家酒店(郑州火车站店)", 0, "郑州市二七区二马路35号", "410103"),
    Hotel("7天连锁酒店(西安钟楼店)", 0, "西安市莲湖区北大街88号", "610104"),
)
_STARRED = tuple(h for h in HOTELS if h.stars)
_UNRATED = tuple(h for h in HOTELS if not h.stars)


def _pick_hotel(rng: random.Random, home_province: str) -> Hotel:
    pool = _STARRED if rng.random() < STAR_RATED_SHARE else _UNRATED
    near = tuple(h for h in pool if h.province == home_province)
    if near and rng.random() < NEAR_HOME_SHARE:
        return rng.choice(near)
    return rng.choice(pool)


def _room(rng: random.Random, hotel: Hotel) -> str:
    floor = rng.randint(3, 28) if hotel.stars >= 4 else rng.randint(2, 12)
    return f"{floor}{rng.randint(1, 40):02d}"


def _stay(rng: random.Random, hotel: Hotel) -> dict[str, Any]:
    day = WINDOW_START + timedelta(days=rng.randrange((WINDOW_END - WINDOW_START).days + 1))
    hour = rng.choice((13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 0, 1))
    arrived = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), REGISTRY_TZ)
    if hour < 12:  # past midnight: the next calendar day
        arrived += timedelta(days=1)
    nights = rng.choice((1, 1, 1, 2, 2, 3, 5))
    leave_day = (arrived - timedelta(hours=6)).date() + timedelta(days=nights)
    left = datetime.combine(leave_day, time(rng.randint(7, 12), rng.randrange(60), 0), REGISTRY_TZ)
    code = hotel.region + f"{sum(map(ord, hotel.name)) % 10000:04d}"
    return {
        "hotel_name": hotel.name,
        "hotel_code": code,
        "star_rating": hotel.stars,
        "address": hotel.address,
        "check_in_time": arrived.isoformat(),
        "check_out_time": None if rng.random() < 0.04 else left.isoformat(),
        "room_no": _room(rng, hotel),
    }


def registered_stays(id_number: str) -> list[dict[str, Any]]:
    """Every stay of the guest, oldest first, times in Beijing time with their offset."""
    rng = subject_rng(AGENCY, id_number)
    if rng.random() < EMPTY_SHARE:
        return []
    count = rng.choice((1, 1, 2, 2, 3, 4))
    stays = [_stay(rng, _pick_hotel(rng, id_number[:2])) for _ in range(count)]
    stays.sort(key=lambda s: str(s["check_in_time"]))
    return stays


def in_period(stay: dict[str, Any], start: date | None, end: date | None) -> bool:
    """Whether the stay overlaps [start, end] in local calendar days (a bound may be missing)."""
    arrived = datetime.fromisoformat(stay["check_in_time"]).date()
    left_text = stay["check_out_time"] or stay["check_in_time"]
    left = datetime.fromisoformat(left_text).date()
    if end is not None and arrived > end:
        return False
    return not (start is not None and left < start)


__all__ = [
    "EMPTY_SHARE",
    "HOTELS",
    "REGISTRY_TZ",
    "STAR_RATED_SHARE",
    "Hotel",
    "in_period",
    "registered_stays",
]
