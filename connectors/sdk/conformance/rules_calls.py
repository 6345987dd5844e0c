"""Rules about what a connector does over the wire: check, search, answers, idempotency."""

from __future__ import annotations

import functools
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema

from connectors.sdk.conformance.harness import Harness, free_port, probe_subjects
from connectors.sdk.conformance.rule import Violation, rule
from connectors.sdk.errors import AuthError, ConfigurationError, ConnectorError, RejectedError, TransientError
from connectors.sdk.protocol import Connector
from connectors.sdk.record_schemas import find_record_schema
from connectors.sdk.types import AgencyResult, Pending
from enforcement.domain.assets import AssetRecord

FUTURE_SKEW = timedelta(minutes=5)


def record_signature(result: AgencyResult) -> Counter[str]:
    """The records of an answer, as a multiset of their kind and data (order does not matter)."""
    return Counter(
        json.dumps([type(r).kind, r.to_dict()], sort_keys=True, ensure_ascii=False) for r in result.records
    )


def validate_result(h: Harness, result: AgencyResult, what: str) -> None:
    """Every record a known kind, with a natural key, and valid against its kind's schema."""
    if not isinstance(result, AgencyResult):
        raise Violation(f"{what} gave {type(result).__name__}, not an AgencyResult")
    if not isinstance(result.records, tuple):
        raise Violation(f"{what}: AgencyResult.records is a {type(result.records).__name__}, not a tuple")
    for i, record in enumerate(result.records, 1):
        if not isinstance(record, AssetRecord):
            raise Violation(
                f"{what}: record {i} ({type(record).__name__}) lacks kind, natural_key() or to_dict()",
                fix="return records that satisfy connectors.sdk.AssetRecord",
            )
        kind = type(record).kind
        if kind not in h.manifest.record_kinds:
            raise Violation(
                f"{what}: record {i} is of kind {kind!r}, not one of record_kinds {list(h.manifest.record_kinds)}",
                fix="declare every kind the connector returns in manifest.json `record_kinds`",
            )
        key = record.natural_key()
        if not isinstance(key, str) or not key:
            raise Violation(f"{what}: record {i} ({kind}) has an empty natural_key()",
                            fix="natural_key() must identify the asset (account, VIN, certificate number...)")
        data = record.to_dict()
        try:
            json.dumps(data, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise Violation(f"{what}: record {i} ({kind}).to_dict() is not plain JSON data: {exc}",
                            fix="to_dict() must give JSON data: amounts as strings, dates ISO") from exc
        found = find_record_schema(kind, h.manifest.package)
        if found is None:
            raise Violation(f"{what}: record kind {kind!r} has no schema",
                            fix=f"ship schemas/records/{kind}.schema.json in the connector package")
        schema, source = found
        errors = sorted(
            jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).iter_errors(data),
            key=lambda e: list(e.absolute_path),
        )
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path) or "(top level)"
            raise Violation(
                f"{what}: record {i} ({kind}) does not validate against {source} at {where}: "
                f"{errors[0].message[:200]}",
                fix=f"make {type(record).__name__}.to_dict() match {source} exactly (or correct the schema)",
            )
    answered = result.answered_at
    if not isinstance(answered, datetime) or answered.tzinfo is None:
        raise Violation(f"{what}: answered_at {answered!r} is not a timezone-aware datetime",
                        fix="set answered_at to the agency's answer time, timezone-aware (UTC)")
    if answered > datetime.now(UTC) + FUTURE_SKEW:
        raise Violation(f"{what}: answered_at {answered.isoformat()} is in the future",
                        fix="read the agency's answer time in its own time zone and convert it to UTC")
    try:
        json.dumps(dict(result.raw), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise Violation(f"{what}: AgencyResult.raw is not plain JSON data ({exc})",
                        fix="store the parsed wire answer as raw, unchanged") from exc
    if result.agency_reference is not None and not isinstance(result.agency_reference, str):
        raise Violation(f"{what}: agency_reference is a {type(result.agency_reference).__name__}, not a str")


@rule(
    "check.succeeds",
    "check() succeeds against a healthy agency with good credentials",
    fix="implement check() as one cheap authenticated call (a health or heartbeat endpoint) "
    "that returns None when the agency answers and the credential is accepted",
)
async def check_succeeds(h: Harness) -> None:
    conn = h.connector()
    if not isinstance(conn, Connector):
        raise Violation(
            f"{type(conn).__name__} does not implement the Connector protocol",
            fix="subclass connectors.sdk.base.BaseConnector and implement check() and search()",
        )
    try:
        await h.call("check()", conn.check)
    except ConnectorError as exc:
        raise Violation(f"check() raised {type(exc).__name__} ({exc.code}): {exc.message[:200]}") from exc
    if not h.calls:
        raise Violation("check() returned without calling the agency", fix="make check() call the agency")


@rule(
    "config.effective_manifest",
    "the connector runs on the effective manifest (the declared one with the deployment's overrides)",
    fix="subclass BaseConnector (it adopts ConnectorConfig.manifest as self.manifest) and read "
    "limits such as batch.max_size from self.manifest, never from a module-level manifest",
)
async def config_effective_manifest(h: Harness) -> None:
    overrides = {"timeout_seconds": "7.5", "max_attempts": "2"}
    if h.manifest.batch is not None:
        overrides["batch_size"] = "3"
    effective = h.manifest.with_overrides(overrides)
    conn = h.connector(manifest=effective)
    if conn.manifest != effective:
        raise Violation("connector.manifest is not the ConnectorConfig.manifest it was given")


@rule(
    "check.bad_credentials",
    "a wrong credential fails clearly, as AuthError",
    fix="send config.secret as the agency's credential and map the agency's refusal of it "
    "(HTTP 401/403 or its own auth error code) to AuthError",
)
async def check_bad_credentials(h: Harness) -> None:
    conn = h.connector(secret="wrong-" + h.secret)
    exc = await h.expect_error("check() with a wrong credential", conn.check, AuthError)
    if not exc.message.strip():
        raise Violation("the AuthError for a wrong credential has no message")
    subject = probe_subjects(sorted(h.manifest.subject_kinds)[0], 1)[0]
    await h.expect_error("search() with a wrong credential", functools.partial(conn.search, h.request(subject)),
                         AuthError)


@rule(
    "check.unreachable",
    "an unreachable or malformed agency URL fails clearly, as TransientError or ConfigurationError",
    fix="call the agency through connectors.sdk.http.fetch_json (it maps connection failures to "
    "TransientError) and never let a raw aiohttp or OS error escape",
)
async def check_unreachable(h: Harness) -> None:
    for label, url in (("an unreachable URL", f"http://127.0.0.1:{free_port()}"), ("a malformed URL", "http://")):
        conn = h.connector(base_url=url)
        try:
            await h.call(f"check() with {label}", conn.check)
        except (TransientError, ConfigurationError):
            continue
        except ConnectorError as exc:
            raise Violation(f"check() with {label} raised {type(exc).__name__}, "
                            "expected TransientError or ConfigurationError") from exc
        raise Violation(f"check() with {label} returned as if the agency had answered")


@rule(
    "search.answer_mode",
    "search() answers as the manifest's answer_mode says, and refuses subject kinds it does not cover",
    fix="a sync connector returns an AgencyResult, a deferred one a Pending ticket; a subject kind "
    "outside subject_kinds raises RejectedError before anything is sent",
)
async def search_answer_mode(h: Harness) -> None:
    conn = h.connector()
    for kind in sorted(h.manifest.subject_kinds):
        subject = probe_subjects(kind, 1)[0]
        outcome = await h.call("search()", functools.partial(conn.search, h.request(subject)))
        if h.manifest.answer_mode == "sync" and not isinstance(outcome, AgencyResult):
            raise Violation(f"the manifest says sync but search() gave {type(outcome).__name__}")
        if h.manifest.answer_mode == "deferred":
            if not isinstance(outcome, Pending):
                raise Violation(f"the manifest says deferred but search() gave {type(outcome).__name__}")
            if not isinstance(outcome.ticket, str) or not outcome.ticket or outcome.poll_after_seconds < 0:
                raise Violation(f"Pending({outcome.ticket!r}, {outcome.poll_after_seconds}) is not a usable ticket")
    if h.manifest.answer_mode == "sync":
        await h.expect_error("poll() on a sync connector", lambda: conn.poll("CF-NOTHING"), RejectedError)
    for kind in sorted({"person", "organization"} - set(h.manifest.subject_kinds)):
        subject = probe_subjects(kind, 1)[0]
        sent = len(h.calls)
        await h.expect_error(f"search() for an unsupported {kind}",
                             functools.partial(conn.search, h.request(subject)), RejectedError)
        if len(h.calls) != sent:
            raise Violation(f"search() for an unsupported {kind} was sent to the agency")


@rule(
    "search.records_valid",
    "every answer validates against the record schemas",
    fix="map the wire answer to the domain record classes (or the package's own AssetRecord "
    "classes) so that to_dict() validates against schemas/records/<kind>.schema.json",
)
async def search_records_valid(h: Harness) -> None:
    conn = h.connector()
    with_records = 0
    for kind in sorted(h.manifest.subject_kinds):
        for subject in probe_subjects(kind):
            result = await h.answer(conn, h.request(subject))
            validate_result(h, result, f"the answer for probe {kind} #{probe_subjects(kind).index(subject) + 1}")
            with_records += bool(result.records)
    if not with_records:
        await h.first_answer_with_records(conn)  # raises the explanation


async def _subject_with_records(h: Harness, conn: Connector) -> Any:
    request, _ = await h.first_answer_with_records(conn)
    return request.subject


@rule(
    "search.idempotent",
    "the same idempotency key twice is one effective query at the agency, with the same answer",
    fix="send request.idempotency_key in the agency's idempotency field or header on every call "
    "(never a fresh random number), and let the simulator answer through state.effective(key, ...)",
)
async def search_idempotent(h: Harness) -> None:
    conn = h.connector()
    subject = await _subject_with_records(h, conn)
    await h.reset()
    key = f"conformance-idem:{h.manifest.name}"
    first = await h.answer(conn, h.request(subject, key=key))
    after_first = (await h.stats())["effective_queries"]
    again = await h.answer(conn, h.request(subject, key=key))
    after_again = (await h.stats())["effective_queries"]
    if after_first < 1:
        raise Violation("the simulator counted no effective query for an answered search",
                        fix="answer queries through state.effective(idempotency_key, compute)")
    if after_again != after_first:
        raise Violation(f"the same idempotency key sent twice counted {after_again} effective queries, not "
                        f"{after_first}: the agency was asked twice")
    if record_signature(again) != record_signature(first):
        raise Violation("the same idempotency key sent twice gave different records")
    if again.answered_at != first.answered_at or again.agency_reference != first.agency_reference:
        raise Violation("the same idempotency key sent twice gave a different answer time or reference",
                        fix="read answered_at and agency_reference from the agency's stored answer")


@rule(
    "search.deterministic",
    "the same query twice (new keys) gives the same records",
    fix="map the agency's answer deterministically (no random or time-dependent fields in records); "
    "the simulator derives data from the subject with simulator_kit.subject_rng",
)
async def search_deterministic(h: Harness) -> None:
    conn = h.connector()
    subject = await _subject_with_records(h, conn)
    first = await h.answer(conn, h.request(subject))
    second = await h.answer(conn, h.request(subject))
    if record_signature(first) != record_signature(second):
        raise Violation("two queries about the same subject gave different records")
    if Counter(r.natural_key() for r in first.records) != Counter(r.natural_key() for r in second.records):
        raise Violation("two queries about the same subject gave different natural keys",
                        fix="derive natural_key() from the record's data only")


__all__ = ["record_signature", "validate_result"]
