"""The conformance suite over every installed connector (the six built-in ones and any package
registered under the ``enforcement.connectors`` entry point), one test per connector and rule,
through the pytest plugin ``enforcement_conformance``."""

from __future__ import annotations

from connectors.sdk.conformance.plugin import ConformanceCase
from connectors.sdk.registry import Registry

BUILT_IN = {"banks", "exit_entry", "hotels", "securities", "social_insurance", "vehicles"}


def test_every_installed_connector_conforms(conformance_case: ConformanceCase) -> None:
    result = conformance_case.check()
    assert result.status == "passed"


def test_the_suite_covers_every_built_in_connector() -> None:
    assert set(Registry.discover()) >= BUILT_IN
