"""Run agency simulators as real HTTP servers on loopback, for the demo, tests and benchmarks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from aiohttp import web

from connectors.sdk.protocol import ConnectorSpec
from connectors.sdk.simulator_kit import SimulatorConfig


@dataclass
class RunningSimulator:
    name: str
    url: str
    runner: web.AppRunner


async def start_simulators(
    specs: Iterable[ConnectorSpec],
    *,
    host: str = "127.0.0.1",
    ports: Mapping[str, int] | None = None,
    configs: Mapping[str, SimulatorConfig] | None = None,
    use_default_ports: bool = False,
) -> dict[str, RunningSimulator]:
    """Start one server per connector that ships a simulator. Port 0 (the default unless
    ``use_default_ports``) picks a free port; the URL returned says which."""
    running: dict[str, RunningSimulator] = {}
    for spec in specs:
        if spec.simulator is None:
            continue
        config = (configs or {}).get(spec.name, SimulatorConfig())
        app: Any = spec.simulator(config)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        port = (ports or {}).get(spec.name)
        if port is None:
            port = (urlparse(spec.manifest.default_url).port or 0) if use_default_ports else 0
        site = web.TCPSite(runner, host, port, reuse_address=True)
        await site.start()
        actual = runner.addresses[0][1]
        running[spec.name] = RunningSimulator(spec.name, f"http://{host}:{actual}", runner)
    return running


async def stop_simulators(running: Mapping[str, RunningSimulator]) -> None:
    await asyncio.gather(*(r.runner.cleanup() for r in running.values()))


__all__ = ["RunningSimulator", "start_simulators", "stop_simulators"]
