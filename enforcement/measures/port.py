"""What the measures feature needs of the agencies at run time: a connector that takes control
operations, by agency name. The composition root (``enforcement.app``) hands it the searches
feature's agency runtimes through this narrow, read-only door; measures never import searches."""

from __future__ import annotations

from typing import Protocol

from connectors.sdk.types import ControlOutcome, ControlRequest


class ControlGateway(Protocol):
    """Send one control operation to ``agency`` (raises the SDK's errors: ``TransientError``,
    ``RejectedError``; ``KeyError`` for an agency not connected). An agency that answers controls
    asynchronously (banks) answers ``Pending`` with a ticket, polled with ``control_status``."""

    async def control(self, agency: str, request: ControlRequest) -> ControlOutcome: ...

    async def control_status(self, agency: str, ticket: str) -> ControlOutcome: ...

    def answer_within_seconds(self, agency: str) -> float:
        """How long the agency may take to answer a control it accepted (its manifest's
        ``controls.deadline_seconds``)."""
        ...


__all__ = ["ControlGateway"]
