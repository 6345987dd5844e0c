"""Signed agency callbacks: a deferred answer pushed by the agency instead of polled.

``POST /api/v1/agencies/{agency}/callbacks`` is trusted by its signature alone (no bearer
token): HMAC-SHA256 with the agency's own callback secret over ``timestamp \\n nonce \\n body``
(``connectors.sdk.signing``). A callback is refused, and changes nothing, when

- the agency is unknown, does not call back, or has no callback secret configured;
- a signature header is missing, or the signature does not match (forged, or another agency's
  secret);
- its timestamp is further than ``callback_max_skew_seconds`` (5 minutes) from now (stale);
- its nonce was used before by that agency (replayed): nonces are remembered, in PostgreSQL,
  for twice the skew, after which the timestamp alone refuses a replay;
- it names a ticket that belongs to another agency, or a ticket nobody holds (the agency may
  try again; until then polling still finds the answer);
- the body cannot be read (the connector says why).

An accepted callback is applied in one transaction: answers succeed their tasks, refusals
reject them. A task already answered (by polling, or by an earlier callback) is left as it is:
callbacks are idempotent. Every callback of a known agency, accepted or refused, is counted in
``agency_callback_minute`` (after its answers are kept), for the agencies view.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import structlog

from connectors.sdk.errors import ConnectorError
from connectors.sdk.signing import verify
from connectors.sdk.types import CallbackAnswer
from enforcement.domain.json_input import JsonRejected, parse_json
from enforcement.kernel import metrics
from enforcement.searches.dispatcher import success_of
from enforcement.searches.errors import CallbackRefused
from enforcement.searches.runtime import AgencyRuntime
from enforcement.searches.store.agencies import AgencyStoreProtocol
from enforcement.searches.store.tasks import TERMINAL, Settlement, Success, TaskStoreProtocol

log = structlog.get_logger(__name__)

NONCE_MAX_LENGTH = 128
SIGNATURE_MAX_LENGTH = 256


@dataclass(frozen=True, slots=True)
class SignedCallback:
    agency: str
    timestamp: str | None
    nonce: str | None
    signature: str | None
    body: bytes


@dataclass(frozen=True, slots=True)
class CallbackReport:
    answers: int
    applied: int
    already_answered: int
    searches_completed: int

    def to_dict(self) -> dict[str, int]:
        return {
            "answers": self.answers,
            "applied": self.applied,
            "already_answered": self.already_answered,
            "searches_completed": self.searches_completed,
        }


class CallbackReceiver:
    def __init__(
        self,
        runtimes: Mapping[str, AgencyRuntime],
        secrets: Mapping[str, str],
        agencies: AgencyStoreProtocol,
        tasks: TaskStoreProtocol,
        *,
        max_skew_seconds: float = 300.0,
    ) -> None:
        self.runtimes = runtimes
        self.secrets = secrets
        self.agencies = agencies
        self.tasks = tasks
        self.max_skew_seconds = max_skew_seconds

    async def receive(self, cb: SignedCallback, *, now: float | None = None) -> CallbackReport:
        """Verify a signed callback and apply its answers in one transaction (the task store's):
        answers succeed their tasks, refusals reject them, tasks already answered are left alone.

        Who may: the agency itself, by its HMAC signature with its callback secret (no token).
        Raises ``CallbackRefused`` (its status and reason) for an unknown or unconfigured agency,
        a missing or wrong signature, a stale timestamp, a replayed nonce, another agency's or an
        unknown ticket, or a body the connector cannot read; nothing changes then."""
        try:
            report = await self._receive(cb, time.time() if now is None else now)
        except CallbackRefused as exc:
            metrics.CALLBACKS.labels(agency=self._label(cb.agency), result=exc.reason).inc()
            log.warning("callback_refused", agency=cb.agency if cb.agency in self.runtimes else "(unknown)",
                        reason=exc.reason)
            await self._count(cb.agency, exc.reason)
            raise
        metrics.CALLBACKS.labels(agency=cb.agency, result="accepted").inc()
        log.info("callback_accepted", agency=cb.agency, **report.to_dict())
        await self._count(cb.agency, None)
        return report

    async def _count(self, agency: str, refused_reason: str | None) -> None:
        """The shared per-minute counter the agencies view reads; only for agencies we know (a
        name from the path must not grow the table). Its failure is logged, not answered: the
        callback's answers are kept (or its refusal stands) either way."""
        if agency not in self.runtimes:
            return
        try:
            await self.agencies.count_callback(agency, refused_reason=refused_reason)
        except Exception:
            log.error("callback_count_failed", agency=agency, exc_info=True)

    def _label(self, agency: str) -> str:
        return agency if agency in self.runtimes else "unknown"

    async def _receive(self, cb: SignedCallback, now: float) -> CallbackReport:
        rt = self._agency(cb.agency)
        secret = self.secrets.get(cb.agency, "")
        if not secret:
            raise CallbackRefused(403, "callbacks_not_configured",
                                  f"No callback secret is configured for agency {cb.agency!r}.",
                                  "未配置该协查单位的回调密钥，拒绝回调")
        timestamp, nonce, signature = self._headers(cb)
        if not verify(secret, timestamp, nonce, cb.body, signature):
            raise CallbackRefused(401, "bad_signature", "The callback's signature does not match.",
                                  "回调签名校验失败")
        if abs(now - int(timestamp)) > self.max_skew_seconds:
            raise CallbackRefused(401, "stale_callback",
                                  f"The callback's timestamp is more than {self.max_skew_seconds:g} s from now.",
                                  "回调时间戳已过期（或超前），拒绝处理")
        if not await self.agencies.remember_nonce(cb.agency, nonce, 2 * self.max_skew_seconds + 60):
            raise CallbackRefused(409, "replayed_callback", "This callback's nonce was used before.",
                                  "回调随机数已使用过（重放），拒绝处理")
        answers = self._parse(rt, cb.body)
        tickets = [a.ticket for a in answers]
        holders = {h.ticket: h for h in await self.agencies.ticket_holders(tickets)}
        foreign = sorted({t for t, h in holders.items() if h.agency != cb.agency})
        if foreign:
            raise CallbackRefused(403, "foreign_ticket",
                                  f"{len(foreign)} ticket(s) of this callback belong to another agency.",
                                  "回调中的查询流水号属于其他协查单位，拒绝处理")
        unknown = [t for t in tickets if t not in holders]
        if unknown:
            raise CallbackRefused(404, "unknown_ticket",
                                  f"{len(unknown)} ticket(s) of this callback are not known (yet); send again later.",
                                  "回调中的查询流水号不存在或尚未登记，请稍后重发")
        successes: list[Success] = []
        settlements: list[Settlement] = []
        already = 0
        for answer in answers:
            holder = holders[answer.ticket]
            if holder.status in TERMINAL:
                already += 1
                continue
            if answer.outcome is not None:
                successes.append(success_of(holder.task_id, answer.outcome, holder.created_at))
            else:
                settlements.append(Settlement(holder.task_id, "rejected", error_code="rejected",
                                              error_message=answer.rejection or "rejected by the agency",
                                              created_at=holder.created_at))
        completed = await self.tasks.flush(successes, settlements, worker_id=None) if successes or settlements else []
        metrics.TASKS_FINISHED.labels(agency=cb.agency, status="succeeded").inc(len(successes))
        metrics.TASKS_FINISHED.labels(agency=cb.agency, status="rejected").inc(len(settlements))
        if completed:
            metrics.SEARCHES_COMPLETED.inc(len(completed))
        return CallbackReport(len(answers), len(successes) + len(settlements), already, len(completed))

    def _agency(self, name: str) -> AgencyRuntime:
        rt = self.runtimes.get(name)
        if rt is None or not rt.manifest.callbacks:
            raise CallbackRefused(404, "unknown_agency", f"No agency {name!r} sends callbacks here.",
                                  "该协查单位不存在或不使用回调")
        return rt

    def _headers(self, cb: SignedCallback) -> tuple[str, str, str]:
        if not cb.timestamp or not cb.nonce or not cb.signature:
            raise CallbackRefused(401, "unsigned_callback",
                                  "The callback lacks its signature headers "
                                  "(X-Signature-Timestamp, X-Signature-Nonce, X-Signature).",
                                  "回调缺少签名头")
        if not (cb.timestamp.isascii() and cb.timestamp.isdigit()) or len(cb.timestamp) > 12:
            raise CallbackRefused(401, "bad_timestamp", "The callback's timestamp is not unix seconds.",
                                  "回调时间戳格式错误")
        if len(cb.nonce) > NONCE_MAX_LENGTH or not cb.nonce.isascii() or not cb.nonce.isprintable():
            raise CallbackRefused(401, "bad_nonce", "The callback's nonce is malformed.", "回调随机数格式错误")
        if len(cb.signature) > SIGNATURE_MAX_LENGTH or not cb.signature.isascii():
            # compare_digest raises on a non-ASCII str: such a signature cannot match, it is refused as one.
            raise CallbackRefused(401, "bad_signature", "The callback's signature does not match.",
                                  "回调签名校验失败")
        return cb.timestamp, cb.nonce, cb.signature

    def _parse(self, rt: AgencyRuntime, body: bytes) -> list[CallbackAnswer]:
        try:
            data = parse_json(body)
        except JsonRejected as exc:
            if exc.malformed:
                raise CallbackRefused(400, "malformed_json", "The callback body is not valid JSON.",
                                      "回调内容不是合法的 JSON") from exc
            raise CallbackRefused(422, exc.code, exc.message_en, exc.message_zh) from exc
        if not isinstance(data, Mapping):
            raise CallbackRefused(400, "malformed_json", "The callback body must be a JSON object.",
                                  "回调内容须为 JSON 对象")
        try:
            return list(rt.connector.parse_callback(data))
        except ConnectorError as exc:
            raise CallbackRefused(422, "bad_callback", f"The callback cannot be read: {exc.message}",
                                  "回调内容无法解析") from exc


__all__ = ["CallbackReceiver", "CallbackReport", "SignedCallback"]
