"""The simulators' control state: what an agency holds frozen or sealed, and for whom.

A simulator that takes control operations keeps a ``ControlLedger``. It is the agency's truth:

- **Accounts** (banks): a balance and the holds on it in order of arrival. A hold freezes
  ``min(asked, what the earlier holds leave)``; what it could not freeze waits (轮候) and rises
  when an earlier hold is released or shrinks. The sum of holds never exceeds the balance; a
  withdrawal takes only what no hold covers; a deduction takes money from its own hold (and the
  balance) to the court's funds account.
- **Objects** (vehicles, real estate): a queue of seals. The first is the effective seal, the
  others 轮候 behind it; releasing one moves the ones behind it up.
- **Idempotency**: every operation runs once per idempotency key (``once``); a re-sent key
  gets the first answer back and is never applied twice. ``effective`` counts the operations
  applied, per key, so a test can see that each measure reached the agency exactly once.

The simulator translates its wire format to these calls and the ``Effect`` back; the ledger
knows no wire format. Money is ``Decimal`` yuan with two places.

What every agency that controls *objects* (a vehicle, a parcel, a securities holding) does alike
lives here too, so that each connector keeps only its wire format:

- ``ControlSimState`` (simulators): the kit's state with a ledger (its stats and reset);
  ``object_control``: seal or freeze an object behind the controls others hold, renew or release
  one; ``effect_wire``: an ``Effect`` in the agency's own field names;
- ``check_declared`` and ``control_result`` (adapters): refuse an operation the manifest does not
  declare before anything is sent; build the ``ControlResult`` from the fields of an answer,
  a broken field being a malformed (transient) answer.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from connectors.sdk.errors import RejectedError, TransientError
from connectors.sdk.manifest import Manifest
from connectors.sdk.simulator_kit import SimulatorState
from connectors.sdk.types import ControlRequest, ControlResult, ControlStatus

ZERO = Decimal("0.00")

EffectStatus = Literal["accepted", "partial", "refused"]


@dataclass(frozen=True, slots=True)
class Effect:
    """What an operation did: its status, the amount frozen or deducted, the 轮候 position."""

    status: EffectStatus
    reference: str | None = None
    amount: Decimal | None = None
    queue_position: int | None = None
    until: date | None = None
    transfer_reference: str | None = None
    code: str | None = None
    reason: str | None = None
    answered_at: float | None = None  # epoch seconds, set when first applied


def refused(code: str, reason: str) -> Effect:
    return Effect("refused", code=code, reason=reason)


@dataclass
class Hold:
    reference: str
    authority: str
    asked: Decimal | None  # None: the whole account
    until: date | None
    amount: Decimal = ZERO  # what it holds now
    active: bool = True


@dataclass
class Account:
    number: str
    balance: Decimal
    holds: list[Hold] = field(default_factory=list)

    @property
    def frozen(self) -> Decimal:
        return sum((h.amount for h in self.holds if h.active), ZERO)

    @property
    def available(self) -> Decimal:
        return self.balance - self.frozen

    def settle(self) -> None:
        """Give each active hold, in order, what it asks from what the earlier ones leave."""
        left = self.balance
        for hold in self.holds:
            if not hold.active:
                continue
            want = left if hold.asked is None else hold.asked
            hold.amount = max(ZERO, min(want, left))
            left -= hold.amount

    def position(self, hold: Hold) -> int:
        """1 when the hold is fully effective; else 1 + the active holds ahead of it (轮候)."""
        if hold.asked is not None and hold.amount >= hold.asked:
            return 1
        if hold.asked is None and hold.amount > ZERO:
            return 1
        ahead = itertools.takewhile(lambda h: h is not hold, self.holds)
        return 1 + sum(1 for h in ahead if h.active)


@dataclass
class Seal:
    reference: str
    authority: str
    until: date | None
    active: bool = True


@dataclass
class SealedObject:
    key: str
    seals: list[Seal] = field(default_factory=list)

    def position(self, seal: Seal) -> int:
        active = [s for s in self.seals if s.active]
        return active.index(seal) + 1 if seal in active else 0


@dataclass
class ControlLedger:
    """The agency's controls (see the module docstring)."""

    prefix: str = "KZ"
    accounts: dict[str, Account] = field(default_factory=dict)
    objects: dict[str, SealedObject] = field(default_factory=dict)
    answers: dict[str, Effect] = field(default_factory=dict)
    effective: Counter[str] = field(default_factory=Counter)
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _ref(self, kind: str) -> str:
        return f"{self.prefix}{kind}{next(self._serial):08d}"

    def once(self, key: str, apply: Callable[[], Effect]) -> Effect:
        """Apply the operation once per idempotency key; a re-sent key gets the first answer.

        A refusal is kept too: the same request again is refused the same way."""
        if key in self.answers:
            return self.answers[key]
        effect = replace(apply(), answered_at=time.time())
        self.answers[key] = effect
        if effect.status != "refused":
            self.effective[key] += 1
        return effect

    # -- accounts ---------------------------------------------------------------------------

    def account(self, number: str, balance: Decimal, others: Sequence[tuple[str, Decimal]] = ()) -> Account:
        """The account, made on first sight with its balance and other authorities' freezes."""
        if number not in self.accounts:
            acct = Account(number, balance)
            for authority, amount in others:
                acct.holds.append(Hold(self._ref("Q"), authority, amount, None))
            acct.settle()
            self.accounts[number] = acct
        return self.accounts[number]

    def _find_hold(self, reference: str) -> tuple[Account, Hold] | None:
        for acct in self.accounts.values():
            for hold in acct.holds:
                if hold.reference == reference:
                    return acct, hold
        return None

    def freeze(self, acct: Account, authority: str, asked: Decimal | None, until: date | None) -> Effect:
        if acct.balance <= ZERO and asked is None:
            return refused("NO_BALANCE", "账户无余额可冻结")
        hold = Hold(self._ref("D"), authority, asked, until)
        acct.holds.append(hold)
        acct.settle()
        if asked is not None and ZERO < hold.amount < asked:
            status: EffectStatus = "partial"
        else:
            status = "accepted"
        return Effect(status, hold.reference, hold.amount, acct.position(hold), until)

    def renew(self, reference: str, until: date | None) -> Effect:
        found = self._find_hold(reference) or self._find_seal(reference)
        if found is None:
            return refused("CONTROL_NOT_FOUND", "原控制措施不存在")
        owner, item = found
        if not item.active:
            return refused("CONTROL_NOT_ACTIVE", "原控制措施已解除，不能续行")
        item.until = until
        if isinstance(owner, Account) and isinstance(item, Hold):
            return Effect("accepted", reference, item.amount, owner.position(item), until)
        assert isinstance(owner, SealedObject) and isinstance(item, Seal)
        return Effect("accepted", reference, None, owner.position(item), until)

    def release(self, reference: str) -> Effect:
        found = self._find_hold(reference) or self._find_seal(reference)
        if found is None:
            return refused("CONTROL_NOT_FOUND", "原控制措施不存在")
        owner, item = found
        if not item.active:
            return refused("CONTROL_NOT_ACTIVE", "原控制措施已解除")
        item.active = False
        if isinstance(owner, Account) and isinstance(item, Hold):
            released = item.amount
            item.amount = ZERO
            owner.settle()  # holds behind it (轮候) rise
            return Effect("accepted", reference, released, None)
        return Effect("accepted", reference, None, None)

    def deduct(self, reference: str, amount: Decimal, funds_account: str) -> Effect:
        found = self._find_hold(reference)
        if found is None:
            return refused("CONTROL_NOT_FOUND", "原冻结措施不存在")
        acct, hold = found
        if not hold.active:
            return refused("CONTROL_NOT_ACTIVE", "原冻结措施已解除，不能扣划")
        if not funds_account:
            return refused("FUNDS_ACCOUNT_MISSING", "缺少执行案款账户")
        taken = min(amount, hold.amount)
        if taken <= ZERO:
            return refused("NOTHING_FROZEN", "该冻结措施下无可扣划金额")
        acct.balance -= taken
        hold.amount -= taken
        if hold.asked is not None:
            hold.asked -= taken
        acct.settle()
        return Effect("partial" if taken < amount else "accepted", reference, taken, None,
                      transfer_reference=self._ref("HZ"))

    def withdraw(self, number: str, amount: Decimal) -> bool:
        """The debtor takes money out: only what no hold covers."""
        acct = self.accounts.get(number)
        if acct is None:
            return True
        if amount > acct.available:
            return False
        acct.balance -= amount
        return True

    # -- sealed objects -----------------------------------------------------------------------

    def sealed(self, key: str, others: Sequence[str] = ()) -> SealedObject:
        """The object, made on first sight with the seals other authorities hold on it."""
        if key not in self.objects:
            obj = SealedObject(key)
            for authority in others:
                obj.seals.append(Seal(self._ref("Q"), authority, None))
            self.objects[key] = obj
        return self.objects[key]

    def _find_seal(self, reference: str) -> tuple[SealedObject, Seal] | None:
        for obj in self.objects.values():
            for seal in obj.seals:
                if seal.reference == reference:
                    return obj, seal
        return None

    def seal(self, obj: SealedObject, authority: str, until: date | None) -> Effect:
        seal = Seal(self._ref("F"), authority, until)
        obj.seals.append(seal)
        return Effect("accepted", seal.reference, None, obj.position(seal), until)

    def position_of(self, reference: str) -> int | None:
        """The control's place now (1 effective, more 轮候), None when released or unknown."""
        found = self._find_hold(reference)
        if found is not None:
            return found[0].position(found[1]) if found[1].active else None
        seal = self._find_seal(reference)
        if seal is not None:
            return seal[0].position(seal[1]) or None
        return None

    def describe(self, key: str) -> dict[str, Any] | None:
        """An object's controls as the agency holds them (a simulator's ``/_sim`` view), None if unseen."""
        obj = self.objects.get(key)
        if obj is None:
            return None
        return {"key": key, "controls": [
            {"reference": s.reference, "authority": s.authority, "active": s.active,
             "until": None if s.until is None else s.until.isoformat(), "position": obj.position(s) or None}
            for s in obj.seals]}

    def stats(self) -> dict[str, int]:
        return {"effective_controls": sum(self.effective.values()),
                "duplicated_controls": sum(1 for n in self.effective.values() if n > 1)}

    def reset(self) -> None:
        self.accounts.clear()
        self.objects.clear()
        self.answers.clear()
        self.effective.clear()


