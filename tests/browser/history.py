"""The demo's case histories (``enforcement/commands/demo_history.py``), pushed through the test
client as the court's case system."""

from __future__ import annotations

from datetime import date
from typing import Any

from enforcement.commands import demo_history
from enforcement.commands.demo_history import (
    DOSSIER_CASE,
    DOSSIER_DEBTOR,
    DOSSIER_FILED,
    FIRST_SEARCH_TO,
    RESTRICTION_ON,
    SYSTEM,
    CourtHistory,
    breaching_stays,
    court_history,
)


def _push(api: Any) -> demo_history.Push:
    async def push(path: str, body: bytes) -> tuple[int, Any]:
        status, report = await api.request("POST", path, login=SYSTEM, role="case_system", data=body,
                                           headers={"Content-Type": "application/x-ndjson"})
        return status, report

    return push


async def push_court_history(api: Any, today: date | None = None) -> CourtHistory:
    return await demo_history.push_court_history(_push(api), today)


async def push_dossier_case(api: Any) -> None:
    await demo_history.push_dossier_case(_push(api))


__all__ = [
    "DOSSIER_CASE", "DOSSIER_DEBTOR", "DOSSIER_FILED", "FIRST_SEARCH_TO", "RESTRICTION_ON", "CourtHistory",
    "breaching_stays", "court_history", "push_court_history", "push_dossier_case",
]
