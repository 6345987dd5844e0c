"""``enforcement search``: submit a search through the API and print the dossier as it fills in,
agency by agency (follows the search's event stream)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

import aiohttp

from enforcement.domain.dossier import kind_label
from enforcement.domain.privacy import mask_id_number
from enforcement.kernel.settings import Settings

STATUS_ZH = {
    "queued": "排队", "running": "查询中", "waiting": "已受理待反馈", "succeeded": "已反馈",
    "rejected": "被拒绝", "failed": "失败", "expired": "已超期", "reused": "复用",
}


def _token(args: argparse.Namespace, settings: Settings) -> str:
    if args.token:
        return str(args.token)
    from enforcement.api.auth import DemoIssuer

    return DemoIssuer(settings.data_dir / "keys").issue(settings, args.user, "judge")


def _summary(view: dict[str, Any], agency: str) -> str:
    entries = view["dossier"]["sections"]
    kinds = [k for k, v in entries.items() if any(p["agency"] == agency for e in v for p in e["provenance"])]
    parts = []
    for kind in kinds:
        n = sum(1 for e in entries[kind] if any(p["agency"] == agency for p in e["provenance"]))
        new = sum(1 for e in entries[kind] if e["is_new"] and any(p["agency"] == agency for p in e["provenance"]))
        parts.append(f"{kind_label(kind)[0]}×{n}" + (f"（新增{new}）" if new else ""))
    return "、".join(parts) or "查无信息"


def totals_line(kind: str, totals: dict[str, Any]) -> str:
    """One dossier section's totals, under its Chinese / English name."""
    zh, en = kind_label(kind)
    return f"{zh} / {en} ({kind}): {json.dumps(totals, ensure_ascii=False)}"


async def _run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    base = args.url.rstrip("/")
    headers = {"Authorization": f"Bearer {_token(args, settings)}"}
    body = {
        "case_id": args.case,
        "subject": {"kind": args.kind, "id_number": args.id_number, "name": args.name},
        "purpose": args.purpose,
        "force_fresh": args.fresh,
    }
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{base}/api/v1/searches", json=body) as resp:
            answer = await resp.json()
            if resp.status != 202:
                err = answer.get("error", {})
                print(f"refused ({resp.status}) {err.get('code')}: {err.get('message', {}).get('zh')} / "
                      f"{err.get('message', {}).get('en')}", file=sys.stderr)
                return 1
        print(f"search {answer['id']} for {mask_id_number(args.id_number)} accepted; agencies: "
              + ", ".join(a["agency"] for a in answer["agencies"]))
        shown: set[tuple[str, str]] = set()
        timeout = aiohttp.ClientTimeout(total=args.timeout, sock_read=None)
        async with session.get(f"{base}{answer['events_url']}", timeout=timeout) as stream:
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
                            view = await r.json()
                        detail = _summary(view, agency) if status == "succeeded" else (data.get("error_code") or "")
                        print(f"  {agency:<18} {STATUS_ZH.get(status, status):<8} {detail}", flush=True)
        async with session.get(f"{base}{answer['url']}") as r:
            view = await r.json()
    if args.json:
        print(json.dumps(view, ensure_ascii=False, indent=2))
    else:
        d = view["dossier"]
        print(f"dossier: {d['entry_count']} entries, {d['new_count']} new since the previous search")
        for kind, totals in d["totals"].items():
            print(f"  {totals_line(kind, totals)}")
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
    p.add_argument("--user", default="zhangwei", help="demo user to issue a token for")
    p.add_argument("--token", default=os.environ.get("ENFORCEMENT_TOKEN"), help="bearer token (else demo issuer)")
    p.add_argument("--url", default=os.environ.get("ENFORCEMENT_URL", "http://127.0.0.1:8080"))
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--json", action="store_true", help="print the final search as JSON")
    p.set_defaults(func=cmd_search)
