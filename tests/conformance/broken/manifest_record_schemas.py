"""The manifest declares a record kind nobody wrote a schema for."""

from __future__ import annotations

from tests.conformance.broken._base import VEHICLES, manifest_with, spec

EXPECTED = ("manifest.record_schemas", "record kind 'vessel' has no schema")
CONNECTOR = spec(VEHICLES, manifest=manifest_with(VEHICLES.manifest, record_kinds=["vehicle", "vessel"]))
