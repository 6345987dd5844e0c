"""A keep-alive pool that shrinks back to what the load needs.

aiohttp's ``TCPConnector`` keeps idle connections per host in a queue and hands out the one
that has waited longest (first in, first out). Under a steady stream of calls every idle
connection is therefore reused before its keep-alive runs out, and none is ever closed: the
pool stays at the largest number of calls that were ever in flight together, and that peak only
grows the longer the process runs (the 30-minute soak saw a worker's connections to the
agencies grow by a fifth while its load was constant).

``RecentFirstConnector`` hands out the connection released last instead (last in, first out).
The connections beyond what recent load needs then sit unused and are closed after
``keepalive_timeout``, so the pool follows the recent peak rather than the all-time one. Partner
agencies see fewer idle connections held open against them, and a process's descriptors stop
creeping.

It reorders aiohttp's private per-host queue after each release. If a future aiohttp lays that
queue out differently, the reordering is skipped (the pool then behaves like aiohttp's own) and
``tests/unit/connectors/test_pool.py`` fails, which is the signal to revisit this class.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import aiohttp


class RecentFirstConnector(aiohttp.TCPConnector):
    """A ``TCPConnector`` whose idle connections are reused most recently released first."""

    def _release(self, key: Any, protocol: Any, *, should_close: bool = False) -> None:
        super()._release(key, protocol, should_close=should_close)
        idle = getattr(self, "_conns", {}).get(key)
        if isinstance(idle, deque) and idle and isinstance(idle[-1], tuple) and idle[-1][0] is protocol:
            idle.rotate(1)  # the one just released goes to the front, where the next call takes it


__all__ = ["RecentFirstConnector"]
