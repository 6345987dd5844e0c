"""Frozen settings, read once from the environment by the composition root.

Every knob the service has is here, with its default and the variable that overrides it.
Per-agency policy overrides use ``AGENCY_<NAME>_<FIELD>`` (for example
``AGENCY_BANKS_TIMEOUT_SECONDS=20``) and are applied over the connector's manifest.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Role = Literal["api", "worker", "all"]


def _env(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name)
    return default if value is None or value == "" else value


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return int(_env(env, name, str(default)))


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    return float(_env(env, name, str(default)))


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    return _env(env, name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service reads from its environment."""

    database_url: str | None = None
    data_dir: Path = Path(".data")
    host: str = "127.0.0.1"
    port: int = 8080
    role: Role = "all"
    public_url: str = "http://127.0.0.1:8080"
    pool_min_size: int = 2
    pool_max_size: int = 10
    # Dispatching
    worker_id: str = ""
    claim_batch_size: int = 50
    lease_seconds: float = 60.0
    idle_poll_seconds: float = 1.0
    max_in_flight: int = 64
    # Connectors: agency name -> base URL; empty means "use the manifest's default".
    agency_urls: Mapping[str, str] = field(default_factory=dict)
    agency_secrets: Mapping[str, str] = field(default_factory=dict)
    agency_overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    enabled_agencies: tuple[str, ...] = ()
    # Security
    jwt_mode: Literal["demo", "jwks"] = "demo"
    jwt_issuer: str = "enforcement-demo"
    jwt_audience: str = "enforcement-api"
    jwt_algorithms: tuple[str, ...] = ("RS256",)
    jwks_url: str = ""
    jwt_leeway_seconds: int = 30
    callback_max_skew_seconds: int = 300
    # Observability
    log_level: str = "INFO"
    log_json: bool | None = None
    metrics_refresh_seconds: float = 15.0  # database-wide gauges (queue depth, deferred answers)
    # Domain knobs (court-configurable)
    freshness_hours: float = 24.0
    requery_interval_days: int = 182
    requery_years: int = 5

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e: Mapping[str, str] = os.environ if env is None else env
        urls: dict[str, str] = {}
        secrets: dict[str, str] = {}
        overrides: dict[str, dict[str, str]] = {}
        for key, value in e.items():
            if key.startswith("AGENCY_") and key.endswith("_URL"):
                urls[key[len("AGENCY_") : -len("_URL")].lower()] = value
            elif key.startswith("AGENCY_") and key.endswith("_SECRET"):
                secrets[key[len("AGENCY_") : -len("_SECRET")].lower()] = value
            elif key.startswith("AGENCY_"):
                rest = key[len("AGENCY_") :].lower()
                for agency_field in _POLICY_FIELDS:
                    if rest.endswith("_" + agency_field):
                        agency = rest[: -len(agency_field) - 1]
                        overrides.setdefault(agency, {})[agency_field] = value
        role = _env(e, "ENFORCEMENT_ROLE", "all")
        if role not in ("api", "worker", "all"):
            raise ValueError(f"ENFORCEMENT_ROLE must be api, worker or all, not {role!r}")
        log_json_raw = e.get("LOG_JSON")
        port = _int(e, "PORT", 8080)
        host = _env(e, "HOST", "127.0.0.1")
        return cls(
            database_url=e.get("DATABASE_URL") or None,
            data_dir=Path(_env(e, "ENFORCEMENT_DATA_DIR", ".data")),
            host=host,
            port=port,
            role=role,  # type: ignore[arg-type]
            public_url=_env(e, "PUBLIC_URL", f"http://{host}:{port}"),
            pool_min_size=_int(e, "DB_POOL_MIN", 2),
            pool_max_size=_int(e, "DB_POOL_MAX", 10),
            worker_id=_env(e, "WORKER_ID", ""),
            claim_batch_size=_int(e, "CLAIM_BATCH_SIZE", 50),
            lease_seconds=_float(e, "LEASE_SECONDS", 60.0),
            idle_poll_seconds=_float(e, "IDLE_POLL_SECONDS", 1.0),
            max_in_flight=_int(e, "MAX_IN_FLIGHT", 64),
            agency_urls=urls,
            agency_secrets=secrets,
            agency_overrides=overrides,
            enabled_agencies=tuple(
                a for a in _env(e, "ENABLED_AGENCIES", "").split(",") if a.strip()
            ),
            jwt_mode="jwks" if _env(e, "JWT_MODE", "demo") == "jwks" else "demo",
            jwt_issuer=_env(e, "JWT_ISSUER", "enforcement-demo"),
            jwt_audience=_env(e, "JWT_AUDIENCE", "enforcement-api"),
            jwt_algorithms=tuple(_env(e, "JWT_ALGORITHMS", "RS256").split(",")),
            jwks_url=_env(e, "JWKS_URL", ""),
            jwt_leeway_seconds=_int(e, "JWT_LEEWAY_SECONDS", 30),
            callback_max_skew_seconds=_int(e, "CALLBACK_MAX_SKEW_SECONDS", 300),
            log_level=_env(e, "LOG_LEVEL", "INFO"),
            log_json=None if log_json_raw is None else _bool(e, "LOG_JSON", True),
            metrics_refresh_seconds=_float(e, "METRICS_REFRESH_SECONDS", 15.0),
            freshness_hours=_float(e, "FRESHNESS_HOURS", 24.0),
            requery_interval_days=_int(e, "REQUERY_INTERVAL_DAYS", 182),
            requery_years=_int(e, "REQUERY_YEARS", 5),
        )


_POLICY_FIELDS = (
    "timeout_seconds",
    "max_in_flight",
    "rate_per_second",
    "max_attempts",
    "deadline_seconds",
    "freshness_hours",
    "breaker_min_calls",
    "breaker_failure_ratio",
    "breaker_open_seconds",
    "batch_size",
    "batch_wait_seconds",
)