# -- objects: what the simulators of vehicles, real estate and securities share ------------------


@dataclass
class ControlSimState(SimulatorState):
    """The simulator kit's state plus the agency's controls (``control_prefix`` starts its references)."""

    control_prefix: ClassVar[str] = "KZ"
    controls: ControlLedger = field(default_factory=ControlLedger)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.controls.prefix = self.control_prefix

    def stats(self) -> dict[str, Any]:
        return {**super().stats(), **self.controls.stats()}

    def reset(self) -> None:
        super().reset()
        self.controls.reset()


@dataclass(frozen=True, slots=True)
class EffectWire:
    """How one agency names the fields of a control answer (``effect_wire``)."""

    status: str
    reference: str
    queue: str
    until: str
    answered: str
    code: str
    reason: str
    date_format: str = "%Y-%m-%d"
    time_format: str = "%Y-%m-%d %H:%M:%S"
    statuses: tuple[str, str, str] = ("1", "2", "3")  # accepted, partial, refused


def effect_wire(effect: Effect, names: EffectWire, tz: Any) -> dict[str, Any]:
    """The answer's fields in the agency's names; empty text for what the effect does not carry."""
    accepted, partial, refused_ = names.statuses
    return {
        names.status: {"accepted": accepted, "partial": partial, "refused": refused_}[effect.status],
        names.reference: effect.reference or "",
        names.queue: "" if effect.queue_position is None else str(effect.queue_position),
        names.until: effect.until.strftime(names.date_format) if effect.until else "",
        names.answered: datetime.fromtimestamp(effect.answered_at or 0, tz).strftime(names.time_format),
        names.code: effect.code or "",
        names.reason: effect.reason or "",
    }

