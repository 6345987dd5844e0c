"""``enforcement demo``: embedded PostgreSQL, the agency simulators and the service, seeded.

The logs go to ``<data>/demo.log``, the judge's token to ``<data>/demo-token``; the banner comes
last, once everything answers, and again on Enter, on SIGUSR1 or with ``enforcement demo --banner``.

``enforcement simulators``: only the simulators, on their default ports.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aiohttp
from aiohttp import web

from connectors.sdk.registry import Registry
from connectors.sdk.simulator_kit import SimulatorConfig
from connectors.sdk.simulator_runner import start_simulators, stop_simulators
from enforcement.commands.api_client import DEFAULT_URL
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


@dataclass(frozen=True, slots=True)
class DemoFiles:
    """Where the demo keeps what a person needs after start-up (all in the data folder)."""

    log: Path
    token: Path
    banner: Path
    pid: Path

    @classmethod
    def in_folder(cls, folder: Path) -> DemoFiles:
        return cls(folder / "demo.log", folder / "demo-token", folder / "demo-banner.txt", folder / "demo.pid")


def write_private(path: Path, text: str) -> Path:
    """``text`` into ``path``, readable by this user only (a bearer token)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    path.chmod(0o600)
    return path


def _shown(path: Path) -> str:
    """A path as a person types it: relative to here when it is below here."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def banner(settings: Settings, *, sims: dict[str, str], files: DemoFiles, token_path: Path) -> str:
    """What a person needs, in under 80 columns a line: no token, only where it is."""
    token, log = _shown(token_path), _shown(files.log)
    url = settings.public_url
    me = sys.argv[0] if sys.argv and sys.argv[0].endswith("enforcement") else "enforcement"
    cli = _shown(Path(me)) if os.sep in me else me
    if url != DEFAULT_URL:  # the commands' default: say where this demo is
        cli = f"ENFORCEMENT_URL={url} {cli}"
    return "\n".join([
        "",
        "=" * 72,
        "执行查控协同服务 demo is running / 演示环境已启动",
        f"  workbench 工作台:  {url}/",
        "  judge login 法官:  zhangwei (张伟, 沈阳市和平区人民法院) — pick this user on the sign-in page",
        "  other users:       lina, wangfang (judges); chenjing, liuyang (supervisors); ops;",
        "                     cms-0102, cms-0103 (the courts' case systems, which push cases)",
        f"  API token 令牌:    in {token} (zhangwei, 8 h); try:",
        f"    curl -H \"Authorization: Bearer $(cat {token})\" {url}/api/v1/cases",
        f"    {cli} search --case 1 --id-number 210102197805141353 --name 赵建国",
        f"  another user:      {cli} token issue --user <login>",
        f"  audit chain:       {cli} audit verify",
        f"  logs 日志:         {log}   (tail -f {log})",
        "  agencies 模拟单位: " + ", ".join(f"{n}={u.rsplit(':', 1)[-1]}" for n, u in sorted(sims.items())[:3]),
        "                     " + ", ".join(f"{n}={u.rsplit(':', 1)[-1]}" for n, u in sorted(sims.items())[3:]),
        f"  Enter, or `{cli} demo --banner` (make demo-info), shows this again",
        f"  Ctrl-C stops everything (the database keeps its data in {_shown(settings.data_dir)}/)",
        "=" * 72,
        "",
    ])


def _free_default_ports(registry: Registry) -> dict[str, int]:
    """Each simulator on its manifest's port, unless that port is taken (another demo): then any."""
    ports: dict[str, int] = {}
    for name, spec in registry.items():
        port = urlparse(spec.manifest.default_url).port or 0
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                port = 0
        ports[name] = port
    return ports


def _say(text: str) -> None:
    """``text`` on the terminal. A terminal or pipe already gone (Ctrl-C reaches ``make demo | tee``'s
    tee too) must not stop the shutdown: the text is dropped, the work goes on."""
    with contextlib.suppress(OSError):
        print(text, flush=True)


async def _run_demo(settings: Settings, *, latency_ms: float, files: DemoFiles) -> None:
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
        ports=_free_default_ports(registry),
    )
    settings = replace(
        settings,
        agency_urls={**{n: s.url for n, s in sims.items()}, **settings.agency_urls},
        callback_secrets={**settings.callback_secrets, "banks": banks_secret},
    )
    app = create_app(settings, registry=registry)
    runner = AppRunner(app, access_log=None, handle_signals=False)  # api/protocol.py: no echo of bad requests
    await runner.setup()
    # Whatever happens from here (a failed start, Ctrl-C, a terminal or pipe already gone), the
    # service, the simulators and the embedded PostgreSQL are stopped: nothing is left running.
    try:
        site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True)
        await site.start()
        await seed(app[POOL])
        issuer: Any = app[DEMO_ISSUER]
        token_path = write_private(files.token, issuer.issue(settings, "zhangwei", "judge") + "\n")
        await _push_history(f"http://{settings.host}:{settings.port}", issuer.issue(settings, SYSTEM, "case_system"))
        text = banner(settings, sims={n: s.url for n, s in sims.items()}, files=files, token_path=token_path)
        files.banner.write_text(text, encoding="utf-8")
        files.pid.write_text(f"{os.getpid()}\n", encoding="utf-8")
        _say(text)
        loop = asyncio.get_running_loop()

        def show_again() -> None:
            _say(text)

        # Shown again on demand: Enter in this terminal, `kill -USR1 <pid>`, or `enforcement demo --banner`.
        loop.add_signal_handler(signal.SIGUSR1, show_again)
        if sys.stdin is not None and sys.stdin.isatty():
            def on_key() -> None:
                if not sys.stdin.readline():  # end of input: stop listening
                    loop.remove_reader(sys.stdin.fileno())
                show_again()

            loop.add_reader(sys.stdin.fileno(), on_key)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        _say("正在停止 / stopping…")
    finally:
        files.pid.unlink(missing_ok=True)
        try:
            await runner.cleanup()
            await stop_simulators(sims)
        finally:
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


def show_banner(files: DemoFiles) -> int:
    """``enforcement demo --banner``: the running demo's banner again (exit 1 when none runs)."""
    try:
        pid = int(files.pid.read_text(encoding="utf-8").strip())
        os.kill(pid, 0)
        text = files.banner.read_text(encoding="utf-8")
    except (OSError, ValueError):
        print("演示环境未在运行（make demo 启动） / the demo is not running (start it: make demo)", file=sys.stderr)
        return 1
    print(text)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    files = DemoFiles.in_folder(settings.data_dir)
    if args.banner:
        return show_banner(files)
    if args.port:
        settings = replace(settings, port=args.port, public_url=f"http://{settings.host}:{args.port}")
    files.log.parent.mkdir(parents=True, exist_ok=True)
    print(f"演示环境启动中，日志写入 / starting the demo, logs in {_shown(files.log)}", flush=True)
    with files.log.open("a", encoding="utf-8") as log:
        configure_logging(settings.log_level, json_output=True if settings.log_json is None else settings.log_json,
                          stream=log)
        asyncio.run(_run_demo(settings, latency_ms=args.latency_ms, files=files))
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
    p.add_argument("--banner", action="store_true",
                   help="print the running demo's banner again (URL, logins, token file, log file) and exit")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("simulators", help="run the agency simulators on their default ports")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.set_defaults(func=cmd_simulators)
