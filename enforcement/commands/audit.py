"""``enforcement audit verify``: check the whole audit chain and name the first broken record;
also name the oldest record that has waited longer than ``--max-unchained-age`` seconds (60) for
its place in the chain (the chainers stopped, decision 0404).
``enforcement audit head``: print the chain head as ``SEQ:HASH``. Keep copies outside the database
(a daily cron into the operations log, say): ``verify --anchor SEQ:HASH`` then also catches a
superuser who cuts off the end of the chain and moves the head back, which the chain alone cannot.
``enforcement audit chain``: chain the records waiting now, as the service's chainers do (when
none runs).

Exit status: 0 the chain holds, 1 it is broken or records wait too long, 2 it cannot be checked
(no database, no key).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from enforcement.kernel.settings import Settings


async def _verify(settings: Settings, anchors: dict[int, str], stale_after: float) -> dict[str, Any]:
    from enforcement.domain.audit import format_time
    from enforcement.kernel.audit import AuditLog, load_audit_key
    from enforcement.kernel.pool import create_pool, resolve_database_url

    audit = AuditLog(load_audit_key(settings))
    dsn = await asyncio.get_running_loop().run_in_executor(None, resolve_database_url, settings)
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            result = await audit.verify(conn, anchors=anchors, stale_after=stale_after)
    finally:
        await pool.close()
    b = result.backlog
    out: dict[str, Any] = {"ok": result.ok, "checked": result.checked, "last_seq": result.last_seq,
                           "last_hash": result.last_hash, "key_id": audit.key_id,
                           "unchained": {"pending": b.pending, "oldest_id": b.oldest_id,
                                         "oldest_at": format_time(b.oldest_at) if b.oldest_at else None,
                                         "age_seconds": round(b.age_seconds, 3), "oldest_signed": b.oldest_signed,
                                         "stalled": result.stalled, "detail": b.describe()}}
    if result.broken is not None:
        out["broken"] = {"seq": result.broken.seq, "reason": result.broken.reason, "detail": result.broken.detail}
    return out


async def _chain(settings: Settings) -> dict[str, Any]:
    from enforcement.kernel.audit import AuditLog, load_audit_key
    from enforcement.kernel.audit_chainer import AuditChainer
    from enforcement.kernel.pool import create_pool, resolve_database_url

    audit = AuditLog(load_audit_key(settings))
    dsn = await asyncio.get_running_loop().run_in_executor(None, resolve_database_url, settings)
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        chainer = AuditChainer(audit, pool)
        async with asyncio.timeout(600):
            await chainer.drain()
    finally:
        await pool.close()
    return {"chained": chainer.chained, "refused": sorted(chainer.refused)}


async def _head(settings: Settings) -> dict[str, Any]:
    from enforcement.kernel.pool import create_pool, resolve_database_url
    from enforcement.kernel.queries import Q

    dsn = await asyncio.get_running_loop().run_in_executor(None, resolve_database_url, settings)
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        row = await pool.fetchrow(Q.audit_head)
    finally:
        await pool.close()
    assert row is not None
    return {"seq": row["seq"], "hash": row["hash"], "key_id": row["key_id"]}


def cmd_audit_verify(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    anchors: dict[int, str] = {}
    for anchor in args.anchor or []:
        seq, _, digest = anchor.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            print(f"--anchor must be SEQ:HASH (as `enforcement audit head` prints), not {anchor!r}")
            return 2
        anchors[int(seq)] = digest
    try:
        out = asyncio.run(_verify(settings, anchors, args.max_unchained_age))
    except (OSError, ValueError) as exc:
        print(f"cannot verify the audit chain / 无法校验审计链: {exc}")
        return 2
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0 if out["ok"] else 1
    if "broken" in out:
        b = out["broken"]
        print(f"audit chain BROKEN at record {b['seq']} / 审计链在第 {b['seq']} 条记录处断裂: "
              f"{b['reason']}: {b['detail']} ({out['checked']} records verified before it)")
    else:
        print(f"audit chain intact / 审计链完整: {out['checked']} records, head {out['last_seq']} {out['last_hash']}")
    u = out["unchained"]
    if u["stalled"]:
        print(f"audit records NOT CHAINED / 审计记录未入链: {u['detail']}")
    elif u["pending"]:
        print(f"{u['pending']} record(s) waiting to be chained, the oldest for {u['age_seconds']:.1f} s")
    return 0 if out["ok"] else 1


def cmd_audit_chain(args: argparse.Namespace) -> int:
    try:
        out = asyncio.run(_chain(Settings.from_env()))
    except (OSError, ValueError, TimeoutError) as exc:
        print(f"cannot chain the audit records / 无法将审计记录入链: {exc}")
        return 2
    if args.json:
        print(json.dumps(out))
    else:
        print(f"{out['chained']} record(s) chained / 已入链"
              + (f"; refused (not signed by the service): ids {out['refused']}" if out["refused"] else ""))
    return 1 if out["refused"] else 0


def cmd_audit_head(args: argparse.Namespace) -> int:
    out = asyncio.run(_head(Settings.from_env()))
    print(json.dumps(out) if args.json else f"{out['seq']}:{out['hash']}")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("audit", help="the hash-chained audit trail")
    asub = p.add_subparsers(dest="audit_command", required=True)
    verify = asub.add_parser("verify", help="check the whole chain; name the first broken record")
    verify.add_argument("--json", action="store_true")
    verify.add_argument("--anchor", action="append", metavar="SEQ:HASH",
                        help="a chain head kept outside the database (repeatable); catches a cut-off tail")
    verify.add_argument("--max-unchained-age", type=float, default=60.0, metavar="SECONDS",
                        help="a record waiting longer than this for its place in the chain is a problem (60)")
    verify.set_defaults(func=cmd_audit_verify)
    head = asub.add_parser("head", help="print the chain head: last seq and hash")
    head.add_argument("--json", action="store_true")
    head.set_defaults(func=cmd_audit_head)
    chain = asub.add_parser("chain", help="chain the records waiting now (the service's chainers do it)")
    chain.add_argument("--json", action="store_true")
    chain.set_defaults(func=cmd_audit_chain)
