"""``enforcement measures``: a case's control measures, or one measure, through the API.

    enforcement measures list --case 12 [--json]
    enforcement measures show 345 [--json]

Reads ``GET /api/v1/cases/{id}/measures`` and ``GET /api/v1/measures/{id}`` with the user's token
(``--user``, default the demo judge ``zhangwei``; or ``--token`` / ``ENFORCEMENT_TOKEN``), so it
sees what the API lets that user see (the case's judge, a supervisor of its court); a refusal is
the API's (audited there) and ends with exit code 4.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any, TextIO

import aiohttp

from enforcement.commands import text_table
from enforcement.commands.api_client import add_connection_options, bearer_token, expect
from enforcement.kernel.settings import Settings

KIND_ZH = {"freeze": "冻结", "seal": "查封", "renew": "续行", "release": "解除", "deduct": "扣划"}
STATUS_ZH = {"awaiting_approval": "待院庭长审批", "pending": "待协助单位答复", "active": "生效", "partial": "部分生效",
             "refused": "被拒绝", "released": "已解除", "lapsed": "已到期失效", "done": "已完成", "failed": "失败",
             "rejected": "已驳回", "withdrawn": "已撤回"}
EXPIRY_ZH = {"running": "期限内", "due": "应续行", "lapsed": "已失效"}


def _row(m: dict[str, Any]) -> list[str]:
    return [str(m["id"]), f"{KIND_ZH.get(m['kind'], m['kind'])} {m['kind']}", m["agency"], m["natural_key"],
            m["amount"] or "-", m["effect_amount"] or "-", f"{STATUS_ZH.get(m['status'], m['status'])} {m['status']}",
            m["expires_on"] or "-",
            "-" if m["expiry_state"] is None else f"{EXPIRY_ZH.get(m['expiry_state'], '')} {m['expiry_state']}",
            m["notice_number"]]


HEADERS = ["措施 id", "类型 kind", "单位 agency", "财产 asset", "金额 amount", "实际 effect", "状态 status",
           "到期 expires", "期限 expiry", "协助执行通知书 notice"]


def print_list(case_id: int, measures: list[dict[str, Any]], out: TextIO) -> None:
    out.write(f"案件 case {case_id}：{len(measures)} 项控制措施 / measure(s)\n")
    for line in text_table.render(HEADERS, [_row(m) for m in measures], right=(0, 4, 5), max_width=40):
        out.write(line + "\n")


def print_one(m: dict[str, Any], out: TextIO) -> None:
    fields = [
        ("措施 id", str(m["id"])), ("案件 case", str(m["case_id"])),
        ("类型 kind", f"{KIND_ZH.get(m['kind'], m['kind'])} {m['kind']}"),
        ("所依据措施 follows", str(m["parent_id"]) if m["parent_id"] else "-"),
        ("协助单位 agency", m["agency"]), ("财产 asset", f"{m['asset_kind']} {m['natural_key']}"),
        ("金额 amount", m["amount"] or "-"),
        ("执行裁定书 ruling", f"{m['ruling']['number']}（{m['ruling']['ruled_on']}）"),
        ("协助执行通知书 notice", m["notice_number"]), ("承办法官 judge", m["judge"]),
        ("状态 status", f"{STATUS_ZH.get(m['status'], m['status'])} {m['status']} (task {m['task_status']})"),
        ("回执 reference", m["reference"] or "-"), ("实际金额 effect", m["effect_amount"] or "-"),
        ("轮候顺位 queue", "-" if m["queue_position"] is None else str(m["queue_position"])),
        ("划款凭证 transfer", m["transfer_reference"] or "-"),
        ("期限 term", f"{m['starts_on'] or '-'} .. {m['expires_on'] or '-'}"
                      + (f"  {EXPIRY_ZH.get(m['expiry_state'], '')} {m['expiry_state']}" if m["expiry_state"] else "")),
        ("审批 approved", f"{m['approved_by']} {m['approved_at']}" if m.get("approved_by") else "-"),
    ]
    if m.get("refusal"):
        fields.append(("拒绝原因 refusal", f"{m['refusal'].get('code') or ''} {m['refusal'].get('reason') or ''}"))
    width = max(text_table.display_width(k) for k, _ in fields)
    for key, value in fields:
        out.write(f"{key}{' ' * (width - text_table.display_width(key))}  {value}\n")


async def _get(args: argparse.Namespace, settings: Settings, path: str) -> Any:
    headers = {"Authorization": f"Bearer {bearer_token(args, settings)}"}
    async with aiohttp.ClientSession(headers=headers) as session, \
            session.get(f"{args.url.rstrip('/')}{path}") as resp:
        return await expect(resp, 200)


def cmd_list(args: argparse.Namespace) -> int:
    answer = asyncio.run(_get(args, Settings.from_env(), f"/api/v1/cases/{args.case}/measures"))
    if args.json:
        json.dump(answer, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print_list(args.case, answer["measures"], sys.stdout)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    answer = asyncio.run(_get(args, Settings.from_env(), f"/api/v1/measures/{args.measure_id}"))
    if args.json:
        json.dump(answer, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print_one(answer, sys.stdout)
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} 不是有效编号 / is not an id (a positive integer)")
    return value


def register(sub: Any) -> None:
    p = sub.add_parser("measures", help="a case's control measures (freeze, seal, ...) / 控制措施")
    actions = p.add_subparsers(dest="action", required=True)
    q = actions.add_parser("list", help="a case's measures with their expiries / 案件的控制措施")
    q.add_argument("--case", type=_positive, required=True, help="case id")
    q.add_argument("--json", action="store_true", help="the API's answer as JSON")
    add_connection_options(q)
    q.set_defaults(func=cmd_list)
    q = actions.add_parser("show", help="one measure / 单项控制措施")
    q.add_argument("measure_id", type=_positive, help="measure id")
    q.add_argument("--json", action="store_true", help="the API's answer as JSON")
    add_connection_options(q)
    q.set_defaults(func=cmd_show)


__all__ = ["print_list", "print_one", "register"]