# The first operation on an object: a seal (查封) of a vehicle or a parcel, a freeze (冻结) of a
# securities holding; both queue (轮候) behind the controls already held.
TAKE_OPS = frozenset({"seal", "freeze"})


def object_control(ledger: ControlLedger, op: str, *, authority: str, until: date | None, reference: str,
                   locate: Callable[[], tuple[str, Sequence[str]] | Effect]) -> Effect:
    """Apply ``op`` to an object (not once-guarded: call it inside ``ledger.once``).

    ``locate`` (only for a first control) gives the object's key and the authorities that already
    control it (in order), or the agency's refusal (the subject holds no such object)."""
    if op in TAKE_OPS:
        found = locate()
        if isinstance(found, Effect):
            return found
        key, others = found
        return ledger.seal(ledger.sealed(key, others), authority, until)
    if op == "renew":
        return ledger.renew(reference, until)
    if op == "release":
        return ledger.release(reference)
    return refused("OP_NOT_SUPPORTED", f"不受理该类控制措施：{op}")


# -- adapters ----------------------------------------------------------------------------------


def check_declared(manifest: Manifest, request: ControlRequest, agency_zh: str) -> None:
    """Refuse (RejectedError ``control_not_supported``) an operation the manifest does not declare."""
    if manifest.controls is None or request.op not in manifest.controls.operations:
        raise RejectedError(f"{agency_zh}不受理该类控制措施：{request.op}", code="control_not_supported")
    if request.subject.kind not in manifest.subject_kinds:
        raise RejectedError(f"{agency_zh}不受理该类主体的控制措施", code="subject_kind")


