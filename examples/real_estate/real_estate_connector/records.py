"""The record this package brings to the dossier: one registered real property right.

The service's own record classes are re-exported by ``connectors.sdk`` (``Vehicle``, ...); a
connector from outside ships its own. Anything satisfying ``connectors.sdk.AssetRecord`` (a
``kind`` class variable, ``natural_key()`` and ``to_dict()``) merges into the dossier, and
``to_dict()`` matches this package's ``schemas/records/real_estate.schema.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Literal

PropertyType = Literal["parcel", "building"]


@dataclass(frozen=True, slots=True)
class RealEstate:
    """A land parcel (宗地) or a building unit (房屋) registered to the subject."""

    kind: ClassVar[str] = "real_estate"

    unit_number: str  # 不动产单元号: stable across transfers, unlike the certificate number
    certificate_number: str
    property_type: PropertyType
    address: str
    area_sqm: Decimal
    use: str
    right_type: str
    ownership: str  # 单独所有 | 共同共有 | 按份共有
    share: str | None  # "50%" for 按份共有
    registered_on: date
    mortgaged: bool
    mortgage_amount: Decimal | None
    seized: bool
    seizure_count: int

    def natural_key(self) -> str:
        return self.unit_number

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit_number": self.unit_number,
            "certificate_number": self.certificate_number,
            "property_type": self.property_type,
            "address": self.address,
            "area_sqm": f"{self.area_sqm:.2f}",
            "use": self.use,
            "right_type": self.right_type,
            "ownership": self.ownership,
            "share": self.share,
            "registered_on": self.registered_on.isoformat(),
            "mortgaged": self.mortgaged,
            "mortgage_amount": None if self.mortgage_amount is None else f"{self.mortgage_amount:.2f}",
            "seized": self.seized,
            "seizure_count": self.seizure_count,
        }


__all__ = ["PropertyType", "RealEstate"]
