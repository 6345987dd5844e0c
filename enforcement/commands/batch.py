"""``enforcement batch``: bulk searches from a CSV file, through the API.

    enforcement batch submit debtors.csv [--purpose 财产调查] [--fresh] [--results out.csv]
    enforcement batch status BATCH_ID

The CSV has a header row naming its columns (English or Chinese): ``case_id`` (案件ID),
``id_number`` (证件号码), ``name`` (名称/姓名), and optionally ``kind`` (主体类型: person/个人,
organization/单位; default person), ``purpose`` (查询事由), ``force_fresh``, ``document_number``,
``date_from``, ``date_to``. Excel's UTF-8 (with BOM) is fine. The file goes to
``POST /api/v1/searches:batch`` as NDJSON; a refused row is reported with its line number;
then a progress bar follows the batch until every search has ended.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from enforcement.domain.privacy import mask_id_number
from enforcement.kernel.settings import Settings

COLUMNS: dict[str, tuple[str, ...]] = {
    "case_id": ("case_id", "案件id", "案件编号", "案件"),
    "kind": ("kind", "主体类型", "类型"),
    "id_number": ("id_number", "证件号码", "身份证号", "统一社会信用代码"),
    "name": ("name", "名称", "姓名"),
    "purpose": ("purpose", "查询事由", "事由"),
    "force_fresh": ("force_fresh", "重新查询"),
    "document_number": ("document_number", "文书号", "协助查询通知书"),
    "date_from": ("date_from", "起始日期"),
    "date_to": ("date_to", "截止日期"),
}
KINDS = {"person": "person", "个人": "person", "自然人": "person", "organization": "organization",
         "单位": "organization", "法人": "organization", "企业": "organization"}
TRUE = {"1", "true", "yes", "y", "是"}


class CsvProblem(ValueError):
    """The file cannot become a bulk search; the message names the line."""


def read_subjects_csv(text: str, *, purpose: str | None = None, fresh: bool = False) -> list[dict[str, Any]]:
    """The rows of the CSV as search requests, in order; raises CsvProblem naming the line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None:
        raise CsvProblem("the file is empty / 文件为空")
    names = [h.strip().lower() for h in header]
    where: dict[str, int] = {}
    for key, aliases in COLUMNS.items():
        for i, name in enumerate(names):
            if name in aliases:
                where[key] = i
                break
    missing = [k for k in ("case_id", "id_number", "name") if k not in where]
    if missing:
        raise CsvProblem(f"line 1: missing column(s) {', '.join(missing)} / 缺少列：{'、'.join(missing)}")
    rows: list[dict[str, Any]] = []
    for line, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue

        def cell(key: str, record: Sequence[str] = record) -> str:
            i = where.get(key)
            return record[i].strip() if i is not None and i < len(record) else ""

        try:
            case_id = int(cell("case_id"))
        except ValueError as exc:
            raise CsvProblem(f"line {line}: case_id must be a number / 第{line}行：案件ID须为数字") from exc
        kind = KINDS.get(cell("kind").lower() or "person")
        if kind is None:
            raise CsvProblem(f"line {line}: kind must be person or organization / 第{line}行：主体类型须为个人或单位")
        row: dict[str, Any] = {
            "case_id": case_id,
            "subject": {"kind": kind, "id_number": cell("id_number"), "name": cell("name")},
            "purpose": cell("purpose") or purpose or "财产调查",
            "force_fresh": fresh or cell("force_fresh").lower() in TRUE,
        }
        for optional in ("document_number", "date_from", "date_to"):
            if cell(optional):
                row[optional] = cell(optional)
        row["_line"] = line
        rows.append(row)
    if not rows:
        raise CsvProblem("no subject in the file / 文件中没有查询对象")
    return rows


