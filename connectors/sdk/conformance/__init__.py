"""The connector conformance suite: rules every connector must pass, runnable by anyone.

    from connectors.sdk.conformance import run_suite
    report = await run_suite(CONNECTOR)      # a ConnectorSpec
    print(report.format())

Also ``enforcement connectors verify <name>`` and, in pytest, the plugin
``connectors.sdk.conformance.plugin`` (registered as ``enforcement_conformance``).
"""

from __future__ import annotations

from connectors.sdk.conformance.rule import Rule, Violation
from connectors.sdk.conformance.suite import ORDER, RULES, Report, RuleResult, rules_named, run_rule, run_suite

__all__ = ["ORDER", "RULES", "Report", "Rule", "RuleResult", "Violation", "rules_named", "run_rule", "run_suite"]
