"""The audit chainer: gives audit records their place in the chain shortly after their actions
commit (decision 0404).

Every process (API and worker) runs one. A round locks the chain head with ``SKIP LOCKED``, so
one chainer at a time does the work and the others pass; the one working goes on until nothing
waits. Chainers wake on ``NOTIFY audit_pending`` (sent by every action's transaction at commit),
after a reconnect of their listener, and every ``interval_seconds`` in any case, so a lost
notification or a chainer that died (mid-round: its transaction rolls back) costs at most that
long: the records stay in the table, and whichever chainer comes next chains them.

A woken chainer waits ``gather_seconds`` (50 ms) before its round, so that one round takes the
records of every action committed meanwhile (decision 1940): one search at a time, a round per
search was the API process's largest cost after the request itself; the chain's promise is a
place "within about a second" (decision 0404), and the trail lists chained records only, so 50 ms
is the most a reader of the trail right after an action can notice, once.
"""

from __future__ import annotations

import asyncio

import asyncpg
import structlog
from aiohttp import web

from enforcement.kernel.audit import CHAIN_BATCH, AuditKeyMismatch, AuditLog
from enforcement.kernel.waits import wait_set

log = structlog.get_logger(__name__)

# How long a woken chainer lets notifications gather before its round (decision 1940).
GATHER_SECONDS = 0.05


class AuditChainer:
    """One process's chainer: ``run()`` forever (a background task of the composition root),
    ``wake()`` on every ``audit_pending`` notification, ``drain()`` to chain what waits now."""

    def __init__(self, audit: AuditLog, pool: asyncpg.Pool, *, interval_seconds: float = 1.0,
                 busy_retry_seconds: float = 0.05, batch: int = CHAIN_BATCH,
                 gather_seconds: float = GATHER_SECONDS) -> None:
        self.audit = audit
        self.pool = pool
        self.interval_seconds = interval_seconds
        self.busy_retry_seconds = busy_retry_seconds
        self.batch = batch
        self.gather_seconds = gather_seconds
        self.chained = 0
        # Records without the service's signature: left waiting (verify and the alert name them),
        # logged once, passed over afterwards.
        self.refused: set[int] = set()
        self._wake = asyncio.Event()
        self._key_refused = False

    def wake(self, _payload: str = "") -> None:
        """Start a round now (a NOTIFY listener's callback; the payload is ignored)."""
        self._wake.set()

    async def chain_all(self, *, look_first: bool = True) -> bool:
        """Chain rounds until one is not full (what waited is chained; what came since wakes the
        chainer again); True when another chainer held the head (it works,
        but look again soon: records may have arrived after its last round). ``look_first``
        False: woken by a notification, go straight to the claim (``AuditLog.chain_pending``)."""
        while True:
            done = await self.audit.chain_pending(self.pool, limit=self.batch, skip=self.refused,
                                                  look_first=look_first)
            look_first = False  # another round only when the last was full: records wait
            new = set(done.refused) - self.refused
            if new:
                log.error("audit_record_unsigned", record_ids=sorted(new),
                          detail="a record waiting to be chained does not carry the service's signature")
                self.refused |= new
            if done.busy:
                return True
            self.chained += done.chained
            if not done.more:
                # The round was not full: it took every record committed before its snapshot, and
                # any committed since woke this chainer again (their NOTIFY). Looking once more cost a
                # round trip per wake-up, one in seven of the chainer's (decision 0706).
                return False

    async def drain(self) -> None:
        """Chain everything waiting now, waiting for another chainer if need be (tests, the CLI;
        wrap it in ``asyncio.timeout``: it waits as long as another chainer holds the head)."""
        busy = await self.chain_all()
        while busy:
            await asyncio.sleep(self.busy_retry_seconds)
            busy = await self.chain_all()

    async def run(self) -> None:
        """Chain rounds forever, on every wake-up and every ``interval_seconds``; a failed round is
        logged and retried, never raised (the backlog gauge and ``audit verify`` tell)."""
        woken = False
        while True:
            if woken and self.gather_seconds > 0:
                await asyncio.sleep(self.gather_seconds)  # the round takes what commits meanwhile
            self._wake.clear()
            busy = False
            try:
                busy = await self.chain_all(look_first=not woken)
                if self._key_refused:
                    log.info("audit_chain_key_accepted")
                    self._key_refused = False
            except AuditKeyMismatch as exc:
                if not self._key_refused:  # once, not on every notification
                    log.error("audit_chain_key_mismatch", error=str(exc))
                    self._key_refused = True
                await asyncio.sleep(self.interval_seconds)  # wait out the notifications: nothing changes soon
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:  # the next round retries
                log.warning("audit_chain_round_failed", error=type(exc).__name__)
            except Exception:  # a chainer stays up: records wait, and the backlog alert says so
                log.error("audit_chain_round_failed", exc_info=True)
            woken = await wait_set(self._wake, self.busy_retry_seconds if busy else self.interval_seconds)


AUDIT_CHAINER = web.AppKey("audit_chainer", AuditChainer)

__all__ = ["AUDIT_CHAINER", "GATHER_SECONDS", "AuditChainer"]
