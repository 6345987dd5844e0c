"""``pii_fields`` forgets the owner's ID number (sfzmhm) and name (syr)."""

from __future__ import annotations

from tests.conformance.broken._base import VEHICLES, manifest_with, spec

EXPECTED = ("manifest.pii_fields", "the wire fields ['sfzmhm', 'syr'] carry the subject's ID number or name")
CONNECTOR = spec(VEHICLES, manifest=manifest_with(VEHICLES.manifest, pii_fields=["hphm", "clsbdh", "fdjh"]))
