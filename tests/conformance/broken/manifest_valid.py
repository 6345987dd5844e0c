"""The manifest carries a version that is not MAJOR.MINOR.PATCH."""

from __future__ import annotations

from dataclasses import replace

from tests.conformance.broken._base import VEHICLES, spec

EXPECTED = ("manifest.valid", "manifest invalid at version: '1.0-beta' does not match")
CONNECTOR = spec(VEHICLES, manifest=replace(VEHICLES.manifest, raw={**VEHICLES.manifest.raw, "version": "1.0-beta"}))
