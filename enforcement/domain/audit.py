"""The audit trail's records and their hash chain: pure, no I/O.

Every search, dossier read, export and refusal is one record: who (login, role, court), which
case and subject, the purpose, the action, when, and the request id. Records form one chain:
record ``n`` carries the hash of record ``n - 1``, and its own hash is an HMAC-SHA256, under a key
the service holds (not the database), of the previous hash and the canonical JSON of all its
fields. A record changed, deleted or inserted anywhere breaks the chain at that point, and without
the key nobody, not even a database superuser, can forge a chain that verifies again.

A record is written with its action and takes its place in the chain a moment later (decision
0404): until then it carries the writer's signature (``record_mac``), so that nothing but the
service can put a record in line to be chained.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

# What an audit record is about. Other actions may be added (an allowance, a closure approval).
ACTIONS = ("search", "dossier_read", "export", "refusal")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What the caller knows when it records an action; the chain adds seq, time and hashes."""

    action: str
    actor_login: str
    actor_role: str
    actor_court: str | None = None
    case_id: int | None = None
    case_number: str | None = None
    case_court: str | None = None
    subject_key: str | None = None
    purpose: str | None = None
    reason: str | None = None
    target: str | None = None
    request_id: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """A record as stored: the entry, its place in the chain, its time and its hashes."""

    seq: int
    at: datetime
    entry: AuditEntry
    prev_hash: str
    hash: str


