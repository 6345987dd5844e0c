"""``enforcement search``: submit a search through the API, print each agency as it answers
(follows the search's event stream), then each agency's answer and the records found, one table
per kind, Chinese headings, times in Beijing time. The words (kind, field and coded value names)
are the record kinds' own, from their JSON Schemas (``connectors.sdk.record_labels``), the same
the workbench shows. ``--json``: the search as JSON alone on
stdout, the progress on stderr."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
from decimal import Decimal, InvalidOperation
from typing import Any

import aiohttp

from connectors.sdk.record_labels import FieldLabels, display_value, kind_labels, kind_name
from enforcement.commands import text_table
from enforcement.commands.api_client import add_connection_options, bearer_token, expect
from enforcement.commands.text_table import beijing_time
from enforcement.domain.privacy import mask_id_number
from enforcement.kernel.settings import Settings

STATUS_ZH = {
    "queued": "排队", "running": "查询中", "waiting": "已受理待反馈", "succeeded": "已反馈",
    "rejected": "被拒绝", "failed": "失败", "expired": "已超期", "reused": "复用",
}


def _summary(view: dict[str, Any], agency: str) -> str:
    entries = view["dossier"]["sections"]
    parts = []
    for kind, section in entries.items():
        mine = [e for e in section if any(p["agency"] == agency for p in e["provenance"])]
        if mine:
            new = sum(1 for e in mine if e["is_new"])
            parts.append(f"{kind_name(kind)}×{len(mine)}" + (f"（新增{new}）" if new else ""))
    return "、".join(parts) or "查无信息"


def _agency_name(view: dict[str, Any], agency: str) -> str:
    task = next((a for a in view.get("agencies", []) if a["agency"] == agency), None)
    name = (task or {}).get("name") or {}
    return str(name.get("zh") or agency)


def answers_table(view: dict[str, Any]) -> list[str]:
    """Each agency's answer: who, state, when (Beijing time), how many records or why not."""
    rows = []
    for a in view["agencies"]:
        state = STATUS_ZH.get(a["state"], a["state"])
        if a["status"] == "succeeded":
            detail = f"{a['record_count']} 条" if a.get("record_count") else "查无信息"
        else:
            detail = (a.get("error") or {}).get("code") or ""
        rows.append([_agency_name(view, a["agency"]), a["agency"], state,
                     beijing_time(a.get("answered_at") or a.get("finished_at")), detail])
    return text_table.render(["查询单位", "代码", "状态", "答复时间（北京时间）", "结果"], rows)


def money(value: Any, currency: str | None = "CNY") -> str:
    """``¥1,234,567.89`` (another currency: its code first)."""
    try:
        amount = f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError):
        return str(value)
    return f"¥{amount}" if currency in (None, "", "CNY") else f"{currency} {amount}"


def _cell(field: FieldLabels, value: Any, data: dict[str, Any]) -> str:
    """A value as the workbench shows it (是/否, a code's words, ¥ amounts), times in Beijing time,
    an amount in another currency with its code."""
    if value is None or value == "":
        return "—"
    if field.format == "datetime":
        return beijing_time(value)
    if field.format == "money" and not field.values:
        return money(value, data.get("currency"))
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return "；".join(display_value(field, v) for v in value)
    return display_value(field, value)


def _fields(kind: str, data: dict[str, Any]) -> tuple[FieldLabels, ...]:
    """The kind's fields in its schema's order; a field the schema lacks, by its key (a test
    fails on that for every registered kind)."""
    known = kind_labels(kind).fields
    names = {f.name for f in known}
    return known + tuple(FieldLabels(n, n, n) for n in data if n not in names)


