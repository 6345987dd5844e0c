"""``hosts`` lists URLs instead of host names."""

from __future__ import annotations

from tests.conformance.broken._base import VEHICLES, manifest_with, spec

EXPECTED = ("manifest.hosts", "`hosts` holds entries that are not bare host names: ['https://zdz-jtgl.court.internal:443']")
CONNECTOR = spec(VEHICLES, manifest=manifest_with(VEHICLES.manifest, hosts=["https://zdz-jtgl.court.internal:443"]))
