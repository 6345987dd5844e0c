"""Codes of the real estate registry's wire format (TD/T 1066 不动产登记数据库标准 style)."""

from __future__ import annotations

from datetime import timedelta, timezone

from connectors.sdk import ControlStatus

BEIJING = timezone(timedelta(hours=8), "CST")

QUERY_PATH = "/bdc/court/v1/query"
HEALTH_PATH = "/bdc/court/v1/ping"
TOKEN_HEADER = "X-Access-Token"  # noqa: S105 - a header name, not a secret
REQUEST_ID_HEADER = "X-Request-Id"  # the idempotency key (查询请求唯一标识)

CONTROL_PATH = "/bdc/court/v1/control"  # 查封登记 / 续封 / 解封 (协助执行)
# KZLX 控制类型, by control operation.
CONTROL_TYPES = {"seal": "1", "renew": "2", "release": "3"}  # 1 查封, 2 续封, 3 解除查封
# KZJG 控制结果: 1 已办理, 3 不予办理 (a seal behind others is 已办理, with LHSX > 1: 轮候查封).
CONTROL_RESULTS: dict[str, ControlStatus] = {"1": "accepted", "2": "partial", "3": "refused"}

CODE_OK = "0"
CODE_NOT_FOUND = "1"  # 查无不动产登记信息: an answer, not an error

# QLRLX 权利人类型 and ZJZL 证件种类, by subject kind.
HOLDER_TYPES = {"person": "1", "organization": "2"}
ID_TYPES = {"person": "1", "organization": "8"}  # 1 居民身份证, 8 统一社会信用代码

# QLLX 权利类型.
RIGHT_TYPES = {
    "3": "国有建设用地使用权",
    "4": "国有建设用地使用权/房屋所有权",
    "5": "宅基地使用权",
    "6": "宅基地使用权/房屋所有权",
    "7": "集体建设用地使用权",
    "8": "集体建设用地使用权/房屋所有权",
}
# GYFS 共有方式.
OWNERSHIP = {"0": "单独所有", "1": "共同共有", "2": "按份共有"}
# BDCLX 不动产类型.
PROPERTY_TYPES = {"1": "parcel", "2": "building"}

# Error codes: the first three digits are the HTTP status they travel with.
AUTH_CODES = frozenset({"401001", "401002", "403001"})
TRANSIENT_CODES = frozenset({"429001", "500001", "503001", "504001"})
REASONS = {
    "400101": "必填项缺失",
    "400102": "证件号码校验未通过",
    "400103": "证件种类与权利人类型不符",
    "400104": "请求报文格式错误",
    "401001": "访问令牌无效",
    "401002": "访问令牌已过期",
    "403001": "无权查询不动产登记信息",
    "429001": "请求过于频繁",
    "500001": "系统内部错误",
    "503001": "系统维护中",
}

__all__ = [
    "AUTH_CODES",
    "BEIJING",
    "CODE_NOT_FOUND",
    "CODE_OK",
    "CONTROL_PATH",
    "CONTROL_RESULTS",
    "CONTROL_TYPES",
    "HEALTH_PATH",
    "HOLDER_TYPES",
    "ID_TYPES",
    "OWNERSHIP",
    "PROPERTY_TYPES",
    "QUERY_PATH",
    "REASONS",
    "REQUEST_ID_HEADER",
    "RIGHT_TYPES",
    "TOKEN_HEADER",
    "TRANSIENT_CODES",
]
