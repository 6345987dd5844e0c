"""The kernel's error catalogue: which database failures mean "the database is away for now"
(retry; the API answers 503 ``unavailable``) rather than a bug, and the kernel's own errors.

The kernel raises few errors of its own; they are faults of configuration or of the database,
never of a request, so they are plain exceptions, not ``DomainError``::

    RuntimeError
    └── kernel.audit.AuditKeyMismatch    the audit chain was started with another key (the chainer
                                         stops chaining; ``audit verify`` reports wrong_key)
    ValueError                           bad settings (settings, the audit key, JWT algorithms),
                                         an unknown role in app_user (kernel.users.actor_from_row)

``DATABASE_UNAVAILABLE`` (below): the driver's and the OS's ways of saying the database is away.
"""

from __future__ import annotations

import asyncpg

DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    ConnectionError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
)


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is away for now (retry), not a bug."""
    return isinstance(exc, DATABASE_UNAVAILABLE)


__all__ = ["DATABASE_UNAVAILABLE", "is_database_unavailable"]
