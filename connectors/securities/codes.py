"""Codes of the 中国结算 (China Securities Depository and Clearing, CSDC) court inquiry interface
(法院网络查控 · 证券查询): paths, headers, the envelope's codes and the code tables of the answer."""

from __future__ import annotations

from datetime import timedelta, timezone

from connectors.sdk.types import ControlOp, ControlStatus

BEIJING = timezone(timedelta(hours=8), "CST")

QUERY_PATH = "/csdc/fyck/v1/zqcx"  # 证券查询
HEARTBEAT_PATH = "/csdc/fyck/v1/ljcs"  # 连接测试
KEY_HEADER = "X-CSDC-AppKey"  # 接入密钥: our credential
BUSINESS_TYPE = "ZQCX"  # head.ywlx 业务类型: securities holdings inquiry
HEARTBEAT_TYPE = "LJCS"

CONTROL_PATH = "/csdc/fyck/v1/zqdj"  # 证券冻结、续冻、解冻 (协助执行)
# head.ywlx of a control, by operation.
CONTROL_TYPES: dict[ControlOp, str] = {"freeze": "ZQDJ", "renew": "ZQXD", "release": "ZQJD"}
# body.clzt 处理状态 of a control's answer: 1 已办理, 2 部分办理, 3 不予办理 (a freeze behind
# others is 已办理 with 轮候序号 lhxh > 1: 轮候冻结).
CONTROL_RESULTS: dict[str, ControlStatus] = {"1": "accepted", "2": "partial", "3": "refused"}

CODE_OK = "0000"
CODE_NO_ACCOUNT = "0100"  # 查无该投资者证券账户: an answer (nothing held), not an error

# body.tzrlb 投资者类别 and body.zjlb 证件类别, by subject kind.
INVESTOR_TYPES = {"person": "1", "organization": "2"}  # 1 个人投资者, 2 机构投资者
ID_TYPES = {"person": "00", "organization": "0A"}  # 00 居民身份证, 0A 统一社会信用代码

# scdm 市场代码.
MARKETS = {"1": "SH", "2": "SZ", "6": "BJ"}  # 上海, 深圳, 北京
# zhzt 账户状态.
ACCOUNT_STATUS = {"0": "正常", "1": "冻结", "2": "挂失", "4": "休眠", "9": "注销"}
# zqlb 证券类别.
SECURITY_TYPES = {"A0": "stock", "E0": "fund", "B0": "bond"}

# head.fhdm 返回代码 of failures: E1xx credentials, E2xx the request, E3xx/E9xx capacity or outage.
AUTH_CODES = frozenset({"E101", "E102", "E103"})
REJECTION_CODES = frozenset({"E201", "E202", "E203", "E204", "E205"})
TRANSIENT_CODES = frozenset({"E301", "E901", "E999"})
REASONS = {
    "E101": "接入认证失败",
    "E102": "接入密钥已过期",
    "E103": "无证券查询权限",
    "E201": "必填项缺失",
    "E202": "证件号码校验失败",
    "E203": "投资者类别与证件类别不符",
    "E204": "请求报文格式错误",
    "E205": "证券标识（市场、账户、证券代码）无效",
    "E301": "查询量超过限额",
    "E901": "系统维护中",
    "E999": "系统异常",
}

__all__ = [
    "ACCOUNT_STATUS",
    "AUTH_CODES",
    "BEIJING",
    "BUSINESS_TYPE",
    "CODE_NO_ACCOUNT",
    "CODE_OK",
    "CONTROL_PATH",
    "CONTROL_RESULTS",
    "CONTROL_TYPES",
    "HEARTBEAT_PATH",
    "HEARTBEAT_TYPE",
    "ID_TYPES",
    "INVESTOR_TYPES",
    "KEY_HEADER",
    "MARKETS",
    "QUERY_PATH",
    "REASONS",
    "REJECTION_CODES",
    "SECURITY_TYPES",
    "TRANSIENT_CODES",
]