def format_time(at: datetime) -> str:
    """The one textual form of a record's time in the chain: UTC, microseconds, ``Z``."""
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(seq: int, at: datetime, entry: AuditEntry) -> str:
    """Canonical JSON of a record's fields: sorted keys, no spaces, UTF-8 kept as is."""
    fields: dict[str, Any] = {
        "seq": seq,
        "at": format_time(at),
        "action": entry.action,
        "actor_login": entry.actor_login,
        "actor_role": entry.actor_role,
        "actor_court": entry.actor_court,
        "case_id": entry.case_id,
        "case_number": entry.case_number,
        "case_court": entry.case_court,
        "subject_key": entry.subject_key,
        "purpose": entry.purpose,
        "reason": entry.reason,
        "target": entry.target,
        "request_id": entry.request_id,
        "details": dict(entry.details),
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


# The same encoding as ``canonical``'s ``json.dumps``, built once (issue 19: dumps builds an
# encoder on every call when given options).
_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def canonical_halves(at: datetime, entry: AuditEntry) -> tuple[str, str]:
    """``canonical(seq, at, entry) == head + str(seq) + tail`` for every ``seq``: the fields
    sorted before ``"seq"`` and after it, encoded once for both of a record's HMACs (the writer's
    signature with seq 0 and the chain hash with its place). Sorted keys put ``seq`` between
    ``request_id`` and ``subject_key``; ``tests/unit/domain/test_audit_chain.py`` checks the
    identity on varied records."""
    before = _ENCODER.encode({
        "action": entry.action,
        "actor_court": entry.actor_court,
        "actor_login": entry.actor_login,
        "actor_role": entry.actor_role,
        "at": format_time(at),
        "case_court": entry.case_court,
        "case_id": entry.case_id,
        "case_number": entry.case_number,
        "details": dict(entry.details),
        "purpose": entry.purpose,
        "reason": entry.reason,
        "request_id": entry.request_id,
    })
    after = _ENCODER.encode({"subject_key": entry.subject_key, "target": entry.target})
    return before[:-1] + ',"seq":', "," + after[1:]


def chain_hash(key: bytes, prev_hash: str, seq: int, at: datetime, entry: AuditEntry) -> str:
    message = (prev_hash + "\n" + canonical(seq, at, entry)).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def seal_signed(key: bytes, prev_hash: str, seq: int, at: datetime, entry: AuditEntry, mac: str | None) -> str | None:
    """The chainer's work on one record: its chain hash at ``seq`` after ``prev_hash`` (as
    ``chain_hash``), or None when ``mac`` is not the writer's signature (``record_mac``). The
    canonical form is encoded once for both HMACs, each a one-shot ``hmac.digest``."""
    head, tail = canonical_halves(at, entry)
    if mac is None or not hmac.compare_digest(
            hmac.digest(key, ("unchained\n" + head + "0" + tail).encode("utf-8"), "sha256").hex(), mac):
        return None
    return hmac.digest(key, (prev_hash + "\n" + head + str(seq) + tail).encode("utf-8"), "sha256").hex()


def seal(key: bytes, prev_seq: int, prev_hash: str, at: datetime, entry: AuditEntry) -> AuditRecord:
    """The record that follows (prev_seq, prev_hash) in the chain."""
    seq = prev_seq + 1
    return AuditRecord(seq, at, entry, prev_hash, chain_hash(key, prev_hash, seq, at, entry))


def record_mac(key: bytes, at: datetime, entry: AuditEntry) -> str:
    """The writer's signature of a record not yet chained: an HMAC of its canonical fields (with
    seq 0, which no chained record has). The chainer chains only records that carry it."""
    head, tail = canonical_halves(at, entry)
    return hmac.digest(key, ("unchained\n" + head + "0" + tail).encode("utf-8"), "sha256").hex()


_PLAIN = frozenset({str, int, bool, type(None)})


def check_details(details: Mapping[str, Any]) -> None:
    """Details must survive a JSON round trip unchanged: strings, integers, booleans, null,
    lists and objects of them (no floats, whose text form a database may change)."""

    def walk(value: Any, where: str) -> None:
        if value is None or isinstance(value, bool | int | str):
            return
        if isinstance(value, list | tuple):
            for i, v in enumerate(value):
                if type(v) not in _PLAIN:  # a plain leaf needs no call of its own (issue 19)
                    walk(v, f"{where}[{i}]")
            return
        if isinstance(value, dict | Mapping):  # a dict first: no ABC check for the usual case
            for k, v in value.items():
                if not isinstance(k, str):
                    raise ValueError(f"audit details key at {where} is not a string")
                if type(v) not in _PLAIN:
                    walk(v, f"{where}.{k}")
            return
        raise ValueError(f"audit details value at {where} is a {type(value).__name__}")

    walk(details, "details")


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first record at which the chain no longer holds, and why."""

    seq: int
    # content_changed | record_missing | duplicate_seq | link_broken | head_mismatch | anchor_mismatch |
    # anchor_missing | wrong_key
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Backlog:
    """Records written with their actions but not yet chained: how many, and the oldest of them
    (by id), its time, how long it has waited, and whether it carries the service's signature."""

    pending: int = 0
    oldest_id: int | None = None
    oldest_at: datetime | None = None
    age_seconds: float = 0.0
    oldest_signed: bool = True

    def describe(self) -> str:
        if self.oldest_id is None:
            return "no record waits to be chained"
        why = "" if self.oldest_signed else " and does not carry the service's signature (not written by it)"
        at = format_time(self.oldest_at) if self.oldest_at is not None else "?"
        return (f"record id {self.oldest_id} (written {at}) has waited {self.age_seconds:.0f} s for its place "
                f"in the chain{why}; {self.pending} record(s) wait")


@dataclass(frozen=True, slots=True)
class Verification:
    checked: int
    last_seq: int
    last_hash: str
    broken: ChainBreak | None = None
    backlog: Backlog = field(default_factory=Backlog)
    # The oldest record not yet chained is older than the threshold: the chainer has stopped.
    stalled: bool = False

    @property
    def intact(self) -> bool:
        """The chained records hold: nothing changed, removed or inserted."""
        return self.broken is None

    @property
    def ok(self) -> bool:
        """Intact, and no record has waited too long for its place in the chain."""
        return self.broken is None and not self.stalled


class ChainVerifier:
    """Walks the chain record by record (records may stream from a cursor), in ``seq`` order."""

    def __init__(self, key: bytes, anchors: Mapping[int, str] | None = None) -> None:
        self._key = key
        self.anchors = dict(anchors or {})
        self.expected_seq = 1
        self.prev_hash = GENESIS_HASH
        self.checked = 0
        self.broken: ChainBreak | None = None

    def feed(self, rec: AuditRecord) -> bool:
        """Check one record; False once the chain is broken (later records are not looked at)."""
        if self.broken is not None:
            return False
        if rec.seq < self.expected_seq:
            self.broken = ChainBreak(rec.seq, "duplicate_seq", f"record {rec.seq} appears twice")
        elif rec.seq > self.expected_seq:
            missing = (f"record {self.expected_seq} is missing" if rec.seq == self.expected_seq + 1
                       else f"records {self.expected_seq}..{rec.seq - 1} are missing")
            self.broken = ChainBreak(rec.seq, "record_missing", missing)
        elif rec.prev_hash != self.prev_hash:
            self.broken = ChainBreak(rec.seq, "link_broken", f"record {rec.seq} does not point at record {rec.seq - 1}")
        elif not hmac.compare_digest(chain_hash(self._key, self.prev_hash, rec.seq, rec.at, rec.entry), rec.hash):
            self.broken = ChainBreak(rec.seq, "content_changed", f"record {rec.seq}'s fields do not match its hash")
        elif rec.seq in self.anchors and self.anchors[rec.seq] != rec.hash:
            self.broken = ChainBreak(rec.seq, "anchor_mismatch",
                                     f"record {rec.seq}'s hash differs from the one kept outside the database")
        if self.broken is not None:
            return False
        self.checked += 1
        self.expected_seq, self.prev_hash = rec.seq + 1, rec.hash
        return True

    def result(self, head: tuple[int, str] | None = None) -> Verification:
        """The verdict; ``head`` is the chain head as stored (last seq and hash): a mismatch there
        means records were removed from, or added behind, the end of the chain."""
        last_seq = self.expected_seq - 1
        beyond = [seq for seq in self.anchors if seq > last_seq]
        if self.broken is None and beyond:
            self.broken = ChainBreak(last_seq + 1, "anchor_missing",
                                     f"record {max(beyond)} was kept outside the database, "
                                     f"the chain ends at {last_seq}")
        if self.broken is None and head is not None and (head[0] != last_seq or head[1] != self.prev_hash):
            if head[0] > last_seq:
                where, detail = last_seq + 1, f"records {last_seq + 1}..{head[0]} are missing at the end"
            elif head[0] < last_seq:
                where, detail = head[0] + 1, f"records after {head[0]} were added behind the chain head"
            else:
                where, detail = last_seq, f"the chain head's hash does not match record {last_seq}"
            self.broken = ChainBreak(where, "head_mismatch", detail)
        return Verification(self.checked, last_seq, self.prev_hash, self.broken)


def verify_chain(
    key: bytes, records: Iterable[AuditRecord], *, head: tuple[int, str] | None = None,
    anchors: Mapping[int, str] | None = None,
) -> Verification:
    """Walk the chain in ``seq`` order and name the first broken record. ``anchors`` (seq -> hash)
    are chain heads kept outside the database (``enforcement audit head``): they also catch a
    superuser who cuts off the end of the chain and moves the head back."""
    verifier = ChainVerifier(key, anchors)
    for rec in records:
        if not verifier.feed(rec):
            break
    return verifier.result(head)


__all__ = [
    "ACTIONS",
    "GENESIS_HASH",
    "AuditEntry",
    "AuditRecord",
    "Backlog",
    "ChainBreak",
    "ChainVerifier",
    "Verification",
    "canonical",
    "canonical_halves",
    "chain_hash",
    "check_details",
    "format_time",
    "record_mac",
    "seal",
    "seal_signed",
    "verify_chain",
]
