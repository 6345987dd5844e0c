"""Helpers for the agency-behaviour tests (issue 3): simulator control over HTTP, many debtors
for bulk searches, waiting with a bound, and reading the service's logs."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from enforcement.domain.identifiers import make_resident_id

AGENCIES = ("banks", "exit_entry", "hotels", "social_insurance", "vehicles")
TERMINAL = {"succeeded", "rejected", "failed", "expired"}


async def sim_config(url: str, **config: Any) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.post(f"{url}/_sim/config", json=config) as r:
        assert r.status == 200, await r.text()
        body: dict[str, Any] = await r.json()
        return body


async def sim_stats(url: str, path: str = "/_sim/stats") -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}{path}") as r:
        body: dict[str, Any] = await r.json()
        return body


async def wait_until(
    check: Callable[[], Awaitable[Any]], *, timeout: float, interval: float = 0.1, what: str = "condition"
) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{what} not reached in {timeout}s (last: {last!r})")


@dataclass(frozen=True)
class Debtor:
    kind: str
    id_number: str
    name: str

    def subject(self) -> dict[str, str]:
        return {"kind": self.kind, "id_number": self.id_number, "name": self.name}


def make_debtors(n: int, *, start: int = 0) -> list[Debtor]:
    """``n`` people with valid, distinct resident IDs."""
    out = []
    for i in range(start, start + n):
        birth = date(1960, 1, 1) + timedelta(days=(i // 400) * 7 + 1)
        seq = i % 400 + 100
        out.append(Debtor("person", make_resident_id("210102", birth, seq), f"测试{i:05d}"))
    return out


async def case_with_debtors(
    pool: asyncpg.Pool, debtors: Sequence[Debtor], *, judge: str = "zhangwei", court: str = "辽0102",
    number: str | None = None,
) -> int:
    """An open case held by ``judge`` whose debtors are ``debtors``; returns its id."""
    number = number or f"（2026）{court}执{int(time.time() * 1000) % 10_000_000:07d}号"
    async with pool.acquire() as conn, conn.transaction():
        case_id: int = await conn.fetchval(
            """INSERT INTO enforcement_case (case_number, court_code, case_type, judge_login, applicant_name,
                                             amount_to_enforce, filed_on)
               VALUES ($1, $2, '执', $3, '批量测试申请人', 1000, current_date - 100) RETURNING id""",
            number, court, judge,
        )
        await conn.execute(
            """INSERT INTO case_party (case_id, role, kind, id_number, name)
               SELECT $1, 'debtor', k, i, n FROM unnest($2::text[], $3::text[], $4::text[]) AS u(k, i, n)""",
            case_id, [d.kind for d in debtors], [d.id_number for d in debtors], [d.name for d in debtors],
        )
    return case_id


def batch_rows(case_id: int, debtors: Iterable[Debtor], **extra: Any) -> list[dict[str, Any]]:
    return [{"case_id": case_id, "subject": d.subject(), **extra} for d in debtors]


async def task_states(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch("SELECT status, count(*) AS n FROM agency_task GROUP BY status")
    return {r["status"]: r["n"] for r in rows}


async def unfinished_searches(pool: asyncpg.Pool) -> int:
    n: int = await pool.fetchval("SELECT count(*) FROM search WHERE status <> 'completed'")
    return n


def json_log_events(path: Path) -> list[dict[str, Any]]:
    """The JSON log lines a service process wrote (other lines are skipped)."""
    events = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events


def errors_in(events: Iterable[dict[str, Any]], *, expected: Iterable[str] = ()) -> list[dict[str, Any]]:
    """error-level events other than the expected ones (by event name)."""
    allowed = set(expected)
    return [e for e in events if level_of(e) in ("error", "critical") and e.get("event") not in allowed]


def level_of(event: dict[str, Any]) -> str:
    """A log event's level: ``level`` in the JSON logs, ``log_level`` in structlog's capture."""
    return str(event.get("level") or event.get("log_level") or "")


def fast_policy(**extra: str) -> dict[str, str]:
    """Per-agency overrides that keep fault tests short: sub-second timeouts and backoffs."""
    base = {
        "timeout_seconds": "0.5",
        "max_attempts": "3",
        "initial_backoff_seconds": "0.05",
        "max_backoff_seconds": "0.3",
        "deadline_seconds": "40",
        "rate_per_second": "500",
        "breaker_open_seconds": "0.5",
        "batch_wait_seconds": "0.05",
    }
    base.update(extra)
    return base


def overrides_for(agencies: Iterable[str], **extra: str) -> dict[str, dict[str, str]]:
    return {a: fast_policy(**extra) for a in agencies}


def env_overrides(overrides: dict[str, dict[str, str]]) -> dict[str, str]:
    """The same overrides as ``AGENCY_<NAME>_<FIELD>`` environment variables (for processes)."""
    return {f"AGENCY_{a.upper()}_{k.upper()}": v for a, fields in overrides.items() for k, v in fields.items()}