def records_tables(view: dict[str, Any], *, columns: int | None = None) -> list[str]:
    """The dossier, one table per kind of record, Chinese headings, times in Beijing time; a kind
    whose table is wider than the terminal is printed one record at a time, a field a line."""
    width = columns or shutil.get_terminal_size((120, 40)).columns
    lines: list[str] = []
    for kind, section in view["dossier"]["sections"].items():
        if not section:
            continue
        fields = _fields(kind, section[0]["data"])
        headers = ["新", *(f.zh for f in fields), "答复时间"]
        rows = []
        for e in section:
            latest = e["provenance"][0] if e["provenance"] else {}
            rows.append(["新" if e["is_new"] else "", *(_cell(f, e["data"].get(f.name), e["data"]) for f in fields),
                         beijing_time(latest.get("answered_at"))])
        agencies = sorted({_agency_name(view, p["agency"]) for e in section for p in e["provenance"][:1]})
        lines += ["", f"{kind_name(kind)}（{len(section)} 项，来源：{'、'.join(agencies)}）"]
        table = text_table.render(headers, rows)
        if max(text_table.display_width(x) for x in table) <= width:
            lines += table
            continue
        label_width = max(text_table.display_width(h) for h in headers)
        for i, row in enumerate(rows, start=1):
            lines.append(f"  [{i}]" + ("  新" if row[0] else ""))
            lines += [f"    {text_table.pad(h, label_width)}  {c}" for h, c in zip(headers[1:], row[1:], strict=True)]
    return lines


async def _run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    base = args.url.rstrip("/")
    # --json: stdout is the JSON alone; what a person reads goes to stderr.
    say = sys.stderr if args.json else sys.stdout
    headers = {"Authorization": f"Bearer {bearer_token(args, settings)}"}
    body = {
        "case_id": args.case,
        "subject": {"kind": args.kind, "id_number": args.id_number, "name": args.name},
        "purpose": args.purpose,
        "force_fresh": args.fresh,
    }
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{base}/api/v1/searches", json=body) as resp:
            answer = await expect(resp, 202)
        print(f"查询 {answer['id']} 已受理（{mask_id_number(args.id_number)}），查询单位 / search accepted, agencies: "
              + ", ".join(a["agency"] for a in answer["agencies"]), file=say, flush=True)
        shown: set[tuple[str, str]] = set()
        timeout = aiohttp.ClientTimeout(total=args.timeout, sock_read=None)
        async with session.get(f"{base}{answer['events_url']}", timeout=timeout) as stream:
            if stream.status != 200:
                await expect(stream, 200)
            kind = ""
            async for raw in stream.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
                    if kind == "search_completed":
                        break
                    agency, status = data.get("agency"), data.get("status")
                    if status in ("succeeded", "rejected", "failed", "expired", "waiting") and \
                            (agency, status) not in shown:
                        shown.add((agency, status))
                        async with session.get(f"{base}{answer['url']}") as r:
                            view = await expect(r, 200)
                        detail = _summary(view, agency) if status == "succeeded" else (data.get("error_code") or "")
                        state = text_table.pad(STATUS_ZH.get(status, status), 12)
                        print(f"  {text_table.pad(str(agency), 18)} {state} {detail}", file=say, flush=True)
        async with session.get(f"{base}{answer['url']}") as r:
            view = await expect(r, 200)
    if args.json:
        print(json.dumps(view, ensure_ascii=False, indent=2))
        return 0
    d = view["dossier"]
    lines = ["", f"查询 {view['id']}  案号 {view['case_number']}  被执行人 {view['subject'].get('name', '')} "
                 f"{mask_id_number(args.id_number)}",
             f"发起 {beijing_time(view['created_at'], seconds=True)}  "
             f"完成 {beijing_time(view['completed_at'], seconds=True)}（北京时间）",
             "", "各单位答复 / answers:", *answers_table(view),
             "", f"dossier: 共 {d['entry_count']} 项，较上次查询新增 {d['new_count']} 项 / "
                 f"{d['entry_count']} entries, {d['new_count']} new since the previous search",
             *records_tables(view)]
    print("\n".join(lines))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


def register(sub: Any) -> None:
    p = sub.add_parser("search", help="search a debtor through the API and print the dossier as it fills in")
    p.add_argument("--case", type=int, required=True, help="case id")
    p.add_argument("--id-number", required=True, help="resident ID or unified social credit code")
    p.add_argument("--name", required=True)
    p.add_argument("--kind", choices=["person", "organization"], default="person")
    p.add_argument("--purpose", default="财产调查")
    p.add_argument("--fresh", action="store_true", help="ask every agency again (no reuse)")
    add_connection_options(p)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--json", action="store_true",
                   help="print the final search as JSON on stdout only (progress goes to stderr)")
    p.set_defaults(func=cmd_search)
