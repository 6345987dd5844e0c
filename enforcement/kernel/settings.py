"""Frozen settings, read once from the environment by the composition root.

Every knob the service has is here, with its default and the variable that overrides it.
Per-agency policy overrides use ``AGENCY_<NAME>_<FIELD>`` (for example
``AGENCY_BANKS_TIMEOUT_SECONDS=20``) and are applied over the connector's manifest. An agency
that calls back signs with ``AGENCY_<NAME>_CALLBACK_SECRET`` (its credential towards us, distinct
from ``AGENCY_<NAME>_SECRET``, ours towards it). Each secret's issue date may be recorded with
``AGENCY_<NAME>_CALLBACK_SECRET_ISSUED`` and ``AGENCY_<NAME>_SECRET_ISSUED`` (ISO dates, e.g.
``2026-06-01``): the agencies view (``GET /api/v1/agencies``) reports each secret's age, never the
secret, and warns past ``SECRET_MAX_AGE_DAYS`` (180) days.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

from enforcement.domain.measures import DEFAULT_RENEWAL_NOTICE_DAYS

Role = Literal["api", "worker", "all"]


def _env(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name)
    return default if value is None or value == "" else value


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return int(_env(env, name, str(default)))


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    return float(_env(env, name, str(default)))


def _decimal(env: Mapping[str, str], name: str, default: Decimal) -> Decimal:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = Decimal(raw)
    except ArithmeticError:
        raise ValueError(f"{name} must be an amount in yuan, not {raw!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{name} must be a non-negative amount in yuan, not {raw!r}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    return _env(env, name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


def _date(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{name} must be an ISO date (YYYY-MM-DD), not {value!r}") from None


def _csv(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    return tuple(v.strip() for v in raw.split(",") if v.strip())


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
    flush_linger_seconds: float = 0.010
    flush_concurrency: int = 2
    lease_seconds: float = 60.0
    idle_poll_seconds: float = 1.0
    max_in_flight: int = 64
    heartbeat_seconds: float = 1.0     # dispatchers: liveness, shared breaker sync, per-agency call stats
    # Bulk searches
    batch_max_subjects: int = 10000
    # Control measures (issue 17): renewal alerts N days before expiry, a ruling's life, the
    # court's 执行案款 account deductions go to, how often the expiry watch runs, a measure's deadline.
    measure_renewal_notice_days: int = DEFAULT_RENEWAL_NOTICE_DAYS
    measure_ruling_valid_days: int = 90
    court_funds_account: str = ""
    measure_expiry_check_seconds: float = 600.0
    measure_deadline_seconds: float = 3600.0
    # A deduction above this many yuan waits for a supervisor of the case's court to approve it
    # (MEASURE_DEDUCTION_APPROVAL_YUAN; the court's set amount).
    measure_deduction_approval_yuan: Decimal = Decimal("100000.00")
    # Connectors: agency name -> base URL; empty means "use the manifest's default".
    agency_urls: Mapping[str, str] = field(default_factory=dict)
    agency_secrets: Mapping[str, str] = field(default_factory=dict)
    # Agency name -> secret the agency signs its callbacks with (AGENCY_<NAME>_CALLBACK_SECRET).
    callback_secrets: Mapping[str, str] = field(default_factory=dict)
    # Each secret's issue date (AGENCY_<NAME>_CALLBACK_SECRET_ISSUED, AGENCY_<NAME>_SECRET_ISSUED),
    # and the age past which the agencies view warns that it is due for rotation (SECRET_MAX_AGE_DAYS).
    callback_secrets_issued: Mapping[str, date] = field(default_factory=dict)
    agency_secrets_issued: Mapping[str, date] = field(default_factory=dict)
    secret_max_age_days: int = 180
    agency_overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    enabled_agencies: tuple[str, ...] = ()
    # Security
    jwt_mode: Literal["demo", "jwks"] = "demo"
    jwt_issuer: str = "enforcement-demo"
    jwt_audience: str = "enforcement-api"
    jwt_algorithms: tuple[str, ...] = ("RS256",)
    jwks_url: str = ""
    jwt_leeway_seconds: int = 30
    jwt_max_lifetime_seconds: int = 12 * 3600  # a token's exp - iat, at most (decision 0902)
    # Refusals before anyone is known (401s, unsigned callbacks) audited per process and minute, at most;
    # beyond it they are counted (metric) and the next record written carries how many were not.
    audit_anonymous_refusals_per_minute: int = 600
    callback_max_skew_seconds: int = 300
    jwks_cache_seconds: float = 300.0       # how long keys fetched from JWKS_URL are trusted before a refetch
    audit_chain_key: str = ""               # HMAC key of the audit chain; the demo keeps one in data_dir/keys
    # /metrics carries every court's figures. Public by default only in the demo (JWT_MODE=demo);
    # METRICS_TOKEN: Prometheus sends it as a bearer token (an ops user's JWT is accepted too);
    # METRICS_PORT: /metrics is served on that port only (its own listener), not beside the API.
    metrics_public: bool = True             # false: /metrics requires METRICS_TOKEN or an ops bearer token
    metrics_token: str = ""
    metrics_port: int = 0                   # 0: /metrics on the service's own port
    # Request bodies: every body is read whole under its route's limit (413 beyond it)
    json_body_max_bytes: int = 64 * 1024        # JSON commands and the demo sign-in
    callback_max_bytes: int = 1024 * 1024       # an agency callback, read before its signature is checked
    batch_max_bytes: int = 8 * 1024 * 1024      # a bulk search (up to batch_max_subjects rows)
    event_data_max_bytes: int = 16 * 1024       # one lifecycle event's ``data``, as compact JSON
    # Case registry (pushed by the courts' case-management systems); both NDJSON imports
    case_import_max_bytes: int = 16 * 1024 * 1024
    case_import_max_lines: int = 20000
    # Observability
    log_level: str = "INFO"
    log_json: bool | None = None
    metrics_refresh_seconds: float = 15.0  # database-wide gauges (queue depth, deferred answers)
    audit_verify_seconds: float = 3600.0  # API processes verify the audit chain this often (0: never)
    # Retention (decision 1901): whole months of agency_task / search_event partitions kept before
    # `enforcement db partitions --drop-expired` may drop them. A search's tasks are its dossier's
    # per-agency lines (the answers and records themselves are kept for good): keep them past the
    # re-query horizon (REQUERY_YEARS) by default; events are the live stream and its replays.
    task_retention_months: int = 72
    event_retention_months: int = 12
    # Domain knobs (court-configurable)
    freshness_hours: float = 24.0
    requery_interval_days: int = 182
    requery_years: int = 5
    # Case lifecycle, the 终本 checklist, re-query and indicators (issue 5; docs/indicators.md)
    statutory_months: int = 6                    # statutory period of an enforcement case
    statutory_months_non_litigation: int = 3     # ... of a non-litigation case
    zhongben_required_categories: tuple[str, ...] = ("deposits", "vehicles", "real_estate", "securities")
    zhongben_min_months: int = 3                 # 终本 only more than this many months after filing
    zhongben_require_onsite: bool = False        # 终本 condition 3: on-site inquiry for every 终本 (court's
                                                 # stricter choice; by law only where the network cannot answer)
    requery_spread_days: int = 14                # re-queries start up to this many days before due
    requery_max_per_tick: int = 20               # re-query searches submitted per worker tick, at most
    requery_agency_share: float = 0.2            # ... and at most this share of the slowest agency's rate
    property_kinds: tuple[str, ...] = ("bank_account", "vehicle", "employment", "pension", "real_estate",
                                       "securities_holding")
    dishonest_removal_searches: int = 2          # post-closure searches finding nothing before delisting
    dishonest_removal_working_days: int = 3      # ... within this many working days
    court_holidays: tuple[str, ...] = ()         # ISO dates that are not working days (beside the official calendar)
    court_calendar_file: Path | None = None      # JSON/TOML: holidays and make-up workdays the package lacks
    # Court choices the law leaves open (docs/indicators.md §6)
    deadline_holiday_extends: bool = False       # a statutory deadline on a non-working day moves to the next
    petitions_before_window: bool = False        # petitions received before the window, closed in it, counted
    overall_closure_window_years: int = 3        # 整体结案率 window: 3 years (default) or 1
    lifecycle_tick_seconds: float = 5.0          # the lifecycle worker's pace (re-query, review, reconcile)
    indicator_refresh_seconds: float = 300.0     # Prometheus indicator gauges

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings from ``env`` (default ``os.environ``); raises ValueError on a bad value."""
        e: Mapping[str, str] = os.environ if env is None else env
        urls: dict[str, str] = {}
        secrets: dict[str, str] = {}
        callback_secrets: dict[str, str] = {}
        callback_issued: dict[str, date] = {}
        secrets_issued: dict[str, date] = {}
        overrides: dict[str, dict[str, str]] = {}
        for key, value in e.items():
            if key.startswith("AGENCY_") and key.endswith("_CALLBACK_SECRET_ISSUED"):
                callback_issued[key[len("AGENCY_") : -len("_CALLBACK_SECRET_ISSUED")].lower()] = _date(key, value)
            elif key.startswith("AGENCY_") and key.endswith("_SECRET_ISSUED"):
                secrets_issued[key[len("AGENCY_") : -len("_SECRET_ISSUED")].lower()] = _date(key, value)
            elif key.startswith("AGENCY_") and key.endswith("_URL"):
                urls[key[len("AGENCY_") : -len("_URL")].lower()] = value
            elif key.startswith("AGENCY_") and key.endswith("_CALLBACK_SECRET"):
                callback_secrets[key[len("AGENCY_") : -len("_CALLBACK_SECRET")].lower()] = value
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
        jwt_mode: Literal["demo", "jwks"] = "jwks" if _env(e, "JWT_MODE", "demo") == "jwks" else "demo"
        metrics_token = _env(e, "METRICS_TOKEN", "")
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
            flush_linger_seconds=_float(e, "FLUSH_LINGER_MS", 10.0) / 1000,
            flush_concurrency=_int(e, "FLUSH_CONCURRENCY", 2),
            lease_seconds=_float(e, "LEASE_SECONDS", 60.0),
            idle_poll_seconds=_float(e, "IDLE_POLL_SECONDS", 1.0),
            max_in_flight=_int(e, "MAX_IN_FLIGHT", 64),
            heartbeat_seconds=_float(e, "HEARTBEAT_SECONDS", 1.0),
            batch_max_subjects=_int(e, "BATCH_MAX_SUBJECTS", 10000),
            agency_urls=urls,
            agency_secrets=secrets,
            callback_secrets=callback_secrets,
            callback_secrets_issued=callback_issued,
            agency_secrets_issued=secrets_issued,
            secret_max_age_days=_int(e, "SECRET_MAX_AGE_DAYS", 180),
            agency_overrides=overrides,
            enabled_agencies=tuple(
                a for a in _env(e, "ENABLED_AGENCIES", "").split(",") if a.strip()
            ),
            jwt_mode=jwt_mode,
            jwt_issuer=_env(e, "JWT_ISSUER", "enforcement-demo"),
            jwt_audience=_env(e, "JWT_AUDIENCE", "enforcement-api"),
            jwt_algorithms=tuple(_env(e, "JWT_ALGORITHMS", "RS256").split(",")),
            jwks_url=_env(e, "JWKS_URL", ""),
            jwt_leeway_seconds=_int(e, "JWT_LEEWAY_SECONDS", 30),
            jwt_max_lifetime_seconds=_int(e, "JWT_MAX_LIFETIME_SECONDS", 12 * 3600),
            audit_anonymous_refusals_per_minute=_int(e, "AUDIT_ANONYMOUS_REFUSALS_PER_MINUTE", 600),
            callback_max_skew_seconds=_int(e, "CALLBACK_MAX_SKEW_SECONDS", 300),
            measure_renewal_notice_days=_notice_days(_int(e, "MEASURE_RENEWAL_NOTICE_DAYS",
                                                          DEFAULT_RENEWAL_NOTICE_DAYS)),
            measure_ruling_valid_days=_int(e, "MEASURE_RULING_VALID_DAYS", 90),
            court_funds_account=_env(e, "COURT_FUNDS_ACCOUNT", ""),
            measure_expiry_check_seconds=_float(e, "MEASURE_EXPIRY_CHECK_SECONDS", 600.0),
            measure_deadline_seconds=_float(e, "MEASURE_DEADLINE_SECONDS", 3600.0),
            measure_deduction_approval_yuan=_decimal(e, "MEASURE_DEDUCTION_APPROVAL_YUAN", Decimal("100000.00")),
            jwks_cache_seconds=_float(e, "JWKS_CACHE_SECONDS", 300.0),
            audit_chain_key=_env(e, "AUDIT_CHAIN_KEY", ""),
            metrics_public=_bool(e, "METRICS_PUBLIC", jwt_mode == "demo" and not metrics_token),
            metrics_token=metrics_token,
            metrics_port=_int(e, "METRICS_PORT", 0),
            json_body_max_bytes=_int(e, "JSON_BODY_MAX_BYTES", 64 * 1024),
            callback_max_bytes=_int(e, "CALLBACK_MAX_BYTES", 1024 * 1024),
            batch_max_bytes=_int(e, "BATCH_MAX_BYTES", 8 * 1024 * 1024),
            event_data_max_bytes=_int(e, "EVENT_DATA_MAX_BYTES", 16 * 1024),
            case_import_max_bytes=_int(e, "CASE_IMPORT_MAX_BYTES", 16 * 1024 * 1024),
            case_import_max_lines=_int(e, "CASE_IMPORT_MAX_LINES", 20000),
            log_level=_env(e, "LOG_LEVEL", "INFO"),
            log_json=None if log_json_raw is None else _bool(e, "LOG_JSON", True),
            metrics_refresh_seconds=_float(e, "METRICS_REFRESH_SECONDS", 15.0),
            audit_verify_seconds=_float(e, "AUDIT_VERIFY_SECONDS", 3600.0),
            task_retention_months=_months("TASK_RETENTION_MONTHS", _int(e, "TASK_RETENTION_MONTHS", 72)),
            event_retention_months=_months("EVENT_RETENTION_MONTHS", _int(e, "EVENT_RETENTION_MONTHS", 12)),
            freshness_hours=_float(e, "FRESHNESS_HOURS", 24.0),
            requery_interval_days=_int(e, "REQUERY_INTERVAL_DAYS", 182),
            requery_years=_int(e, "REQUERY_YEARS", 5),
            statutory_months=_int(e, "STATUTORY_MONTHS", 6),
            statutory_months_non_litigation=_int(e, "STATUTORY_MONTHS_NON_LITIGATION", 3),
            zhongben_required_categories=_csv(e, "ZHONGBEN_REQUIRED_CATEGORIES",
                                              ("deposits", "vehicles", "real_estate", "securities")),
            zhongben_min_months=_int(e, "ZHONGBEN_MIN_MONTHS", 3),
            zhongben_require_onsite=_bool(e, "ZHONGBEN_REQUIRE_ONSITE", False),
            requery_spread_days=_int(e, "REQUERY_SPREAD_DAYS", 14),
            requery_max_per_tick=_int(e, "REQUERY_MAX_PER_TICK", 20),
            requery_agency_share=_float(e, "REQUERY_AGENCY_SHARE", 0.2),
            property_kinds=_csv(e, "PROPERTY_KINDS", ("bank_account", "vehicle", "employment", "pension",
                                                      "real_estate", "securities_holding")),
            dishonest_removal_searches=_int(e, "DISHONEST_REMOVAL_SEARCHES", 2),
            dishonest_removal_working_days=_int(e, "DISHONEST_REMOVAL_WORKING_DAYS", 3),
            court_holidays=_csv(e, "COURT_HOLIDAYS", ()),
            court_calendar_file=Path(e["COURT_CALENDAR_FILE"]) if e.get("COURT_CALENDAR_FILE") else None,
            deadline_holiday_extends=_bool(e, "DEADLINE_HOLIDAY_EXTENDS", False),
            petitions_before_window=_bool(e, "PETITIONS_BEFORE_WINDOW", False),
            overall_closure_window_years=_window_years(_int(e, "OVERALL_CLOSURE_WINDOW_YEARS", 3)),
            lifecycle_tick_seconds=_float(e, "LIFECYCLE_TICK_SECONDS", 5.0),
            indicator_refresh_seconds=_float(e, "INDICATOR_REFRESH_SECONDS", 300.0),
        )


def _months(name: str, months: int) -> int:
    if months < 1:
        raise ValueError(f"{name} must be a whole number of months, at least 1, not {months}")
    return months


def _notice_days(days: int) -> int:
    """The deployment's renewal notice days: the range a court may choose its own in (the CHECK of
    court.measure_renewal_notice_days, migration 0034; decision 1704)."""
    if not 1 <= days <= 90:
        raise ValueError(f"MEASURE_RENEWAL_NOTICE_DAYS must be a whole number of days from 1 to 90, not {days}")
    return days


def _window_years(years: int) -> int:
    if years not in (1, 3):
        raise ValueError(f"OVERALL_CLOSURE_WINDOW_YEARS must be 1 or 3, not {years}")
    return years


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
    "breaker_half_open_probes",
    "initial_backoff_seconds",
    "max_backoff_seconds",
    "batch_size",
    "batch_wait_seconds",
)
