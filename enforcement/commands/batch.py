"""``enforcement batch``: bulk searches from a CSV file, through the API.

    enforcement batch submit debtors.csv [--purpose 财产调查] [--fresh] [--results out.csv]
    enforcement batch status BATCH_ID

The CSV has a header row naming its columns (English or Chinese): ``case_id`` (案件ID),
``id_number`` (证件号码), ``name`` (名称/姓名), and optionally ``kind`` (主体类型: person/个人,
organization/单位; default person), ``purpose`` (查询事由), ``force_fresh``, ``document_number``,
``date_from``, ``date_to``. UTF-8 (with or without Excel's BOM) and GBK/GB18030 (Excel's "CSV" on
Chinese Windows) are read alike. The file goes to ``POST /api/v1/searches:batch`` as NDJSON.
Bad rows are reported by line and the others are searched: a row the CSV itself gets wrong is
left out before sending; the API takes a batch whole or not at all, so when it refuses rows
(``batch_invalid``, each named) the command reports them and sends the rest again (decision
1801). ``--all-or-nothing`` submits nothing when any row is bad. A progress bar then counts the
agencies' answers as they arrive, and the searches done, until every search has ended.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from enforcement.commands.api_client import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    add_connection_options,
    bearer_token,
    expect,
    read_json,
    refusal,
)
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


def decode_csv(data: bytes) -> str:
    """The file's text: UTF-8 (with or without Excel's BOM), else GB18030 (a superset of GBK, what
    Excel on Chinese Windows saves as "CSV"); raises CsvProblem when it is neither."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CsvProblem("the file is neither UTF-8 nor GBK/GB18030 text / 文件编码无法识别（应为 UTF-8 或 GBK）")


def read_subjects_csv(text: str, *, purpose: str | None = None, fresh: bool = False,
                      problems: list[str] | None = None) -> list[dict[str, Any]]:
    """The rows of the CSV as search requests, in order. A bad row is named in ``problems`` (by its
    line) and left out when ``problems`` is given; else it raises CsvProblem. A file with no
    usable header or no row at all raises CsvProblem."""
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

        problem = None
        try:
            case_id = int(cell("case_id"))
        except ValueError:
            problem = f"line {line}: case_id must be a number / 第{line}行：案件ID须为数字"
        kind = KINDS.get(cell("kind").lower() or "person")
        if problem is None and kind is None:
            problem = f"line {line}: kind must be person or organization / 第{line}行：主体类型须为个人或单位"
        if problem is not None:
            if problems is None:
                raise CsvProblem(problem)
            problems.append(problem)
            continue
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
        raise CsvProblem("no usable subject in the file / 文件中没有可查询的对象")
    return rows


def progress_bar(done: int, total: int, *, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    percent = 100 * done / total if total else 100.0
    return f"[{'#' * filled}{'.' * (width - filled)}] {percent:5.1f}% {done}/{total}"


# An agency task that has its answer (or its final refusal); a bank that accepted and will answer
# in days ("waiting") has answered for now.
ANSWERED = ("succeeded", "rejected", "failed", "expired", "waiting")


def progress_text(progress: Mapping[str, Any]) -> str:
    """The bar counts agency answers, which arrive long before the last debtor's search ends."""
    tasks = progress.get("tasks", {})
    answered = sum(int(n) for status, n in tasks.items() if status in ANSWERED)
    detail = ", ".join(f"{n} {status}" for status, n in sorted(tasks.items()))
    return (f"{progress_bar(answered, sum(int(n) for n in tasks.values()))} agency answers · "
            f"{progress['completed']}/{progress['total']} searches done ({detail})")


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
            progress: dict[str, Any] = await expect(resp, 200)
        text = progress_text(progress)
        finished = progress["status"] == "completed"
        if tty:
            print("\r" + text + "\x1b[K", end="\n" if finished else "", file=out, flush=True)
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
    problems: list[str] = []
    try:
        text = decode_csv(Path(args.file).read_bytes())
        rows = read_subjects_csv(text, purpose=args.purpose, fresh=args.fresh,
                                 problems=None if args.all_or_nothing else problems)
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror} / 无法读取文件", file=sys.stderr)
        return EXIT_USAGE
    except CsvProblem as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for problem in problems:
        print(f"  skipped 已跳过 {problem}", file=sys.stderr)
    code = asyncio.run(_submit(args, rows))
    return EXIT_FAILURE if code == EXIT_OK and problems else code


