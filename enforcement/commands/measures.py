"""``enforcement measures``: a case's control measures through the API: read them, and freeze,
seal, renew, release or deduct as the case's judge does in the workbench.

    enforcement measures list --case 12 [--json]
    enforcement measures show 345 [--json]
    enforcement measures freeze --case 12 --key 中国工商银行:6222...:CNY --ruling （2026）辽0102执1234号 \\
        --ruled-on 2026-12-01 (--amount 5000.00 | --whole) [--asset-kind securities_holding]
    enforcement measures seal --case 12 --asset-kind vehicle --key LFV2A21K8F4123456 --ruling ... --ruled-on ...
    enforcement measures renew 345 --ruling ... --ruled-on ... [--until 2028-12-01]
    enforcement measures release 345 --ruling ... --ruled-on ...
    enforcement measures deduct 345 --ruling ... --ruled-on ... --amount 1000.00

Each acts through ``/api/v1`` with the user's token (``--user``, default the demo judge
``zhangwei``; or ``--token`` / ``--token-file`` / ``ENFORCEMENT_TOKEN``), so the API's rules,
audit and court scope apply: freeze and seal post ``POST /api/v1/cases/{id}/measures``, a
deduction posts there too with the freeze's ``measure_id``, renew and release post
``/api/v1/measures/{id}:renew`` / ``:release``. ``--key`` is the dossier entry's natural key
(``enforcement search --json``, or the case page). The measure is printed as ``show`` prints it
(its 协助执行通知书 number and status), ``--json`` prints the API's answer; ``--wait SECONDS``
waits for the agency's answer first.

Exit codes (the table in ``enforcement --help``): 0 queued (or, with ``--wait``, answered); 1 the
agency refused it or it failed (``--wait``); 2 bad input: a date not YYYY-MM-DD or an amount that
is not a positive number of yuan with at most two decimals is refused here before any request,
and the API's own 4xx (a freeze beyond the available balance, an expired ruling, an asset no search
of the case found: 422; a duplicate: 409) is printed in its Chinese and English words; 3 the
service cannot be reached; 4 refused by the API (401/403: not the case's judge, a token not valid).

Submitting twice is safe: the API keeps one measure per act (case, kind, asset, ruling number and
the control it follows), so a re-run after a lost answer is refused as ``duplicate_measure`` naming
the measure already made, and nothing goes to the agency twice. The API takes no
``Idempotency-Key`` header; the ruling number is the key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from decimal import Decimal
from typing import Any, TextIO

import aiohttp

from enforcement.commands import text_table
from enforcement.commands.api_client import (
    EXIT_CODES_HELP,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    add_connection_options,
    bearer_token,
    expect,
    iso_date,
)
from enforcement.domain.measures import InvalidMeasure, parse_amount
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


def _session(args: argparse.Namespace, settings: Settings) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(headers={"Authorization": f"Bearer {bearer_token(args, settings)}"})


def _url(args: argparse.Namespace, path: str) -> str:
    return f"{args.url.rstrip('/')}{path}"


async def _get(args: argparse.Namespace, settings: Settings, path: str) -> Any:
    async with _session(args, settings) as session, session.get(_url(args, path)) as resp:
        return await expect(resp, 200)


def _emit(answer: Any, as_json: bool, out: TextIO) -> None:
    if as_json:
        json.dump(answer, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        print_one(answer, out)


def cmd_list(args: argparse.Namespace) -> int:
    answer = asyncio.run(_get(args, Settings.from_env(), f"/api/v1/cases/{args.case}/measures"))
    if args.json:
        json.dump(answer, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print_list(args.case, answer["measures"], sys.stdout)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    _emit(asyncio.run(_get(args, Settings.from_env(), f"/api/v1/measures/{args.measure_id}")), args.json, sys.stdout)
    return 0


# ---- acting on measures: freeze, seal (a first control), renew, release, deduct (on a control) ----

# What the agency answered, once it answered: refused or failed ends with exit code 1 (``--wait``).
FAILED = ("refused", "failed")
WAIT_POLL_SECONDS = 0.5


def _ruling(args: argparse.Namespace) -> dict[str, str]:
    return {"number": args.ruling, "ruled_on": args.ruled_on.isoformat()}


def _first_body(args: argparse.Namespace) -> dict[str, Any]:
    """The body of ``POST /api/v1/cases/{id}/measures`` for a freeze or a seal (the API's MeasureRequest)."""
    body: dict[str, Any] = {"kind": args.action, "asset_kind": args.asset_kind, "natural_key": args.key,
                            "ruling": _ruling(args)}
    amount = getattr(args, "amount", None)
    if amount is not None:
        if args.asset_kind != "bank_account":
            raise CliError("冻结证券以持有的全部证券为对象，不填写金额：请用 --whole",
                           "a freeze of securities is of the whole holding: use --whole, not --amount", EXIT_USAGE)
        body["amount"] = f"{amount:.2f}"
    if args.until is not None:
        body["until"] = args.until.isoformat()
    return body


async def _submit(args: argparse.Namespace, settings: Settings) -> Any:
    """Post the act, then (``--wait``) read the measure until its agency answered or the time is up."""
    async with _session(args, settings) as session:
        if args.action in ("freeze", "seal"):
            path, body = f"/api/v1/cases/{args.case}/measures", _first_body(args)
        elif args.action == "deduct":
            # A deduction is posted under the freeze's case: read the freeze for it (404 names it).
            async with session.get(_url(args, f"/api/v1/measures/{args.measure_id}")) as resp:
                control = await expect(resp, 200)
            path = f"/api/v1/cases/{control['case_id']}/measures"
            body = {"kind": "deduct", "measure_id": args.measure_id, "amount": f"{args.amount:.2f}",
                    "ruling": _ruling(args)}
        else:
            path, body = f"/api/v1/measures/{args.measure_id}:{args.action}", {"ruling": _ruling(args)}
            if getattr(args, "until", None) is not None:
                body["until"] = args.until.isoformat()
        async with session.post(_url(args, path), json=body) as resp:
            answer = await expect(resp, 202)
        if args.wait > 0:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + args.wait
            while answer["status"] == "pending" and loop.time() < deadline:
                await asyncio.sleep(WAIT_POLL_SECONDS)
                async with session.get(_url(args, answer["url"])) as resp:
                    answer = await expect(resp, 200)
        return answer


def cmd_act(args: argparse.Namespace) -> int:
    if args.action in ("freeze", "seal"):
        _first_body(args)  # what can be refused here is refused before any request
    answer = asyncio.run(_submit(args, Settings.from_env()))
    _emit(answer, args.json, sys.stdout)
    if args.wait > 0 and answer["status"] == "pending":
        print(f"协助单位尚未答复，稍后查看：enforcement measures show {answer['id']} / "
              f"the agency has not answered yet; see later: enforcement measures show {answer['id']}", file=sys.stderr)
    return EXIT_FAILURE if args.wait > 0 and answer["status"] in FAILED else EXIT_OK


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} 不是有效编号 / is not an id (a positive integer)")
    return value


