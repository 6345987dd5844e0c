"""What the measures feature needs of the agencies at run time: a connector that takes control
operations, by agency name. The composition root (``enforcement.app``) hands it the searches
feature's agency runtimes through this narrow, read-only door; measures never import searches."""

from __future__ import annotations

from typing import Protocol

from connectors.sdk.types import ControlRequest, ControlResult


class ControlGateway(Protocol):
    """Send one control operation to ``agency`` (raises the SDK's errors: ``TransientError``,
    ``RejectedError``; ``KeyError`` for an agency not connected)."""

    async def control(self, agency: str, request: ControlRequest) -> ControlResult: ...


__all__ = ["ControlGateway"]
