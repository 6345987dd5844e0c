"""Code tables of the 公安交管 vehicle registry wire format (client, adapter and simulator).

The registry speaks in GA 24 codes: plate types (号牌种类, GA 24.7), body colours (车身颜色,
GA 24.8), uses (使用性质, GA 24.3) and statuses (机动车状态, GA 24.1: one letter per status, a
vehicle may carry several, e.g. ``"KQ"``). Its answers are wrapped as
``{"code": "0000", "msg": "成功", "data": ...}`` and failures travel as business codes inside an
HTTP 200 body.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Final

BEIJING: Final = timezone(timedelta(hours=8), "CST")
"""The registry writes every time as Beijing time, without an offset."""

# --- Interface identifiers and subject kinds ---------------------------------------------------

SYSTEM_CATEGORY: Final = "01"  # xtlb: 机动车
JKID_VEHICLE_QUERY: Final = "01C21"  # 机动车信息查询（按所有人身份证明）
JKID_HEARTBEAT: Final = "00C01"  # 接口连通性检测
# Control interfaces (查封登记 and what follows it), answered with data.kzzt: 1 done, 3 refused.
JKID_SEAL: Final = "04C51"  # 查封登记
JKID_SEAL_RENEW: Final = "04C52"  # 续行查封
JKID_SEAL_RELEASE: Final = "04C53"  # 解除查封
CONTROL_JKIDS: Final = {"seal": JKID_SEAL, "renew": JKID_SEAL_RENEW, "release": JKID_SEAL_RELEASE}
QUERY_PATH: Final = "/trffweb/outaccess/query"

SUBJECT_CATEGORY: Final[dict[str, str]] = {"person": "1", "organization": "2"}  # ztlb
ID_DOCUMENT_TYPE: Final[dict[str, str]] = {"person": "A", "organization": "M"}  # sfzmmc
"""sfzmmc: A 居民身份证, M 统一社会信用代码证书."""

# --- Business codes (code / msg in the envelope) ---------------------------------------------

CODE_OK: Final = "0000"
CODE_NOT_FOUND: Final = "0001"  # 查无信息: an answer, with no vehicles
SUCCESS_CODES: Final = frozenset({CODE_OK, CODE_NOT_FOUND})

AUTH_CODES: Final[dict[str, str]] = {
    "1001": "接口序列号无效",
    "1002": "接口序列号已过期",
    "1003": "无权访问该接口",
    "1004": "访问IP未登记",
}
REJECTION_CODES: Final[dict[str, str]] = {
    "2000": "请求报文格式错误",
    "2001": "必填项缺失",
    "2002": "身份证明号码不符合编码规则",
    "2003": "身份证明名称与主体类别不符",
    "2004": "接口标识不存在",
    "2005": "法律文书编号无效",
}
TRANSIENT_CODES: Final[dict[str, str]] = {
    "3001": "访问过于频繁，请稍后再试",
    "3002": "当日查询量已超限",
    "9001": "系统维护中",
    "9999": "系统内部错误",
}

# --- GA 24 code tables ------------------------------------------------------------------------

PLATE_TYPES: Final[dict[str, str]] = {
    "01": "大型汽车",
    "02": "小型汽车",
    "03": "使馆汽车",
    "05": "境外汽车",
    "07": "两、三轮摩托车",
    "13": "低速车",
    "15": "挂车",
    "16": "教练汽车",
    "23": "警用汽车",
    "51": "新能源大型车",
    "52": "新能源小型车",
}

COLOURS: Final[dict[str, str]] = {
    "A": "白",
    "B": "灰",
    "C": "黄",
    "D": "粉",
    "E": "红",
    "F": "紫",
    "G": "绿",
    "H": "蓝",
    "I": "棕",
    "J": "黑",
    "Z": "其他",
}

USES: Final[dict[str, str]] = {
    "A": "非营运",
    "B": "公路客运",
    "C": "公交客运",
    "D": "出租客运",
    "E": "旅游客运",
    "F": "货运",
    "G": "租赁",
    "H": "警用",
    "I": "消防",
    "J": "救护",
    "K": "工程救险",
    "L": "营转非",
    "M": "出租转非",
    "N": "教练",
    "O": "幼儿校车",
    "P": "小学生校车",
    "Q": "其他校车",
    "R": "危化品运输",
    "Z": "其他",
}

STATUSES: Final[dict[str, str]] = {
    "A": "正常",
    "B": "转出",
    "C": "被盗抢",
    "D": "停驶",
    "E": "注销",
    "G": "违法未处理",
    "H": "海关监管",
    "I": "事故未处理",
    "J": "嫌疑车",
    "K": "查封",
    "L": "暂扣",
    "M": "强制注销",
    "N": "事故逃逸",
    "O": "锁定",
    "P": "达到报废标准",
    "Q": "逾期未检验",
}


def colour_name(code: str) -> str:
    """A colour code string (one or more letters, e.g. ``"AJ"`` two-tone) as Chinese words."""
    names = [COLOURS.get(c, c) for c in code.strip().upper()]
    return "".join(names) or "其他"


def use_name(code: str) -> str:
    return USES.get(code.strip().upper(), code.strip())


__all__ = [
    "AUTH_CODES",
    "BEIJING",
    "CODE_NOT_FOUND",
    "CODE_OK",
    "COLOURS",
    "CONTROL_JKIDS",
    "ID_DOCUMENT_TYPE",
    "JKID_HEARTBEAT",
    "JKID_SEAL",
    "JKID_SEAL_RELEASE",
    "JKID_SEAL_RENEW",
    "JKID_VEHICLE_QUERY",
    "PLATE_TYPES",
    "QUERY_PATH",
    "REJECTION_CODES",
    "STATUSES",
    "SUBJECT_CATEGORY",
    "SUCCESS_CODES",
    "SYSTEM_CATEGORY",
    "TRANSIENT_CODES",
    "USES",
    "colour_name",
    "use_name",
]
