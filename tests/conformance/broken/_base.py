"""Helpers for the broken connectors: the real connectors to break, and manifest edits."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from connectors.banks import CONNECTOR as BANKS
from connectors.sdk.manifest import Manifest
from connectors.sdk.protocol import ConnectorFactory, ConnectorSpec, SimulatorFactory
from connectors.vehicles import CONNECTOR as VEHICLES


def manifest_with(base: Manifest, **changes: Any) -> Manifest:
    """``base`` with manifest.json fields changed (validated, and the package kept)."""
    return replace(Manifest.parse({**base.raw, **changes}), package=base.package)


def spec(
    base: ConnectorSpec,
    *,
    factory: ConnectorFactory | None = None,
    manifest: Manifest | None = None,
    simulator: SimulatorFactory | None = None,
) -> ConnectorSpec:
    return ConnectorSpec(
        manifest=manifest or base.manifest,
        factory=factory or base.factory,
        simulator=simulator or base.simulator,
    )


__all__ = ["BANKS", "VEHICLES", "manifest_with", "spec"]
