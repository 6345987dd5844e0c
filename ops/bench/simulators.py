"""One agency simulator in a process of its own, for the benchmarks.

    python ops/bench/simulators.py --agency vehicles [--config '{"latency_median_ms": 50}'] [--timing]

Prints ``{"<agency>": "http://127.0.0.1:<port>"}`` on one line once it listens, then serves until
SIGTERM. The simulators run outside the service's processes so that they never share its event
loop; uvloop, as the service uses.

``--timing`` records, for every request carrying an idempotency key (``<search id>:<agency>``,
in a header or in the body, whatever the agency's wire format), how long the simulator took to
answer it, and serves ``GET /_bench/timings`` -> ``{search id: [slowest call's seconds, first
call's arrival, last call's answer]}`` (Unix times). The overhead benchmark subtracts the
slowest answer from the search's completion time, and splits the rest into before the first
call and after the last answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

KEY = re.compile(rb"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?::|%3A)[a-z_]+", re.IGNORECASE)


def timing_middleware(timings: dict[str, list[float]]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """search id -> [slowest call's seconds, first call's arrival, last call's answer] (Unix time)."""

    @web.middleware
    async def timing(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                     ) -> web.StreamResponse:
        if request.path.startswith("/_"):
            return await handler(request)
        loop = asyncio.get_running_loop()
        arrived, started = time.time(), loop.time()
        body = await request.read() if request.can_read_body else b""
        try:
            return await handler(request)
        finally:
            elapsed = loop.time() - started
            answered = arrived + elapsed
            haystack = body + "\n".join(request.headers.values()).encode()
            for match in KEY.finditer(haystack):
                search_id = match.group(1).decode().lower()
                seen = timings.get(search_id)
                if seen is None:
                    timings[search_id] = [elapsed, arrived, answered]
                else:
                    seen[0] = max(seen[0], elapsed)
                    seen[1] = min(seen[1], arrived)
                    seen[2] = max(seen[2], answered)

    return timing


async def serve(agency: str, config_data: dict[str, object], timing: bool) -> None:
    from connectors.sdk.registry import Registry
    from connectors.sdk.simulator_kit import SimulatorConfig

    spec = Registry.discover()[agency]
    app = spec.make_simulator(SimulatorConfig.from_mapping(config_data))
    timings: dict[str, list[float]] = {}
    if timing:
        app.middlewares.insert(0, timing_middleware(timings))  # outermost: includes the simulated latency

        async def get_timings(_request: web.Request) -> web.Response:
            return web.json_response(timings)

        app.router.add_get("/_bench/timings", get_timings)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
    await site.start()
    port = runner.addresses[0][1]
    print(json.dumps({agency: f"http://127.0.0.1:{port}"}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agency", required=True)
    parser.add_argument("--config", default="{}", help="SimulatorConfig fields as JSON")
    parser.add_argument("--timing", action="store_true")
    args = parser.parse_args()
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:  # pragma: no cover
        pass
    asyncio.run(serve(args.agency, json.loads(args.config), args.timing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
