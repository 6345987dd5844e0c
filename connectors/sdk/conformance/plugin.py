"""pytest plugin ``enforcement_conformance``: the conformance rules as pytest tests.

Installed with the service (entry point ``pytest11``), so any test suite in the environment
can use it:

- Over every installed connector (entry points ``enforcement.connectors``), one test per
  connector and rule: request the ``conformance_case`` fixture ::

      def test_conforms(conformance_case):
          conformance_case.check()

  ``pytest --conformance-connector real_estate --conformance-rule errors.auth`` narrows it.

- In a connector package's own tests, over itself (installed or not) ::

      from connectors.sdk.conformance.plugin import conformance_tests
      from my_connector import CONNECTOR

      test_conformance = conformance_tests(CONNECTOR)

  or mark a test: ``@pytest.mark.conformance(CONNECTOR, rules=["errors.auth"])``.

Tests are synchronous (each rule runs its own event loop in a worker thread), so they work
with or without pytest-asyncio.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pytest

from connectors.sdk.conformance.rule import Rule
from connectors.sdk.conformance.suite import RuleResult, rules_named, run_rule
from connectors.sdk.protocol import ConnectorSpec
from connectors.sdk.registry import Registry

FIXTURE = "conformance_case"


@dataclass(frozen=True, slots=True)
class ConformanceCase:
    """One rule over one connector."""

    spec: ConnectorSpec
    rule: Rule

    @property
    def id(self) -> str:
        return f"{self.spec.name}:{self.rule.id}"

    def run(self) -> RuleResult:
        """Run the rule in a fresh event loop of its own thread."""
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="conformance") as pool:
            return pool.submit(asyncio.run, run_rule(self.spec, self.rule)).result()

    def check(self) -> RuleResult:
        """Run the rule; a failure fails the test with the rule's message, n/a skips it."""
        result = self.run()
        if result.status == "failed":
            pytest.fail(result.message, pytrace=False)
        if result.status == "skipped":
            pytest.skip(f"{self.id}: not applicable ({result.message})")
        return result


def resolve(connectors: Iterable[ConnectorSpec | str]) -> list[ConnectorSpec]:
    """ConnectorSpecs as given, names looked up among the installed connectors."""
    wanted = list(connectors)
    registry = Registry.discover() if any(isinstance(c, str) for c in wanted) or not wanted else None
    if not wanted:
        assert registry is not None
        return [registry[name] for name in registry]
    return [c if isinstance(c, ConnectorSpec) else registry[c] for c in wanted]  # type: ignore[index]


def cases(connectors: Iterable[ConnectorSpec | str] = (), rules: Sequence[str] = ()) -> list[ConformanceCase]:
    """One case per connector and applicable rule (a sync connector has no deferred rules)."""
    return [
        ConformanceCase(spec, rule)
        for spec in resolve(connectors)
        for rule in rules_named(rules)
        if rule.applies(spec.manifest) is None
    ]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("enforcement-conformance", "connector conformance suite")
    group.addoption("--conformance-connector", action="append", default=[], metavar="NAME",
                    help="run the conformance rules over this installed connector only (repeatable)")
    group.addoption("--conformance-rule", action="append", default=[], metavar="RULE_ID",
                    help="run only this conformance rule (repeatable), e.g. errors.auth")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "conformance(*connectors, rules=()): run the connector conformance rules over these "
        "ConnectorSpecs or installed connector names (the test takes the conformance_case fixture)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if FIXTURE not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("conformance")
    connectors: list[ConnectorSpec | str] = list(marker.args) if marker else []
    rules: list[str] = list(marker.kwargs.get("rules", ())) if marker else []
    if not connectors:
        connectors = list(metafunc.config.getoption("conformance_connector") or [])
    rules = rules or list(metafunc.config.getoption("conformance_rule") or [])
    found = cases(connectors, rules)
    metafunc.parametrize(FIXTURE, found, ids=[c.id for c in found])


@pytest.fixture
def conformance_case(request: pytest.FixtureRequest) -> ConformanceCase:
    """One (connector, rule) pair; parametrized by this plugin."""
    case: ConformanceCase = request.param
    return case


def conformance_tests(*connectors: ConnectorSpec | str, rules: Sequence[str] = ()) -> Callable[..., None]:
    """A test function that runs the conformance rules over ``connectors``, one test per rule.

    Assign it to a ``test_*`` name in a test module: ``test_conformance = conformance_tests(CONNECTOR)``.
    """

    @pytest.mark.conformance(*connectors, rules=list(rules))
    def test_conformance(conformance_case: ConformanceCase) -> None:
        conformance_case.check()

    return test_conformance


__all__ = ["ConformanceCase", "cases", "conformance_case", "conformance_tests", "resolve"]
