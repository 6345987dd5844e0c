"""Rules about what a connector declares: its manifest, record schemas, PII fields, hosts, and
the simulator it ships."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema

from connectors.sdk.conformance.harness import Harness, WireCall, probe_subjects
from connectors.sdk.conformance.rule import Violation, rule
from connectors.sdk.errors import ConfigurationError
from connectors.sdk.manifest import Manifest
from connectors.sdk.protocol import ConnectorSpec
from connectors.sdk.record_schemas import find_record_schema
from enforcement.domain.subjects import Subject

HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
XML_ELEMENT = re.compile(r"<([A-Za-z_][\w.-]*)[^>]*>([^<]*)</\1>")


@rule(
    "manifest.valid",
    "the manifest validates against schemas/connector-manifest.schema.json and names the spec",
    fix="correct manifest.json so that it validates against schemas/connector-manifest.schema.json "
    "(Manifest.load names the failing field) and export it as ConnectorSpec(manifest=...)",
    needs_simulator=False,
)
async def manifest_valid(h: Harness) -> None:
    spec = h.spec
    if not isinstance(spec, ConnectorSpec):
        raise Violation(f"the entry point gives a {type(spec).__name__}, not a ConnectorSpec")
    try:
        reparsed = Manifest.parse(spec.manifest.raw)
    except ConfigurationError as exc:
        raise Violation(exc.message) from exc
    if reparsed != spec.manifest:
        raise Violation(
            "the ConnectorSpec's manifest differs from its own manifest.json data",
            fix="build the manifest with Manifest.load(__name__) and do not alter it in code",
        )
    if not callable(spec.factory):
        raise Violation("ConnectorSpec.factory is not callable", fix="pass the connector class as factory")


@rule(
    "manifest.hosts",
    "the manifest lists the production hosts the connector calls",
    fix="list in manifest.json `hosts` the bare host names the connector calls in production "
    "(such as zdz-xxx.court.internal: no scheme, port or path), and a default_url",
    needs_simulator=False,
)
async def manifest_hosts(h: Harness) -> None:
    hosts = h.manifest.hosts
    if not hosts:
        raise Violation("`hosts` is empty")
    bad = [host for host in hosts if not HOSTNAME.match(host)]
    if bad:
        raise Violation(f"`hosts` holds entries that are not bare host names: {bad}")
    if len(set(hosts)) != len(hosts):
        raise Violation("`hosts` lists a host twice")
    url = urlsplit(h.manifest.default_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise Violation(f"default_url {h.manifest.default_url!r} is not an http(s) URL")


@rule(
    "manifest.record_schemas",
    "every declared record kind has a strict JSON Schema",
    fix="ship schemas/records/<kind>.schema.json inside the connector package (JSON Schema "
    "2020-12, type object, additionalProperties false), one per record kind",
    needs_simulator=False,
)
async def manifest_record_schemas(h: Harness) -> None:
    for kind in h.manifest.record_kinds:
        found = find_record_schema(kind, h.manifest.package)
        if found is None:
            where = f"{h.manifest.package}/schemas/records/" if h.manifest.package else "the package"
            raise Violation(f"record kind {kind!r} has no schema (looked in {where} and schemas/records/)")
        schema, source = found
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise Violation(f"{source} is not a valid JSON Schema: {exc.message}") from exc
        if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
            raise Violation(f"{source} must be an object schema with additionalProperties false")


def _leaves(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, Mapping):
        for k, v in node.items():
            yield from _leaves(v, str(k))
    elif isinstance(node, list):
        for v in node:
            yield from _leaves(v, key)
    elif isinstance(node, str | int) and not isinstance(node, bool):
        yield key, str(node)


def wire_fields(call: WireCall) -> list[tuple[str, str]]:
    """(field name, value) pairs the request carried: query, headers and body."""
    fields = list(parse_qsl(urlsplit(call.url).query))
    fields += list(call.headers.items())
    body = bytes(call.body)
    text = body.decode("utf-8", errors="replace")
    try:
        fields += list(_leaves(json.loads(body)))
    except ValueError:
        if XML_ELEMENT.search(text):
            fields += XML_ELEMENT.findall(text)
        else:
            fields += parse_qsl(text)
    return fields


def undeclared_pii(calls: list[WireCall], subject: Subject, declared: tuple[str, ...]) -> set[str]:
    """Wire fields that carried the subject's ID number or name but are not in ``declared``."""
    found: set[str] = set()
    for call in calls:
        for name, value in wire_fields(call):
            if subject.id_number in value.upper() or value.strip() == subject.name:
                found.add(name)
    known = {d.lower() for d in declared}
    return {f for f in found if f.lower() not in known}


@rule(
    "manifest.pii_fields",
    "the manifest declares every wire field that carries the subject's personal data",
    fix="list in manifest.json `pii_fields` every wire field that carries personal data (the "
    "subject's ID number and name at least)",
)
async def manifest_pii_fields(h: Harness) -> None:
    if not h.manifest.pii_fields:
        raise Violation("`pii_fields` is empty")
    connector = h.connector()
    for kind in sorted(h.manifest.subject_kinds):
        subject = probe_subjects(kind, 1)[0]
        start = len(h.calls)
        await h.answer(connector, h.request(subject))
        sent = h.calls[start:]
        if not sent:
            raise Violation("search() sent nothing to the agency's URL (config.base_url)")
        missing = undeclared_pii(sent, subject, h.manifest.pii_fields)
        if missing:
            raise Violation(
                f"the wire fields {sorted(missing)} carry the subject's ID number or name "
                "but are not declared in pii_fields",
                fix=f"add {sorted(missing)} to `pii_fields` in manifest.json",
            )


@rule(
    "simulator.kit",
    "the connector ships a simulator built with the simulator kit",
    fix="export `simulator=create_simulator` in the ConnectorSpec; build the app with "
    "connectors.sdk.simulator_kit.make_simulator_app so that /_sim/stats, /_sim/config and "
    "/_sim/reset work and faults are injected in the agency's error style",
)
async def simulator_kit(h: Harness) -> None:
    stats = await h.stats()
    for key in ("calls", "effective_queries", "faults", "config"):
        if key not in stats:
            raise Violation(f"/_sim/stats lacks {key!r}")
    await h.configure(latency_median_ms=0.0)
    if (await h.stats())["config"].get("time_scale") != h.base_config.time_scale:
        raise Violation("/_sim/config did not take the configuration it was given")
    await h.reset()


__all__ = ["undeclared_pii", "wire_fields"]
