"""``enforcement connectors``: the partner-agency connectors installed here.

- ``list``: every connector with its version, mode, limits, URL and health.
- ``check [NAME...]``: a health check, one line per agency (name, ok or down, the latency or the
  reason); exit 1 when one is down.
- ``verify [NAME...]``: the conformance suite (connectors.sdk.conformance) over connectors,
  installed ones by name or a package not installed yet (``--module pkg --path dir``).
- ``new NAME``: a complete connector package that passes the suite as created.

``--simulators`` runs each connector's own simulator on loopback and talks to it instead of
the configured agency (``AGENCY_<NAME>_URL`` / ``_SECRET``, else the manifest's default_url).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from connectors.sdk.errors import AuthError, ConnectorError, TransientError
from connectors.sdk.manifest import Manifest
from connectors.sdk.protocol import ConnectorSpec
from connectors.sdk.registry import Registry
from connectors.sdk.simulator_runner import start_simulators, stop_simulators
from connectors.sdk.types import ConnectorConfig
from enforcement.commands import text_table
from enforcement.commands.api_client import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from enforcement.kernel.settings import Settings

SIM_SECRET = "sim-key"  # noqa: S105 - the simulators' well-known demo key


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    text: str
    latency_ms: float | None = None


def describe_mode(m: Manifest) -> str:
    parts: list[str] = [m.answer_mode]
    if m.batch is not None:
        parts.append(f"batches of up to {m.batch.max_size} (wait {m.batch.max_wait_seconds:g}s)")
    if m.callbacks:
        parts.append("signed callbacks")
    return ", ".join(parts)


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def describe_limits(m: Manifest) -> str:
    p = m.policy
    return (
        f"timeout {_duration(p.timeout_seconds)}, {p.max_in_flight} in flight, {p.rate_per_second:g}/s, "
        f"{p.retry.max_attempts} attempts, breaker {p.breaker.failure_ratio:.0%} of {p.breaker.min_calls} "
        f"calls -> open {_duration(p.breaker.open_seconds)}, deadline {_duration(p.deadline_seconds)}, "
        f"answers fresh {p.freshness_hours:g}h"
    )


def describe(m: Manifest, url: str, health: Health | None) -> dict[str, Any]:
    return {
        "name": m.name,
        "version": m.version,
        "agency": m.agency,
        "display_name": {"zh": m.display_zh, "en": m.display_en},
        "package": m.package,
        "mode": describe_mode(m),
        "subject_kinds": sorted(m.subject_kinds),
        "record_kinds": list(m.record_kinds),
        "search_category": m.search_category,
        "limits": describe_limits(m),
        "url": url,
        "health": None if health is None else {"ok": health.ok, "detail": health.text,
                                               "latency_ms": None if health.latency_ms is None
                                               else round(health.latency_ms, 1)},
    }


def render(row: Mapping[str, Any]) -> str:
    health = row["health"]
    status = "not checked" if health is None else ("ok" if health["ok"] else "FAILING") + f" ({health['detail']})"
    return "\n".join([
        f"{row['name']} {row['version']}  {row['display_name']['zh']} / {row['display_name']['en']}  ({row['agency']})",
        f"  mode      {row['mode']}",
        f"  answers   {', '.join(row['subject_kinds'])} -> {', '.join(row['record_kinds'])} "
        f"(search category: {row['search_category']})",
        f"  limits    {row['limits']}",
        f"  package   {row['package'] or '-'}",
        f"  url       {row['url']}",
        f"  health    {status}",
    ])


async def check_one(spec: ConnectorSpec, config: ConnectorConfig, session: aiohttp.ClientSession) -> Health:
    started = time.perf_counter()
    try:
        connector = spec.factory(config, session)
        async with asyncio.timeout(config.timeout_seconds + 1.0):
            await connector.check()
    except AuthError as exc:
        return Health(False, f"credentials refused: {exc.message}")
    except TransientError as exc:
        return Health(False, f"unreachable or unavailable: {exc.message}")
    except ConnectorError as exc:
        return Health(False, f"{exc.kind}: {exc.message}")
    except TimeoutError:
        return Health(False, f"check() did not return within {config.timeout_seconds:g}s")
    except Exception as exc:
        return Health(False, f"connector error: {type(exc).__name__}")
    elapsed = (time.perf_counter() - started) * 1000
    return Health(True, f"check answered in {elapsed:.0f} ms", elapsed)


async def survey(
    registry: Registry, settings: Settings, *, health: bool, simulators: bool, timeout: float  # noqa: ASYNC109
) -> list[dict[str, Any]]:
    specs = [registry[n] for n in registry]
    sims = await start_simulators(specs) if simulators and health else {}
    try:
        manifests = {s.name: s.manifest.with_overrides(settings.agency_overrides.get(s.name, {})) for s in specs}
        urls = {
            name: sims[name].url if name in sims else settings.agency_urls.get(name, m.default_url)
            for name, m in manifests.items()
        }
        results: dict[str, Health] = {}
        if health:
            async with aiohttp.ClientSession() as session:
                configs = {
                    s.name: ConnectorConfig(
                        base_url=urls[s.name],
                        secret=SIM_SECRET if s.name in sims else settings.agency_secrets.get(s.name, SIM_SECRET),
                        timeout_seconds=min(timeout, manifests[s.name].policy.timeout_seconds),
                        manifest=manifests[s.name],
                    )
                    for s in specs
                }
                checked = await asyncio.gather(*(check_one(s, configs[s.name], session) for s in specs))
                results = {s.name: h for s, h in zip(specs, checked, strict=True)}
        return [describe(manifests[s.name], urls[s.name], results.get(s.name)) for s in specs]
    finally:
        await stop_simulators(sims)


def _registry(names: Sequence[str]) -> Registry:
    return Registry.discover().only(names)


def health_lines(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per agency: name, 正常 ok / 异常 DOWN, the latency or the reason."""
    table = []
    for r in rows:
        health = r["health"] or {"ok": False, "detail": "not checked", "latency_ms": None}
        state = "正常 ok" if health["ok"] else "异常 DOWN"
        detail = f"{health['latency_ms']:.0f} ms" if health["ok"] and health.get("latency_ms") is not None \
            else health["detail"]
        table.append([r["name"], r["display_name"]["zh"], state, detail])
    return text_table.render(["connector", "单位 agency", "状态 state", "耗时或原因 latency / reason"], table,
                             max_width=90)


