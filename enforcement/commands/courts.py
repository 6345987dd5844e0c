"""``enforcement courts``: the court-level choices a court's IT sets on the database.

    enforcement courts list
    enforcement courts set 2101 --deduction-approval-yuan 50000
    enforcement courts set 2101 --renewal-notice-days 30
    enforcement courts set 2101 --deduction-approval-yuan default --renewal-notice-days default

A deduction above the court's amount waits for a supervisor's approval before it is sent to the
bank (issue 17); a court without its own amount uses ``MEASURE_DEDUCTION_APPROVAL_YUAN``. A
control's renewal is due, and alerted, the court's notice days before its expiry (1 to 90 days,
decision 1704); a court without its own uses ``MEASURE_RENEWAL_NOTICE_DAYS``. A change is written
with its audit record in one transaction (action ``court_setting``, role ``operator``, the login
from ``ENFORCEMENT_OPERATOR`` or the shell user; one record per setting changed), so a change not
recorded does not happen. Exit codes: 0 done, 2 bad input (an unknown court, an amount that is not
a sum of yuan, notice days not a whole number from 1 to 90, nothing to set); bad input changes
nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import re
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from enforcement.commands import text_table
from enforcement.kernel.settings import Settings

EXIT_BAD_INPUT = 2
# The range the database's CHECK on court.measure_renewal_notice_days holds (migration 0034).
NOTICE_DAYS_MIN, NOTICE_DAYS_MAX = 1, 90
_WHOLE = re.compile(r"[0-9]{1,6}")


def parse_yuan(raw: str) -> Decimal | None:
    """``default`` (the global setting) or a non-negative sum of yuan with at most two decimals."""
    if raw.strip().lower() == "default":
        return None
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ValueError(f"金额应为元数或 default / the amount must be yuan or 'default': {raw!r}") from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")) or value >= Decimal("1e14"):
        raise ValueError(f"金额应为不小于 0、至多两位小数的元数 / the amount must be >= 0 yuan with at most "
                         f"two decimals: {raw!r}")
    return value.quantize(Decimal("0.01"))


def parse_notice_days(raw: str) -> int | None:
    """``default`` (the global setting) or a whole number of days from 1 to 90 (ASCII digits)."""
    text = raw.strip()
    if text.lower() == "default":
        return None
    if not _WHOLE.fullmatch(text) or not NOTICE_DAYS_MIN <= int(text) <= NOTICE_DAYS_MAX:
        raise ValueError(f"续行提醒天数应为 {NOTICE_DAYS_MIN} 至 {NOTICE_DAYS_MAX} 的整数天或 default / the renewal "
                         f"notice must be a whole number of days from {NOTICE_DAYS_MIN} to {NOTICE_DAYS_MAX}, or "
                         f"'default': {raw!r}")
    return int(text)


@dataclass(frozen=True, slots=True)
class _Setting:
    column: str  # the court table's column (a constant of this module, never input)
    reason: str
    value: Any  # None: back to the deployment's default

    def audited(self, old: Any) -> Any:
        return None if old is None else (str(old) if isinstance(old, Decimal) else old)


async def _connect(settings: Settings) -> Any:
    import asyncpg

    from enforcement.kernel.pool import init_connection, resolve_database_url

    dsn = await asyncio.get_running_loop().run_in_executor(None, resolve_database_url, settings)
    conn = await asyncpg.connect(dsn)
    await init_connection(conn)
    return conn


async def _list(settings: Settings) -> int:
    conn = await _connect(settings)
    try:
        rows = await conn.fetch("SELECT code, name, measure_deduction_approval_yuan AS own, "
                                "measure_renewal_notice_days AS notice FROM court ORDER BY code")
    finally:
        await conn.close()
    default, notice = settings.measure_deduction_approval_yuan, settings.measure_renewal_notice_days
    table = [[r["code"], r["name"], f"{r['own']}" if r["own"] is not None else f"{default} (默认 default)",
              f"{r['notice']}" if r["notice"] is not None else f"{notice} (默认 default)"]
             for r in rows]
    for line in text_table.render(["法院 court", "名称 name", "扣划审批金额 deduction approval above (元)",
                                   "续行提前提醒 renewal notice (天 days)"], table, right=(2, 3)):
        print(line)
    return 0


async def _set(settings: Settings, court: str, changes: list[_Setting], operator: str) -> int:
    from enforcement.domain.audit import AuditEntry
    from enforcement.kernel.audit import AuditLog, load_audit_key

    audit = AuditLog(load_audit_key(settings))
    conn = await _connect(settings)
    try:
        async with conn.transaction():
            before = await conn.fetchrow("SELECT measure_deduction_approval_yuan, measure_renewal_notice_days "
                                         "FROM court WHERE code = $1 FOR UPDATE", court)
            if before is None:
                print(f"没有该法院 / no such court: {court}", file=sys.stderr)
                return EXIT_BAD_INPUT
            for change in changes:
                await conn.execute(f"UPDATE court SET {change.column} = $2 WHERE code = $1", court, change.value)
                await audit.append(conn, AuditEntry(
                    action="court_setting", actor_login=operator, actor_role="operator", actor_court=court,
                    target=f"court:{court}", reason=change.reason,
                    details={"setting": change.column, "from": change.audited(before[change.column]),
                             "to": change.audited(change.value)}))
    finally:
        await conn.close()
    for change in changes:
        if change.column == "measure_deduction_approval_yuan":
            shown = (f"{change.value} 元" if change.value is not None
                     else f"默认 default ({settings.measure_deduction_approval_yuan} 元)")
            print(f"{court}: 扣划超过 {shown} 须院庭长审批 / deductions above it wait for a supervisor's approval")
        else:
            days = (f"{change.value} 天" if change.value is not None
                    else f"默认 default ({settings.measure_renewal_notice_days} 天)")
            print(f"{court}: 控制措施到期前 {days} 提醒续行 / renewals are due and alerted this many days "
                  f"before a control's expiry")
    return 0


def cmd_courts(args: argparse.Namespace) -> int:
    from enforcement.kernel.logging import configure_logging

    settings = Settings.from_env()
    configure_logging(settings.log_level, json_output=settings.log_json)
    if args.action == "list":
        return asyncio.run(_list(settings))
    changes: list[_Setting] = []
    try:
        if args.deduction_approval_yuan is not None:
            changes.append(_Setting("measure_deduction_approval_yuan", "deduction approval amount",
                                    parse_yuan(args.deduction_approval_yuan)))
        if args.renewal_notice_days is not None:
            changes.append(_Setting("measure_renewal_notice_days", "renewal notice days",
                                    parse_notice_days(args.renewal_notice_days)))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    if not changes:
        print("请指明要设置的项 / name a setting: --deduction-approval-yuan and/or --renewal-notice-days",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    operator = os.environ.get("ENFORCEMENT_OPERATOR") or getpass.getuser()
    return asyncio.run(_set(settings, args.court, changes, operator))


def register(sub: Any) -> None:
    p = sub.add_parser("courts", help="court-level settings on the database (the deduction approval amount, "
                                      "the renewal notice days)")
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="each court and its deduction approval amount and renewal notice days")
    s = actions.add_parser("set", help="set a court's own deduction approval amount and/or renewal notice days "
                                       "(audited)")
    s.add_argument("court", help="the court's code")
    s.add_argument("--deduction-approval-yuan", metavar="YUAN|default",
                   help="deductions above this many yuan wait for a supervisor; 'default' uses "
                        "MEASURE_DEDUCTION_APPROVAL_YUAN")
    s.add_argument("--renewal-notice-days", metavar="DAYS|default",
                   help=f"a control's renewal is due and alerted this many days ({NOTICE_DAYS_MIN}-{NOTICE_DAYS_MAX}) "
                        "before its expiry; 'default' uses MEASURE_RENEWAL_NOTICE_DAYS")
    p.set_defaults(func=cmd_courts)
