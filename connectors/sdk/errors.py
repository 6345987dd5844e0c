"""The three kinds of agency failure, translated at the connector boundary.

Leaf module: imports nothing from the project. A connector raises exactly one of these
(``raise TransientError(...) from exc``); the orchestrator decides what to do with it and is
the only place that retries.
"""

from __future__ import annotations

from typing import Any


class ConnectorError(Exception):
    """The agency call failed."""

    kind: str = "error"

    def __init__(
        self, message: str | None = None, *, code: str | None = None, detail: Any = None
    ) -> None:
        self.message = message or (self.__doc__ or "").strip()
        self.code = code or self.kind
        self.detail = detail  # the agency's parsed error answer, when there was one
        super().__init__(self.message)


class TransientError(ConnectorError):
    """The agency could not answer now; the same query may succeed later."""

    kind = "transient"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        retry_after: float | None = None,
        detail: Any = None,
    ) -> None:
        super().__init__(message, code=code, detail=detail)
        self.retry_after = retry_after


class AuthError(ConnectorError):
    """The agency refused our credentials; stop calling it and alert operations."""

    kind = "auth"


class RejectedError(ConnectorError):
    """The agency refused this query for good, and said why."""

    kind = "rejected"


class ConfigurationError(ConnectorError):
    """The connector's configuration is incomplete or wrong."""

    kind = "configuration"


__all__ = ["AuthError", "ConfigurationError", "ConnectorError", "RejectedError", "TransientError"]
