"""``enforcement courts``: the court-level choices a court's IT sets on the database.

    enforcement courts list
    enforcement courts set 2101 --deduction-approval-yuan 50000
    enforcement courts set 2101 --deduction-approval-yuan default

A deduction above the court's amount waits for a supervisor's approval before it is sent to the
bank (issue 17); a court without its own amount uses ``MEASURE_DEDUCTION_APPROVAL_YUAN``. A change
is written with its audit record in one transaction (action ``court_setting``, role ``operator``,
the login from ``ENFORCEMENT_OPERATOR`` or the shell user), so a change not recorded does not happen.
Exit codes: 0 done, 2 bad input (an unknown court, an amount that is not a sum of yuan).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from decimal import Decimal, InvalidOperation
from typing import Any

from enforcement.commands import text_table
from enforcement.kernel.settings import Settings

EXIT_BAD_INPUT = 2


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
        rows = await conn.fetch("SELECT code, name, measure_deduction_approval_yuan AS own FROM court ORDER BY code")
    finally:
        await conn.close()
    default = settings.measure_deduction_approval_yuan
    table = [[r["code"], r["name"], f"{r['own']}" if r["own"] is not None else f"{default} (默认 default)"]
             for r in rows]
    for line in text_table.render(["法院 court", "名称 name", "扣划审批金额 deduction approval above (元)"], table,
                                  right=(2,)):
        print(line)
    return 0


async def _set(settings: Settings, court: str, amount: Decimal | None, operator: str) -> int:
    from enforcement.domain.audit import AuditEntry
    from enforcement.kernel.audit import AuditLog, load_audit_key

    audit = AuditLog(load_audit_key(settings))
    conn = await _connect(settings)
    try:
        async with conn.transaction():
            before = await conn.fetchrow("SELECT measure_deduction_approval_yuan AS own FROM court WHERE code = $1 "
                                         "FOR UPDATE", court)
            if before is None:
                print(f"没有该法院 / no such court: {court}", file=sys.stderr)
                return EXIT_BAD_INPUT
            await conn.execute("UPDATE court SET measure_deduction_approval_yuan = $2 WHERE code = $1", court, amount)
            await audit.append(conn, AuditEntry(
                action="court_setting", actor_login=operator, actor_role="operator", actor_court=court,
                target=f"court:{court}", reason="deduction approval amount",
                details={"setting": "measure_deduction_approval_yuan",
                         "from": None if before["own"] is None else str(before["own"]),
                         "to": None if amount is None else str(amount)}))
    finally:
        await conn.close()
    shown = f"{amount} 元" if amount is not None else f"默认 default ({settings.measure_deduction_approval_yuan} 元)"
    print(f"{court}: 扣划超过 {shown} 须院庭长审批 / deductions above it wait for a supervisor's approval")
    return 0


def cmd_courts(args: argparse.Namespace) -> int:
    from enforcement.kernel.logging import configure_logging

    settings = Settings.from_env()
    configure_logging(settings.log_level, json_output=settings.log_json)
    if args.action == "list":
        return asyncio.run(_list(settings))
    try:
        amount = parse_yuan(args.deduction_approval_yuan)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    operator = os.environ.get("ENFORCEMENT_OPERATOR") or getpass.getuser()
    return asyncio.run(_set(settings, args.court, amount, operator))


def register(sub: Any) -> None:
    p = sub.add_parser("courts", help="court-level settings on the database (the deduction approval amount)")
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="each court and its deduction approval amount")
    s = actions.add_parser("set", help="set a court's own deduction approval amount (audited)")
    s.add_argument("court", help="the court's code")
    s.add_argument("--deduction-approval-yuan", required=True, metavar="YUAN|default",
                   help="deductions above this many yuan wait for a supervisor; 'default' uses "
                        "MEASURE_DEDUCTION_APPROVAL_YUAN")
    p.set_defaults(func=cmd_courts)
