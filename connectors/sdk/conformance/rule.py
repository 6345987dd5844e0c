"""A conformance rule: a stable id, what it asks, how to fix a failure, and the check itself.

Rules register themselves with ``@rule(...)`` in the ``rules_*`` modules; ``suite.RULES`` holds
them in a fixed order. A check raises ``Violation(what, fix=...)``; the runner turns it into
``rule <id> failed: <what>; how to fix: <fix>``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connectors.sdk.manifest import Manifest

if TYPE_CHECKING:
    from connectors.sdk.conformance.harness import Harness


class Violation(Exception):
    """A connector broke a rule: ``what`` it did, and optionally a more precise ``fix``."""

    def __init__(self, what: str, *, fix: str | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.fix = fix


Applies = Callable[[Manifest], str | None]
"""None when the rule applies to a connector with this manifest, else why it is skipped."""


def always(_manifest: Manifest) -> str | None:
    return None


def deferred_only(manifest: Manifest) -> str | None:
    return None if manifest.answer_mode == "deferred" else "the connector answers synchronously"


def batch_only(manifest: Manifest) -> str | None:
    return None if manifest.batch is not None else "the manifest declares no batch"


def callbacks_only(manifest: Manifest) -> str | None:
    return None if manifest.callbacks else "the manifest declares no callbacks"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    fix: str
    check: Callable[[Harness], Awaitable[None]]
    applies: Applies = always
    needs_simulator: bool = True

    def message(self, what: str, fix: str | None = None) -> str:
        return f"rule {self.id} failed: {what}; how to fix: {fix or self.fix}"


REGISTERED: list[Rule] = []


def rule(
    rule_id: str,
    title: str,
    *,
    fix: str,
    applies: Applies = always,
    needs_simulator: bool = True,
) -> Callable[[Callable[[Harness], Awaitable[None]]], Callable[[Harness], Awaitable[None]]]:
    """Register the decorated ``async def check(h: Harness) -> None`` as a rule."""

    def register(check: Callable[[Harness], Awaitable[None]]) -> Callable[[Harness], Awaitable[None]]:
        if any(r.id == rule_id for r in REGISTERED):
            raise ValueError(f"two conformance rules are named {rule_id!r}")
        REGISTERED.append(Rule(rule_id, title, fix, check, applies, needs_simulator))
        return check

    return register


__all__ = [
    "REGISTERED",
    "Applies",
    "Rule",
    "Violation",
    "always",
    "batch_only",
    "callbacks_only",
    "deferred_only",
    "rule",
]
