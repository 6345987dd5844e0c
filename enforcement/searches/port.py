"""The one door from cases into searches: what the cases feature may ask of the searches feature.

The six-monthly re-query of a 终本 debtor (``enforcement.cases.requery``) has a search made on
its own, with no judge asking (``SearchPort.submit_system``); so does the consumption-restriction
check of an organization debtor's responsible persons (``enforcement.cases.breach_check``), limited
to the agencies that can show a breach. ``SearchFollower`` is the other direction: the searches
feature tells a follower (wired by the composition root) that a judge's search was made. The cases
feature depends on this module only, never on ``enforcement.searches.service``; the composition
root (``enforcement.app``) hands it the searches implementation. This module imports only
``enforcement.domain`` (docs/whiteboard.toml: ``search_port -> domain``).

The transaction: claiming a re-query round, creating its search and marking the round submitted
must commit together (a round is searched once, however many workers run and whenever one
dies; a crash in between leaves the round pending and nothing sent). The choice made here, the
simplest that keeps that guarantee honestly: the port takes an **opaque transaction handle**.
The cases re-query store opens the transaction (``RequeryStore.transaction()``), and the
re-query service passes its ``tx.handle`` to ``submit_system`` without looking into it; the
searches implementation writes the search, its tasks, events and audit record with its own SQL
(``submit_search``) on that handle, i.e. inside the caller's transaction. Neither side reaches
into the other's tables or code; the handle is the only shared thing, and its concrete type (a
database connection holding an open transaction) is known only to the two stores. A handle from
anywhere else is a programming error.

Errors: ``submit_system`` raises ``enforcement.domain.errors.DomainError`` subclasses when the
search cannot be made (``CaseNotFound``: no such case; ``invalid_purpose``; ``no_agency``: no
connected agency covers the subject); the caller decides what that means for the round. Any
other exception is a failure of the transaction, which the caller lets roll back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from enforcement.domain.subjects import Subject

__all__ = ["SearchFollower", "SearchPort", "SystemSearch", "SystemSearchMade", "TransactionHandle"]

# An open transaction, opaque to whoever holds it (see the module docstring): only the stores
# on each side of the port know what it is.
TransactionHandle = object


@dataclass(frozen=True, slots=True)
class SystemSearch:
    """A search the service makes on its own (no judge asking): every agency that covers the
    subject is asked afresh, the case's judge named to the agencies as the network requires,
    the search recorded as requested by ``requested_by`` (``system:...``) and audited with
    ``details`` added to its audit record."""

    case_id: int
    subject: Subject
    purpose: str
    requested_by: str
    details: Mapping[str, Any] = field(default_factory=dict)
    # Only these agencies (empty: every agency covering the subject). A consumption-restriction
    # check of an organization's responsible person asks the agencies that can show a breach, and
    # nothing else: he is not a debtor, his property is none of the case's business.
    agencies: tuple[str, ...] = ()
    actor_role: str = "system"  # the audit record's role: a judge's breach check is audited as his


class SearchFollower(Protocol):
    """Told after a judge's search was made (e.g. the consumption-restriction check of an
    organization debtor's responsible persons follows a 全网查询 of the organization). Raises
    nothing: a failure is the follower's to log; the search it follows stands."""

    async def __call__(self, actor_login: str, actor_role: str, case_id: int, subject: Subject) -> None: ...


@dataclass(frozen=True, slots=True)
class SystemSearchMade:
    """The search made (its tasks commit with the caller's transaction)."""

    search_id: UUID


class SearchPort(Protocol):
    """What cases may ask of searches."""

    async def submit_system(self, tx: TransactionHandle, request: SystemSearch) -> SystemSearchMade:
        """Make ``request``'s search inside the transaction ``tx`` (it commits or rolls back with
        the caller's work). Raises a ``DomainError`` when the search cannot be made."""
        ...