async def _submit(args: argparse.Namespace, rows: list[dict[str, Any]]) -> int:
    out = sys.stderr
    settings = Settings.from_env()
    base = args.url.rstrip("/")
    body = _ndjson(rows)
    headers = {"Authorization": f"Bearer {bearer_token(args, settings)}"}
    refused_rows = 0
    async with aiohttp.ClientSession(headers=headers) as session:
        while True:
            async with session.post(f"{base}/api/v1/searches:batch", data=io.BytesIO(body),
                                    headers={"Content-Type": "application/x-ndjson"}) as resp:
                answer = await read_json(resp)
            if resp.status == 202:
                break
            _refusal(resp.status, answer, rows, out)
            bad = _invalid_indexes(resp.status, answer)
            if args.all_or_nothing or bad is None:
                raise refusal(resp.status, answer)
            # The API takes a batch whole or not at all: send again without the rows it named.
            refused_rows += len(bad)
            rows = [r for i, r in enumerate(rows) if i not in bad]
            if not rows:
                print("no row left to submit / 没有可提交的行", file=out)
                return EXIT_USAGE
            print(f"submitting the other {len(rows)} row(s) / 提交其余 {len(rows)} 行", file=out, flush=True)
            body = _ndjson(rows)
        print(f"batch {answer['id']}: {answer['total']} subjects accepted "
              f"({answer['queued_tasks']} agency queries queued, {answer['reused_tasks']} answered from "
              f"stored answers)", file=out, flush=True)
        print(answer["id"])
        if args.no_wait:
            return EXIT_FAILURE if refused_rows else EXIT_OK
        progress = await follow(session, base, answer["url"], interval=args.interval, give_up_after=args.timeout,
                                out=out)
        if args.results:
            n = await _write_results(session, base, answer["results_url"], rows, Path(args.results))
            print(f"results of {n} subjects written to {args.results}", file=out)
    if progress["status"] != "completed":
        return EXIT_UNREACHABLE
    return EXIT_FAILURE if refused_rows else EXIT_OK


def _ndjson(rows: Sequence[Mapping[str, Any]]) -> bytes:
    return "".join(json.dumps({k: v for k, v in r.items() if k != "_line"}, ensure_ascii=False) + "\n"
                   for r in rows).encode()


def _invalid_indexes(status: int, answer: Any) -> set[int] | None:
    """The rows a ``batch_invalid`` refusal names, when it names every bad row; else None."""
    err = answer.get("error", {}) if isinstance(answer, Mapping) else {}
    details = err.get("details", {}) if isinstance(err, Mapping) else {}
    if status != 422 or err.get("code") != "batch_invalid" or not isinstance(details, Mapping):
        return None
    invalid = details.get("invalid", [])
    if not invalid or len(invalid) != details.get("invalid_count"):
        return None
    return {int(item["index"]) for item in invalid}


async def _status(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    headers = {"Authorization": f"Bearer {bearer_token(args, settings)}"}
    url = f"{args.url.rstrip('/')}/api/v1/searches:batch/{args.batch_id}"
    async with aiohttp.ClientSession(headers=headers) as session, session.get(url) as resp:
        progress = await expect(resp, 200)
    print(progress_text(progress))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("batch", help="bulk searches from a CSV file, with a progress bar")
    bsub = p.add_subparsers(dest="batch_command", required=True)

    common = add_connection_options

    s = bsub.add_parser("submit", help="submit FILE.csv and follow it to the end")
    s.add_argument("file", help="CSV: case_id, id_number, name[, kind, purpose, force_fresh, ...]")
    s.add_argument("--purpose", help="purpose for rows that name none (default 财产调查)")
    s.add_argument("--fresh", action="store_true", help="ask every agency again (no reuse)")
    s.add_argument("--results", help="write per-subject results to this CSV when done")
    s.add_argument("--no-wait", action="store_true", help="print the batch id and return")
    s.add_argument("--all-or-nothing", action="store_true",
                   help="submit nothing when a row is bad (default: report the bad rows by line, submit the others)")
    s.add_argument("--interval", type=float, default=1.0, help="seconds between progress reads")
    s.add_argument("--timeout", type=float, default=24 * 3600.0, help="give up following after this many seconds")
    common(s)
    s.set_defaults(func=cmd_submit)
    t = bsub.add_parser("status", help="a batch's progress")
    t.add_argument("batch_id")
    common(t)
    t.set_defaults(func=lambda args: asyncio.run(_status(args)))


__all__ = ["CsvProblem", "follow", "progress_bar", "progress_text", "read_subjects_csv", "register"]