def _survey(args: argparse.Namespace, *, health: bool) -> list[dict[str, Any]] | int:
    try:
        registry = _registry(getattr(args, "names", []) or [])
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return EXIT_USAGE
    return asyncio.run(survey(registry, Settings.from_env(), health=health, simulators=args.simulators,
                              timeout=args.timeout))


def cmd_list(args: argparse.Namespace) -> int:
    rows = _survey(args, health=not args.no_health)
    if isinstance(rows, int):
        return rows
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print("\n\n".join(render(r) for r in rows))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """A health check: one line per agency; exit 1 when one is down."""
    rows = _survey(args, health=True)
    if isinstance(rows, int):
        return rows
    failing = [r["name"] for r in rows if not (r["health"] and r["health"]["ok"])]
    if args.json:
        print(json.dumps([{"name": r["name"], **(r["health"] or {})} for r in rows], ensure_ascii=False, indent=2))
    else:
        print("\n".join(health_lines(rows)))
        down = f"; 异常 down: {', '.join(failing)}" if failing else ""
        print(f"{len(rows) - len(failing)}/{len(rows)} 正常 ok{down}")
    return EXIT_FAILURE if failing else EXIT_OK


def load_spec(target: str) -> ConnectorSpec:
    """``package`` or ``package:ATTR`` (default ATTR: CONNECTOR) as a ConnectorSpec."""
    module_name, _, attr = target.partition(":")
    spec = getattr(importlib.import_module(module_name), attr or "CONNECTOR", None)
    if not isinstance(spec, ConnectorSpec):
        raise TypeError(f"{target} is not a ConnectorSpec")
    return spec


