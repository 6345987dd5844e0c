"""Who is asking: an authenticated user of the service. Pure value type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["judge", "supervisor", "ops", "agency"]
ROLES: tuple[Role, ...] = ("judge", "supervisor", "ops", "agency")


@dataclass(frozen=True, slots=True)
class Actor:
    login: str
    role: Role
    display_name: str
    court_code: str | None = None
    officer_id: str | None = None
    agency: str | None = None

    @property
    def is_judge(self) -> bool:
        return self.role == "judge"


__all__ = ["ROLES", "Actor", "Role"]