def _amount(text: str) -> Decimal:
    """argparse ``type=``: yuan as the API takes them (``parse_amount``): positive, two decimals at most."""
    try:
        value = parse_amount(text, required=True)
    except InvalidMeasure as exc:
        raise argparse.ArgumentTypeError(f"{text!r}：{exc.message_zh} / {text!r}: {exc}") from None
    assert value is not None
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} 不是有效秒数（0-3600） / is not a number of seconds (0-3600)")
    return value


def _act_options(q: argparse.ArgumentParser, *, until: str | None) -> None:
    """The ruling every act rests on, ``--until`` where the API takes it, the output and connection."""
    q.add_argument("--ruling", required=True, metavar="NUMBER",
                   help="执行裁定书文号 the ruling's number, e.g. （2026）辽0102执1234号")
    q.add_argument("--ruled-on", required=True, type=iso_date, metavar="YYYY-MM-DD", help="the ruling's date")
    if until:
        q.add_argument("--until", type=iso_date, metavar="YYYY-MM-DD", help=until)
    q.add_argument("--wait", type=_seconds, default=0, metavar="SECONDS",
                   help="wait up to SECONDS for the agency's answer (default 0: print the queued measure)")
    q.add_argument("--json", action="store_true", help="the API's answer as JSON")
    add_connection_options(q)
    q.set_defaults(func=cmd_act)


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

    for kind, assets, help_text in (
            ("freeze", ("bank_account", "securities_holding"),
             "freeze a bank account (an amount or the whole) or a securities holding / 冻结"),
            ("seal", ("vehicle", "real_estate"), "seal a vehicle or real estate / 查封")):
        q = actions.add_parser(kind, help=help_text, epilog=EXIT_CODES_HELP,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        q.add_argument("--case", type=_positive, required=True, help="case id")
        q.add_argument("--asset-kind", choices=assets, required=kind == "seal",
                       default="bank_account" if kind == "freeze" else None,
                       help="the dossier entry's kind" + (" (default bank_account)" if kind == "freeze" else ""))
        q.add_argument("--key", required=True, metavar="NATURAL_KEY",
                       help="the dossier entry's natural key (a bank account: BANK:NUMBER:CURRENCY; a vehicle: VIN)")
        if kind == "freeze":
            how = q.add_mutually_exclusive_group(required=True)
            how.add_argument("--amount", type=_amount, metavar="YUAN", help="the amount to freeze, in yuan")
            how.add_argument("--whole", action="store_true",
                             help="the whole account, or the whole securities holding")
        _act_options(q, until="the expiry asked for (default: the legal term)")

    q = actions.add_parser("renew", help="renew a freeze or seal before it expires / 续行（续冻、续封）",
                           epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("measure_id", type=_positive, help="the freeze or seal")
    _act_options(q, until="the new expiry (default: the legal term from the old one)")
    q = actions.add_parser("release", help="release a freeze or seal / 解除（解冻、解封）",
                           epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("measure_id", type=_positive, help="the freeze or seal")
    _act_options(q, until=None)
    q = actions.add_parser("deduct", help="deduct from a freeze to the court's case-funds account / 扣划",
                           epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("measure_id", type=_positive, help="the freeze of a bank account")
    q.add_argument("--amount", type=_amount, required=True, metavar="YUAN", help="the amount to deduct, in yuan")
    _act_options(q, until=None)


__all__ = ["print_list", "print_one", "register"]
