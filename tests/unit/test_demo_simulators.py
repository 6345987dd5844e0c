"""``enforcement demo`` starts every built-in agency's simulator at a person's pace, the securities
depository (中国结算) among them, on its manifest's port."""

from __future__ import annotations

from connectors.sdk.registry import Registry
from enforcement.commands.demo import DEMO_LATENCY_MS, demo_simulator_configs


def test_the_demo_paces_every_built_in_simulator_securities_included() -> None:
    configs = demo_simulator_configs("http://127.0.0.1:8080")
    built_in = {n for n, spec in Registry.discover().items() if spec.factory.__module__.startswith("connectors.")}
    assert "securities" in built_in and built_in <= set(configs)
    assert configs["securities"].latency_median_ms == DEMO_LATENCY_MS * 1.5
    assert Registry.discover()["securities"].manifest.default_url == "http://127.0.0.1:9107"
