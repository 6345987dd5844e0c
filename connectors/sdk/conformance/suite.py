"""Run the conformance rules over a connector and report, rule by rule.

Each rule runs on its own: a fresh simulator (the connector's own, on loopback) and a fresh
client session, so a rule's faults never leak into the next one.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from connectors.sdk.conformance import rules_calls, rules_controls, rules_deferred, rules_errors, rules_manifest
from connectors.sdk.conformance.harness import ESCAPE_FIX, Harness
from connectors.sdk.conformance.rule import REGISTERED, Rule, Violation
from connectors.sdk.errors import ConnectorError
from connectors.sdk.protocol import ConnectorSpec

_RULE_MODULES = (rules_manifest, rules_calls, rules_errors, rules_deferred, rules_controls)  # registration order

Status = Literal["passed", "failed", "skipped"]

ORDER = (
    "manifest.valid",
    "manifest.hosts",
    "manifest.record_schemas",
    "simulator.kit",
    "manifest.pii_fields",
    "check.succeeds",
    "config.effective_manifest",
    "check.bad_credentials",
    "check.unreachable",
    "search.answer_mode",
    "search.records_valid",
    "search.idempotent",
    "search.deterministic",
    "errors.transient",
    "errors.rate_limited",
    "errors.auth",
    "errors.rejected",
    "timeout.honoured",
    "deferred.lifecycle",
    "batch.lifecycle",
    "batch.errors",
    "callbacks.signed",
    "controls.declared",
    "controls.idempotent",
    "controls.async",
)
RULES: tuple[Rule, ...] = tuple(sorted(REGISTERED, key=lambda r: ORDER.index(r.id)))
assert tuple(r.id for r in RULES) == ORDER, "every rule has its place in ORDER"


def rules_named(ids: Iterable[str]) -> list[Rule]:
    """The rules with these ids (all rules when none), in suite order."""
    wanted = list(ids)
    unknown = sorted(set(wanted) - set(ORDER))
    if unknown:
        raise KeyError(f"no conformance rule named {unknown}; known: {list(ORDER)}")
    return [r for r in RULES if not wanted or r.id in wanted]


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: Rule
    status: Status
    message: str = ""
    seconds: float = 0.0


@dataclass
class Report:
    connector: str
    version: str
    results: list[RuleResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.status != "failed" for r in self.results)

    @property
    def failures(self) -> list[RuleResult]:
        return [r for r in self.results if r.status == "failed"]

    def format(self) -> str:
        lines = [f"{self.connector} {self.version}"]
        for r in self.results:
            mark = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}[r.status]
            detail = f"  ({r.message})" if r.status == "skipped" else ""
            lines.append(f"  {mark}  {r.rule.id:<26} {r.rule.title}{detail}")
            if r.status == "failed":
                lines.append(f"        {r.message}")
        passed = sum(r.status == "passed" for r in self.results)
        skipped = sum(r.status == "skipped" for r in self.results)
        lines.append(f"  {passed} passed, {len(self.failures)} failed, {skipped} not applicable")
        return "\n".join(lines)


async def run_rule(spec: ConnectorSpec, rule: Rule) -> RuleResult:
    """Run one rule over one connector; never raises for a connector's fault."""
    skip = rule.applies(spec.manifest)
    if skip is not None:
        return RuleResult(rule, "skipped", skip)
    started = time.monotonic()
    try:
        async with Harness.open(spec, simulator=rule.needs_simulator) as harness:
            await rule.check(harness)
    except Violation as v:
        return RuleResult(rule, "failed", rule.message(v.what, v.fix), time.monotonic() - started)
    except ConnectorError as exc:
        what = f"an unexpected {type(exc).__name__} ({exc.code}): {exc.message[:200]}"
        return RuleResult(rule, "failed", rule.message(what), time.monotonic() - started)
    except Exception as exc:
        what = f"{type(exc).__name__} escaped: {str(exc)[:200]}"
        return RuleResult(rule, "failed", rule.message(what, ESCAPE_FIX), time.monotonic() - started)
    return RuleResult(rule, "passed", "", time.monotonic() - started)


async def run_suite(spec: ConnectorSpec, rules: Sequence[Rule] | None = None) -> Report:
    """Every rule (or the given ones) over ``spec``, in order."""
    report = Report(spec.name, spec.manifest.version)
    for rule in RULES if rules is None else rules:
        report.results.append(await run_rule(spec, rule))
    return report


__all__ = ["ORDER", "RULES", "Report", "RuleResult", "rules_named", "run_rule", "run_suite"]