def progress_bar(done: int, total: int, *, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    percent = 100 * done / total if total else 100.0
    return f"[{'#' * filled}{'.' * (width - filled)}] {percent:5.1f}% {done}/{total}"


def progress_text(progress: Mapping[str, Any]) -> str:
    tasks = progress.get("tasks", {})
    detail = ", ".join(f"{n} {status}" for status, n in sorted(tasks.items()))
    return f"{progress_bar(int(progress['completed']), int(progress['total']))} searches done ({detail})"


def _token(args: argparse.Namespace, settings: Settings) -> str:
    if args.token:
        return str(args.token)
    from enforcement.api.auth import DemoIssuer

    return DemoIssuer(settings.data_dir / "keys").issue(settings, args.user, "judge")


def _refusal(status: int, answer: Any, rows: Sequence[Mapping[str, Any]], out: TextIO) -> None:
    err = answer.get("error", {}) if isinstance(answer, Mapping) else {}
    message = err.get("message", {})
    print(f"refused ({status}) {err.get('code')}: {message.get('zh')} / {message.get('en')}", file=out)
    for bad in err.get("details", {}).get("invalid", []):
        index = int(bad["index"])
        row = rows[index] if 0 <= index < len(rows) else {}
        number = row.get("subject", {}).get("id_number", "") if isinstance(row, Mapping) else ""
        print(f"  line {row.get('_line', index + 2)} ({mask_id_number(number) if number else '-'}): "
              f"{bad['code']} — {bad['message']['zh']} / {bad['message']['en']}", file=out)


async def follow(session: aiohttp.ClientSession, base: str, url: str, *, interval: float, give_up_after: float,
                 out: TextIO) -> dict[str, Any]:
    """Poll the batch until every search has ended; a bar on a terminal, a line a while otherwise."""
    tty = out.isatty()
    deadline = time.monotonic() + give_up_after
    last_line = 0.0
    while True:
        async with session.get(f"{base}{url}") as resp:
            progress: dict[str, Any] = await resp.json()
            if resp.status != 200:
                raise RuntimeError(f"progress refused ({resp.status}): {progress}")
        text = progress_text(progress)
        finished = progress["status"] == "completed"
        if tty:
            print("\r" + text, end="\n" if finished else "", file=out, flush=True)
        elif finished or time.monotonic() - last_line >= 5:
            print(text, file=out, flush=True)
            last_line = time.monotonic()
        if finished or time.monotonic() > deadline:
            return progress
        await asyncio.sleep(interval)


async def _write_results(session: aiohttp.ClientSession, base: str, results_url: str,
                         rows: Sequence[Mapping[str, Any]], path: Path) -> int:
    written = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["line", "search_id", "status", "record_count", "agencies"])
        url: str | None = f"{results_url}?offset=0&limit=1000"
        while url:
            async with session.get(f"{base}{url}") as resp:
                page = await resp.json()
            for item in page["items"]:
                agencies = ";".join(f"{a['agency']}={a['status']}" for a in item["agencies"])
                writer.writerow([rows[item["index"]].get("_line"), item["search_id"], item["status"],
                                 item["record_count"], agencies])
                written += 1
            url = page["next"]
    return written


def cmd_submit(args: argparse.Namespace) -> int:
    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
        rows = read_subjects_csv(text, purpose=args.purpose, fresh=args.fresh)
    except (OSError, UnicodeDecodeError, CsvProblem) as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_submit(args, rows))


async def _submit(args: argparse.Namespace, rows: Sequence[Mapping[str, Any]]) -> int:
    out = sys.stderr
    settings = Settings.from_env()
    base = args.url.rstrip("/")
    body = "".join(json.dumps({k: v for k, v in r.items() if k != "_line"}, ensure_ascii=False) + "\n"
                   for r in rows).encode()
    headers = {"Authorization": f"Bearer {_token(args, settings)}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{base}/api/v1/searches:batch", data=io.BytesIO(body),
                                headers={"Content-Type": "application/x-ndjson"}) as resp:
            answer = await resp.json()
            if resp.status != 202:
                _refusal(resp.status, answer, rows, out)
                return 1
        print(f"batch {answer['id']}: {answer['total']} subjects accepted "
              f"({answer['queued_tasks']} agency queries queued, {answer['reused_tasks']} answered from "
              f"stored answers)", file=out, flush=True)
        print(answer["id"])
        if args.no_wait:
            return 0
        progress = await follow(session, base, answer["url"], interval=args.interval, give_up_after=args.timeout,
                                out=out)
        if args.results:
            n = await _write_results(session, base, answer["results_url"], rows, Path(args.results))
            print(f"results of {n} subjects written to {args.results}", file=out)
    return 0 if progress["status"] == "completed" else 3


async def _status(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    headers = {"Authorization": f"Bearer {_token(args, settings)}"}
    url = f"{args.url.rstrip('/')}/api/v1/searches:batch/{args.batch_id}"
    async with aiohttp.ClientSession(headers=headers) as session, session.get(url) as resp:
        progress = await resp.json()
        if resp.status != 200:
            _refusal(resp.status, progress, [], sys.stderr)
            return 1
    print(progress_text(progress))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("batch", help="bulk searches from a CSV file, with a progress bar")
    bsub = p.add_subparsers(dest="batch_command", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--user", default="zhangwei", help="demo user to issue a token for")
        q.add_argument("--token", default=os.environ.get("ENFORCEMENT_TOKEN"), help="bearer token (else demo issuer)")
        q.add_argument("--url", default=os.environ.get("ENFORCEMENT_URL", "http://127.0.0.1:8080"))

    s = bsub.add_parser("submit", help="submit FILE.csv and follow it to the end")
    s.add_argument("file", help="CSV: case_id, id_number, name[, kind, purpose, force_fresh, ...]")
    s.add_argument("--purpose", help="purpose for rows that name none (default 财产调查)")
    s.add_argument("--fresh", action="store_true", help="ask every agency again (no reuse)")
    s.add_argument("--results", help="write per-subject results to this CSV when done")
    s.add_argument("--no-wait", action="store_true", help="print the batch id and return")
    s.add_argument("--interval", type=float, default=1.0, help="seconds between progress reads")
    s.add_argument("--timeout", type=float, default=24 * 3600.0, help="give up following after this many seconds")
    common(s)
    s.set_defaults(func=cmd_submit)
    t = bsub.add_parser("status", help="a batch's progress")
    t.add_argument("batch_id")
    common(t)
    t.set_defaults(func=lambda args: asyncio.run(_status(args)))


__all__ = ["CsvProblem", "follow", "progress_bar", "progress_text", "read_subjects_csv", "register"]