def cmd_verify(args: argparse.Namespace) -> int:
    from connectors.sdk.conformance import rules_named, run_suite

    for folder in args.path:
        sys.path.insert(0, str(Path(folder).resolve()))
    try:
        specs = [load_spec(m) for m in args.module]
        if args.names or not specs:
            registry = _registry(args.names)
            specs += [registry[n] for n in registry]
        rules = rules_named(args.rule)
    except (KeyError, ImportError, TypeError) as exc:
        print(exc.args[0] if exc.args else exc, file=sys.stderr)
        return 2

    async def run() -> bool:
        ok = True
        for spec in specs:
            report = await run_suite(spec, rules)
            print(report.format(), flush=True)
            ok = ok and report.ok
        return ok

    return 0 if asyncio.run(run()) else 1


def cmd_new(args: argparse.Namespace) -> int:
    from connectors.sdk.errors import ConfigurationError
    from connectors.sdk.scaffold import ScaffoldOptions, generate

    controls = tuple(op.strip() for op in (args.controls or "").split(",") if op.strip())
    options = ScaffoldOptions(args.name, agency=args.agency, display_zh=args.display_zh or "",
                              display_en=args.display_en or "", port=args.port, controls=controls)
    try:
        root = generate(options, Path(args.dir).expanduser())
    except ConfigurationError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    if args.name in Registry.discover():
        print(f"note: a connector named {args.name!r} is already installed; rename before installing this one")
    print("\n".join([
        f"created {root}",
        "next:",
        f"  enforcement connectors verify --path {root} --module {args.name}_connector   # passes as created",
        f"  pip install -e {root}      # registers the entry point; then: enforcement connectors list",
        f"  pytest {root}/tests",
    ]))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("connectors", help="partner-agency connectors: list, check, verify, new")
    csub = p.add_subparsers(dest="connectors_command", required=True)
    for name, helptext in (("list", "every connector with its version, mode, limits and health"),
                           ("check", "health check: one line per agency; exit 1 if one is down")):
        q = csub.add_parser(name, help=helptext)
        q.add_argument("names", nargs="*", help="connector names (default: all installed)")
        q.add_argument("--simulators", action="store_true", help="check against each connector's own simulator")
        q.add_argument("--timeout", type=float, default=5.0, help="seconds per check (at most the manifest's)")
        q.add_argument("--json", action="store_true", help="machine-readable output")
        if name == "list":
            q.add_argument("--no-health", action="store_true", help="do not call the agencies")
            q.set_defaults(func=cmd_list)
        else:
            q.set_defaults(func=cmd_check)
    v = csub.add_parser("verify", help="run the conformance suite over connectors")
    v.add_argument("names", nargs="*", help="installed connector names (default: all, unless --module)")
    v.add_argument("--rule", action="append", default=[], metavar="RULE_ID", help="only this rule (repeatable)")
    v.add_argument("--module", action="append", default=[], metavar="PKG[:ATTR]",
                   help="a connector package not installed yet (its ConnectorSpec, default attribute CONNECTOR)")
    v.add_argument("--path", action="append", default=[], metavar="DIR", help="add DIR to the import path")
    v.set_defaults(func=cmd_verify)
    n = csub.add_parser("new", help="scaffold a connector package that passes the conformance suite")
    n.add_argument("name", help="the connector's name: lower case, digits and _ (e.g. securities)")
    n.add_argument("--dir", default=".", help="where to create the package folder <dir>/<name>/")
    n.add_argument("--agency", default="某协助执行单位", help="the agency's official name, in Chinese")
    n.add_argument("--display-zh")
    n.add_argument("--display-en")
    n.add_argument("--port", type=int, default=9199, help="the simulator's port in the demo (default_url)")
    n.add_argument("--controls", metavar="OPS",
                   help="control operations too, e.g. seal,renew,release (one of freeze/seal, and release)")
    n.set_defaults(func=cmd_new)
