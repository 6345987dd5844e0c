"""The service's conformance suite over this package, through the service's pytest plugin:
one test per rule (``pytest -k errors.auth`` picks one)."""

from __future__ import annotations

from connectors.sdk.conformance.plugin import conformance_tests

from real_estate_connector import CONNECTOR

test_real_estate_conforms = conformance_tests(CONNECTOR)
