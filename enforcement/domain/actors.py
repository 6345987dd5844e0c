"""Who is asking: an authenticated user of the service. Pure value type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["judge", "supervisor", "ops", "agency", "case_system"]
# judge: searches and reads their own cases; supervisor: reads within their court; ops: health and
# metrics only; agency: its own callbacks only; case_system: a court's case-management system,
# pushing that court's cases.
ROLES: tuple[Role, ...] = ("judge", "supervisor", "ops", "agency", "case_system")


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
