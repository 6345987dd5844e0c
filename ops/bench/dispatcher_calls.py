"""Python function calls the dispatcher spends on one agency call, its own work only (issue 19):
the connector answers at once from memory and the outcome is buffered, not written, so what is
counted is the retry wrapper, the breaker and limiter, the metrics and the outcome's bookkeeping.
A deterministic count (cProfile's), whatever the machine's speed.

    PYTHONPATH=$PWD python ops/bench/dispatcher_calls.py [--calls 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from connectors.sdk.manifest import Manifest
from connectors.sdk.protocol import ConnectorSpec
from connectors.sdk.types import AgencyRequest, AgencyResult
from enforcement.kernel.logging import configure_logging
from enforcement.searches.dispatcher import Dispatcher, DispatcherConfig
from enforcement.searches.policy import CircuitBreaker, RateLimiter
from enforcement.searches.runtime import AgencyRuntime
from enforcement.searches.store.tasks import ClaimedTask

AGENCY = "vehicles"


class Instant:
    """A connector that answers every search at once (no records: the adapters' work is theirs)."""

    def __init__(self) -> None:
        self.result = AgencyResult(records=(), raw={"ok": True}, answered_at=datetime.now(UTC),
                                   agency_reference="REF")

    async def search(self, request: AgencyRequest) -> AgencyResult:
        return self.result


def task(i: int) -> ClaimedTask:
    return ClaimedTask(
        id=i, search_id=UUID(int=i), agency=AGENCY, idempotency_key=f"{i}:{AGENCY}", ticket=None, attempts=1,
        deadline_at=datetime.now(UTC) + timedelta(hours=1), subject_kind="person",
        subject_id_number="110101199003074514", subject_name="张三", purpose="财产调查", request_no=f"R{i}",
        case_number="（2025）辽0102执1号", court_code="辽0102", judge_name="王法官", judge_officer_id="2101020001",
        document_number="（2025）辽0102执协查00001号", date_from=None, date_to=None, last_error=None)


async def run(n: int) -> tuple[int, pstats.Stats]:
    m = Manifest.load(f"connectors.{AGENCY}")
    m = replace(m, policy=replace(m.policy, rate_per_second=1e9))
    connector = Instant()
    rt = AgencyRuntime(spec=ConnectorSpec(m, lambda _c, _s: connector),  # type: ignore[arg-type,return-value]
                       manifest=m, connector=connector,  # type: ignore[arg-type]
                       breaker=CircuitBreaker(AGENCY, m.policy.breaker), limiter=RateLimiter(1e9))
    d = Dispatcher(None, None, {AGENCY: rt}, DispatcherConfig(worker_id="w"))  # type: ignore[arg-type]
    tasks = [task(i) for i in range(n + 50)]
    for t in tasks[:50]:  # warm: first-call caches
        await d._run_one(rt, t)
    profile = cProfile.Profile()
    profile.enable()
    for t in tasks[50:]:
        await d._run_one(rt, t)
    profile.disable()
    assert len(d._successes) == n + 50
    stats = pstats.Stats(profile)
    return stats.total_calls, stats  # type: ignore[attr-defined,no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--top", type=int, default=0, help="also list the functions called most")
    args = parser.parse_args()
    configure_logging("WARNING", json_output=True)  # as the benchmarks run the service
    total, stats = asyncio.run(run(args.calls))
    print(f"Python function calls per agency call (dispatcher's own work): {total / args.calls:.1f}")
    if args.top:
        rows: list[tuple[int, Any]] = sorted(((v[1], k) for k, v in stats.stats.items()),  # type: ignore[attr-defined]
                                             key=lambda x: -x[0])
        for calls, (file, line, name) in rows[:args.top]:
            print(f"  {calls / args.calls:6.1f}  {name}  ({Path(file).name}:{line})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
