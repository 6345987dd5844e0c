"""The connector manifest: parsed, validated against the JSON Schema, and made immutable."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

import jsonschema

from connectors.sdk.errors import ConfigurationError
from connectors.sdk.types import AnswerMode, ControlAnswers
from enforcement.schema_files import load_schema


def manifest_schema() -> dict[str, Any]:
    return load_schema("connector-manifest.schema.json")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    initial_backoff_seconds: float
    max_backoff_seconds: float


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    min_calls: int
    failure_ratio: float
    open_seconds: float
    half_open_probes: int


@dataclass(frozen=True, slots=True)
class BatchPolicy:
    max_size: int
    max_wait_seconds: float


@dataclass(frozen=True, slots=True)
class ControlPolicy:
    """The control operations a connector declares (``controls`` in its manifest)."""

    operations: frozenset[str]
    asset_kinds: frozenset[str]
    timeout_seconds: float | None = None
    deadline_seconds: float = 86400.0
    answers: ControlAnswers = "sync"  # "async": the agency answers by ticket (control_status)

    @classmethod
    def parse(cls, data: Mapping[str, Any] | None) -> ControlPolicy | None:
        if not data:
            return None
        return cls(frozenset(data["operations"]), frozenset(data["asset_kinds"]),
                   float(data["timeout_seconds"]) if "timeout_seconds" in data else None,
                   float(data.get("deadline_seconds", 86400.0)), data.get("answers", "sync"))


@dataclass(frozen=True, slots=True)
class AgencyPolicy:
    timeout_seconds: float
    max_in_flight: int
    rate_per_second: float
    retry: RetryPolicy
    breaker: BreakerPolicy
    deadline_seconds: float
    freshness_hours: float


@dataclass(frozen=True, slots=True)
class Manifest:
    name: str
    version: str
    agency: str
    display_zh: str
    display_en: str
    subject_kinds: frozenset[str]
    answer_mode: AnswerMode
    callbacks: bool
    batch: BatchPolicy | None
    record_kinds: tuple[str, ...]
    search_category: str
    date_range: bool
    policy: AgencyPolicy
    pii_fields: tuple[str, ...]
    hosts: tuple[str, ...]
    default_url: str
    raw: Mapping[str, Any]
    # The Python package the manifest was loaded from (``Manifest.load``): where the connector
    # ships its own files, such as record schemas under ``schemas/records/``.
    package: str = field(default="", compare=False)
    controls: ControlPolicy | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Manifest:
        """Validate ``data`` against the manifest schema; the error names the failing field."""
        errors = sorted(
            jsonschema.Draft202012Validator(manifest_schema()).iter_errors(dict(data)),
            key=lambda e: list(e.absolute_path),
        )
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
            raise ConfigurationError(
                f"manifest invalid at {where}: {first.message}", code="manifest_invalid"
            )
        p = data["policy"]
        batch = data.get("batch")
        return cls(
            name=data["name"],
            version=data["version"],
            agency=data["agency"],
            display_zh=data["display_name"]["zh"],
            display_en=data["display_name"]["en"],
            subject_kinds=frozenset(data["subject_kinds"]),
            answer_mode=data["answer_mode"],
            callbacks=bool(data.get("callbacks", False)),
            batch=BatchPolicy(batch["max_size"], float(batch["max_wait_seconds"])) if batch else None,
            record_kinds=tuple(data["record_kinds"]),
            search_category=data["search_category"],
            date_range=bool(data.get("date_range", False)),
            policy=AgencyPolicy(
                timeout_seconds=float(p["timeout_seconds"]),
                max_in_flight=int(p["max_in_flight"]),
                rate_per_second=float(p["rate_per_second"]),
                retry=RetryPolicy(**p["retry"]),
                breaker=BreakerPolicy(**p["breaker"]),
                deadline_seconds=float(p["deadline_seconds"]),
                freshness_hours=float(p["freshness_hours"]),
            ),
            pii_fields=tuple(data["pii_fields"]),
            hosts=tuple(data["hosts"]),
            default_url=data["default_url"],
            raw=dict(data),
            controls=ControlPolicy.parse(data.get("controls")),
        )

    @classmethod
    def load(cls, package: str) -> Manifest:
        """Read ``manifest.json`` shipped inside the connector's package."""
        text = resources.files(package).joinpath("manifest.json").read_text(encoding="utf-8")
        return replace(cls.parse(json.loads(text)), package=package)

    def with_overrides(self, overrides: Mapping[str, str]) -> Manifest:
        """Apply settings overrides (``AGENCY_<NAME>_<FIELD>``) over the declared policy."""
        if not overrides:
            return self
        pol = self.policy
        retry, breaker, batch = pol.retry, pol.breaker, self.batch
        simple: dict[str, Any] = {}
        for key, value in overrides.items():
            if key in ("timeout_seconds", "rate_per_second", "deadline_seconds", "freshness_hours"):
                simple[key] = float(value)
            elif key == "max_in_flight":
                simple[key] = int(value)
            elif key == "max_attempts":
                retry = replace(retry, max_attempts=int(value))
            elif key == "breaker_min_calls":
                breaker = replace(breaker, min_calls=int(value))
            elif key == "breaker_failure_ratio":
                breaker = replace(breaker, failure_ratio=float(value))
            elif key == "breaker_open_seconds":
                breaker = replace(breaker, open_seconds=float(value))
            elif key == "breaker_half_open_probes":
                breaker = replace(breaker, half_open_probes=int(value))
            elif key == "initial_backoff_seconds":
                retry = replace(retry, initial_backoff_seconds=float(value))
            elif key == "max_backoff_seconds":
                retry = replace(retry, max_backoff_seconds=float(value))
            elif key == "batch_size" and batch is not None:
                batch = replace(batch, max_size=int(value))
            elif key == "batch_wait_seconds" and batch is not None:
                batch = replace(batch, max_wait_seconds=float(value))
        return replace(
            self, policy=replace(pol, retry=retry, breaker=breaker, **simple), batch=batch
        )


__all__ = ["AgencyPolicy", "BatchPolicy", "BreakerPolicy", "ControlPolicy", "Manifest", "RetryPolicy",
           "manifest_schema"]
