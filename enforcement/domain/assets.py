"""Typed asset records, one class per kind of thing an agency reports.

Every record knows its ``kind``, its ``natural_key`` (what makes two answers the same asset,
used by the dossier merge) and how to become plain JSON data (``to_dict``). Amounts are
``Decimal`` yuan and travel as strings with two decimals, never as floats.

A connector from outside the project may bring its own record class: anything that satisfies
``AssetRecord`` merges into the dossier the same way.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol, runtime_checkable


@runtime_checkable
class AssetRecord(Protocol):
    """What the dossier needs of any record."""

    kind: ClassVar[str]

    def natural_key(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


def _plain(value: Any) -> Any:
    kind = type(value)  # the usual exact types first, without an isinstance call each
    if kind is Decimal:
        return f"{value:.2f}"
    if kind is date or kind is datetime:
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


# Values that are already plain JSON data (bool is an int, but say it): no conversion to look for.
_AS_IS = frozenset({str, int, bool, float})
# Per record class: its field names, and one getter reading them all (issue 19: ``fields()`` and a
# ``getattr`` per field, for every record of every answer a worker stores, were ~10% of its calls).
_LAYOUTS: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {}


def _layout(cls: type) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]:
    names = tuple(f.name for f in fields(cls))
    getter = operator.attrgetter(*names)
    # attrgetter of a single name returns the value itself, not a 1-tuple
    layout = (names, getter if len(names) > 1 else (lambda obj: (getter(obj),)))
    _LAYOUTS[cls] = layout
    return layout


class _Record:
    """Shared ``to_dict`` for the dataclass records below."""

    kind: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        names, values = _LAYOUTS.get(type(self)) or _layout(type(self))
        return {name: value if value is None or type(value) in _AS_IS else _plain(value)
                for name, value in zip(names, values(self), strict=True)}


@dataclass(frozen=True, slots=True)
class Freeze(_Record):
    """An amount already frozen on an account by an authority, in its order of precedence."""

    authority: str
    amount: Decimal
    order: int
    document_number: str = ""
    frozen_until: date | None = None


@dataclass(frozen=True, slots=True)
class BankAccount(_Record):
    kind: ClassVar[str] = "bank_account"

    bank_name: str
    branch: str
    account_number: str
    account_type: str  # current | fixed | card | wealth
    currency: str
    balance: Decimal
    available_balance: Decimal
    status: str  # 正常 | 冻结 | 销户
    freezes: tuple[Freeze, ...] = ()

    def natural_key(self) -> str:
        return f"{self.bank_name}:{self.account_number}:{self.currency}"


@dataclass(frozen=True, slots=True)
class Vehicle(_Record):
    kind: ClassVar[str] = "vehicle"

    plate_number: str
    plate_type: str
    vin: str
    engine_number: str
    make_model: str
    colour: str
    use: str
    first_registered_on: date
    status_codes: str  # e.g. "A" or "KQ": one letter a status, GA 24.1 codes
    mortgaged: bool
    seizure_count: int

    def natural_key(self) -> str:
        return self.vin or self.plate_number


@dataclass(frozen=True, slots=True)
class TravelDocument(_Record):
    kind: ClassVar[str] = "travel_document"

    document_type: str  # passport | hk_macao_permit | taiwan_permit
    document_number: str
    issued_on: date
    expires_on: date
    status: str

    def natural_key(self) -> str:
        return f"{self.document_type}:{self.document_number}"


@dataclass(frozen=True, slots=True)
class BorderCrossing(_Record):
    kind: ClassVar[str] = "border_crossing"

    crossed_at: datetime
    port: str
    direction: str  # exit | entry
    destination: str
    document_number: str = ""

    def natural_key(self) -> str:
        return f"{self.crossed_at.isoformat()}:{self.port}:{self.direction}"


@dataclass(frozen=True, slots=True)
class ExitRestriction(_Record):
    kind: ClassVar[str] = "exit_restriction"

    in_force: bool
    authority: str = ""
    since: date | None = None

    def natural_key(self) -> str:
        return "exit_restriction"


@dataclass(frozen=True, slots=True)
class Employment(_Record):
    kind: ClassVar[str] = "employment"

    employer_name: str
    employer_credit_code: str
    insurance_types: tuple[str, ...]
    contribution_base: Decimal
    status: str
    last_paid_month: str  # YYYY-MM

    def natural_key(self) -> str:
        return self.employer_credit_code or self.employer_name


@dataclass(frozen=True, slots=True)
class Pension(_Record):
    kind: ClassVar[str] = "pension"

    monthly_amount: Decimal
    paying_agency: str
    since: date | None = None

    def natural_key(self) -> str:
        return self.paying_agency


@dataclass(frozen=True, slots=True)
class HotelStay(_Record):
    kind: ClassVar[str] = "hotel_stay"

    hotel_name: str
    star_rating: int  # 0 = not star-rated
    address: str
    checked_in_at: datetime
    checked_out_at: datetime | None
    room: str

    def natural_key(self) -> str:
        return f"{self.hotel_name}:{self.checked_in_at.isoformat()}:{self.room}"


@dataclass(frozen=True, slots=True)
class SecuritiesHolding(_Record):
    """One security held in one securities account (证券账户) at the central depository (中国结算),
    valued at the depository's data date: the quantity held, how much of it is already frozen,
    the closing price used and the day of that price (earlier than ``valued_on`` when trading was
    suspended), and the market value."""

    kind: ClassVar[str] = "securities_holding"

    account_number: str  # 证券账户号码: Shanghai A+9 digits (persons) or B+9 (institutions); Shenzhen 00/08+8
    market: str  # SH | SZ | BJ
    account_status: str  # 正常 | 冻结 | 挂失 | 休眠 | 注销
    custodian: str  # 托管单元: the securities firm's branch where the holding is kept
    security_code: str
    security_name: str
    security_type: str  # stock | fund | bond
    quantity: int  # shares, fund units or bonds (张)
    frozen_quantity: int  # of which frozen by an authority
    price: Decimal  # closing price on ``price_date``, three decimals (funds quote to 0.001)
    price_date: date
    market_value: Decimal  # quantity x price, yuan
    valued_on: date  # the depository's data date: holdings as at the end of this settlement day

    def natural_key(self) -> str:
        return f"{self.market}:{self.account_number}:{self.security_code}"

    def to_dict(self) -> dict[str, Any]:
        data = _Record.to_dict(self)
        data["price"] = f"{self.price:.3f}"
        return data


RECORD_TYPES: dict[str, type[_Record]] = {
    cls.kind: cls
    for cls in (
        BankAccount,
        Vehicle,
        TravelDocument,
        BorderCrossing,
        ExitRestriction,
        Employment,
        Pension,
        HotelStay,
        SecuritiesHolding,
    )
}

__all__ = [
    "RECORD_TYPES",
    "AssetRecord",
    "BankAccount",
    "BorderCrossing",
    "Employment",
    "ExitRestriction",
    "Freeze",
    "HotelStay",
    "Pension",
    "SecuritiesHolding",
    "TravelDocument",
    "Vehicle",
]
