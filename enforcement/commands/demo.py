"""``enforcement demo``: embedded PostgreSQL, the agency simulators and the service, seeded.

``enforcement simulators``: only the simulators, on their default ports.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp import web

from connectors.sdk.registry import Registry
from connectors.sdk.simulator_kit import SimulatorConfig
from connectors.sdk.simulator_runner import start_simulators, stop_simulators
from enforcement.commands.demo_history import SYSTEM, push_court_history, push_dossier_case
from enforcement.kernel.logging import configure_logging
from enforcement.kernel.settings import Settings

DEMO_LATENCY_MS = 400.0
DEMO_BANKS_CALLBACK_SECRET = "demo-banks-callback-secret"  # noqa: S105 - the demo's own, not a real credential


def demo_simulator_configs(
    public_url: str, *, latency_ms: float = DEMO_LATENCY_MS, banks_callback_secret: str = DEMO_BANKS_CALLBACK_SECRET
) -> dict[str, SimulatorConfig]:
    """Realistic pace for a person watching: agencies take a moment; banks 'take days'
    (one simulated day passes in two real seconds) and call back."""
    base = SimulatorConfig(latency_median_ms=latency_ms, latency_sigma=0.6)
    return {
        "vehicles": base,
        "exit_entry": replace(base, latency_median_ms=latency_ms * 1.5),
        "social_insurance": replace(base, latency_median_ms=latency_ms * 2),
        "hotels": base,
        "securities": replace(base, latency_median_ms=latency_ms * 1.5),  # 中国结算: one national centre
        "banks": replace(
            base,
            time_scale=43200.0,
            answer_delay_seconds=2 * 86400.0,
            callback_url=f"{public_url}/api/v1/agencies/banks/callbacks",
            callback_secret=banks_callback_secret,
        ),
    }


async def _run_demo(settings: Settings, *, latency_ms: float) -> None:
    from enforcement.api.auth import DEMO_ISSUER
    from enforcement.api.keys import POOL
    from enforcement.api.protocol import AppRunner
    from enforcement.app import create_app
    from enforcement.seeds import seed

    registry = Registry.discover()
    # The simulated bank signs its callbacks with the secret the service checks them with
    # (AGENCY_BANKS_CALLBACK_SECRET, or the demo's own).
    banks_secret = settings.callback_secrets.get("banks", DEMO_BANKS_CALLBACK_SECRET)
    sims = await start_simulators(
        registry.values(),
        configs=demo_simulator_configs(settings.public_url, latency_ms=latency_ms, banks_callback_secret=banks_secret),
        use_default_ports=True,
    )
    settings = replace(
        settings,
        agency_urls={**{n: s.url for n, s in sims.items()}, **settings.agency_urls},
        callback_secrets={**settings.callback_secrets, "banks": banks_secret},
    )
    app = create_app(settings, registry=registry)
    runner = AppRunner(app, access_log=None, handle_signals=False)  # api/protocol.py: no echo of bad requests
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True)
    await site.start()
    await seed(app[POOL])
    issuer: Any = app[DEMO_ISSUER]
    token = issuer.issue(settings, "zhangwei", "judge")
    await _push_history(f"http://{settings.host}:{settings.port}", issuer.issue(settings, SYSTEM, "case_system"))
    print(
        "\n".join(
            [
                "",
                "执行查控协同服务 demo is running / 演示环境已启动",
                f"  workbench: {settings.public_url}/",
                "  judge login: zhangwei (张伟, 沈阳市和平区人民法院) — pick this user on the sign-in page",
                "  other users: lina, wangfang (judges); chenjing, liuyang (supervisors); ops;"
                " cms-0102, cms-0103 (the courts' case systems, which push cases)",
                f"  API token for zhangwei: {token}",
                "  another user's token: enforcement token issue --user <login>;"
                " the audit chain: enforcement audit verify",
                f"  agency simulators: {', '.join(f'{n}={s.url}' for n, s in sorted(sims.items()))}",
                "  Ctrl-C stops everything (the database keeps its data in .data/)",
                "",
            ]
        ),
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    await stop_simulators(sims)
    if not settings.database_url:  # we started the embedded server: stop it cleanly
        from enforcement.kernel.embedded import EmbeddedPostgres

        EmbeddedPostgres(settings.data_dir / "postgres").stop()


async def _push_history(base_url: str, token: str) -> None:
    """Two years of the court's cases and a case whose debtor has plenty to find, pushed over the
    API as the court's case system does, so the dashboard and the dossier have something to show.
    Idempotent: a second demo start pushes the same cases and events again, changing nothing."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
    async with aiohttp.ClientSession(headers=headers) as session:

        async def push(path: str, body: bytes) -> tuple[int, Any]:
            async with session.post(f"{base_url}{path}", data=body) as resp:
                return resp.status, await resp.json()

        await push_court_history(push)
        await push_dossier_case(push)


def cmd_demo(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.port:
        settings = replace(settings, port=args.port, public_url=f"http://{settings.host}:{args.port}")
    configure_logging(settings.log_level, json_output=settings.log_json)
    asyncio.run(_run_demo(settings, latency_ms=args.latency_ms))
    return 0


async def _run_simulators(latency_ms: float) -> None:
    registry = Registry.discover()
    base = SimulatorConfig(latency_median_ms=latency_ms, latency_sigma=0.6 if latency_ms else 0.0)
    sims = await start_simulators(registry.values(), configs=dict.fromkeys(registry, base), use_default_ports=True)
    for name, sim in sorted(sims.items()):
        print(f"{name}: {sim.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await stop_simulators(sims)


def cmd_simulators(args: argparse.Namespace) -> int:
    configure_logging("INFO")
    asyncio.run(_run_simulators(args.latency_ms))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the seeded demo: embedded PostgreSQL, simulators and the service")
    p.add_argument("--port", type=int)
    p.add_argument("--latency-ms", type=float, default=DEMO_LATENCY_MS, help="median agency latency")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("simulators", help="run the agency simulators on their default ports")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.set_defaults(func=cmd_simulators)
