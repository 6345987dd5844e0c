"""``enforcement``: the service's command line.

Core commands live here; feature commands are registered by modules in
``enforcement/commands/`` (each exposes ``register(subparsers)``).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import pkgutil
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from aiohttp import web

from enforcement.kernel.logging import configure_logging
from enforcement.kernel.settings import Settings
from enforcement.kernel.version import describe


def _install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - optional on platforms without it
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def _serve(settings: Settings) -> None:
    from enforcement.api.protocol import AppRunner
    from enforcement.app import create_app

    app = create_app(settings)
    runner = AppRunner(app, access_log=None, handle_signals=False)  # api/protocol.py: no echo of bad requests
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True)
    await site.start()
    print(f"enforcement {settings.role} listening on http://{settings.host}:{settings.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def cmd_serve(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.role:
        settings = replace(settings, role=args.role)
    if args.port:
        settings = replace(settings, port=args.port, public_url=f"http://{settings.host}:{args.port}")
    configure_logging(settings.log_level, json_output=settings.log_json)
    _install_uvloop()
    asyncio.run(_serve(settings))
    return 0


async def _migrate(settings: Settings) -> list[int]:
    from enforcement.kernel.migrate import apply_migrations
    from enforcement.kernel.pool import create_pool, resolve_database_url

    dsn = await asyncio.get_running_loop().run_in_executor(None, resolve_database_url, settings)
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            return await apply_migrations(conn)
    finally:
        await pool.close()


def cmd_migrate(_args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    configure_logging(settings.log_level, json_output=settings.log_json)
    applied = asyncio.run(_migrate(settings))
    print(f"applied migrations: {applied or 'none (up to date)'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from enforcement.commands.api_client import EXIT_CODES_HELP

    parser = argparse.ArgumentParser(
        prog="enforcement", description="执行查控协同服务 / enforcement property-search service",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=describe(),
                        help="print the version and build (git commit) and exit")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the API and/or the dispatchers")
    p.add_argument("--role", choices=["api", "worker", "all"], help="default: ENFORCEMENT_ROLE or all")
    p.add_argument("--port", type=int, help="default: PORT or 8080")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=cmd_migrate)
    import enforcement.commands as commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module: Any = importlib.import_module(f"enforcement.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a failure it foresaw, or an unreachable service, ends with one bilingual
    message on stderr and its exit code (the table in ``enforcement --help``), never a traceback."""
    import aiohttp

    from enforcement.commands.api_client import EXIT_UNREACHABLE, CliError, unreachable

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
    except CliError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as exc:
        print(unreachable(getattr(args, "url", "?"), exc), file=sys.stderr)
        return EXIT_UNREACHABLE
    except KeyboardInterrupt:
        print("\n已中断 / interrupted", file=sys.stderr)
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