def control_result(status: ControlStatus | None, *, agency_zh: str, answered_at: datetime, reference: object,
                   queue: object = None, until: object = None, until_format: str = "%Y-%m-%d",
                   amount: Decimal | None = None, code: object = None, reason: object = None,
                   raw: Mapping[str, Any] | None = None) -> ControlResult:
    """The ``ControlResult`` of an agency's answer, from its fields as sent (text or empty).

    An unknown status, a queue position that is not a number or an end date that does not parse
    is a malformed answer (transient: ask again with the same key, the agency answers the same)."""
    if status is None:
        raise TransientError(f"{agency_zh}控制应答状态无法识别", code="malformed")
    try:
        position = int(str(queue)) if queue not in (None, "") else None
        end = datetime.strptime(str(until), until_format).date() if until not in (None, "") else None
    except ValueError as exc:
        raise TransientError(f"{agency_zh}控制应答格式错误", code="malformed") from exc
    refused_ = status == "refused"
    return ControlResult(
        status=status, reference=str(reference or "") or None, answered_at=answered_at, amount=amount,
        queue_position=position, until=end,
        reason=(str(reason or "") or None) if refused_ else None,
        code=(str(code or "") or None) if refused_ else None,
        raw=dict(raw or {}),
    )


__all__ = [
    "TAKE_OPS",
    "ZERO",
    "Account",
    "ControlLedger",
    "ControlSimState",
    "Effect",
    "EffectStatus",
    "EffectWire",
    "Hold",
    "Seal",
    "SealedObject",
    "check_declared",
    "control_result",
    "effect_wire",
    "object_control",
    "refused",
]
