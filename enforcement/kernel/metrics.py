"""Every Prometheus metric the service exports, defined in one place.

Labels are agency, operation, outcome, status, state, role and reason: never a person, a case
or an ID number (tests/ops/test_metrics.py checks). Names follow Prometheus conventions: base
units (seconds, bytes), counters end in ``_total``, durations in ``_seconds``.

Where each family comes from:

- counters and histograms are incremented where things happen (API middleware, dispatcher,
  search service, callbacks), in the process where they happen: sum them across processes;
- the ``enforcement_agency_queue_*``, ``enforcement_agency_deferred_*`` and
  ``enforcement_searches_running`` gauges describe the shared database, refreshed every
  ``METRICS_REFRESH_SECONDS`` by API processes (``enforcement.searches.gauges``): take the
  ``max`` across processes, never the sum;
- ``process_*`` (memory, file descriptors, CPU) and ``enforcement_db_pool_*`` are per process.

The operations dashboard, the alert rules and the runbook (``ops/``) name these metrics; a test
checks that every name they use is exported here.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)

from enforcement.kernel.version import build, version

# ``*_created`` series double the exposition and no dashboard or alert reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

REGISTRY = CollectorRegistry(auto_describe=True)
PROCESS = ProcessCollector(registry=REGISTRY)  # process_resident_memory_bytes, process_open_fds, ...

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

SEARCHES_CREATED = Counter(
    "enforcement_searches_created_total", "Searches accepted", ["purpose_kind"], registry=REGISTRY
)
SEARCHES_COMPLETED = Counter(
    "enforcement_searches_completed_total", "Searches whose every task is terminal", registry=REGISTRY
)
SEARCH_DURATION = Histogram(
    "enforcement_search_duration_seconds",
    "From acceptance to the last agency's terminal state",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400, 604800),
    registry=REGISTRY,
)
AGENCY_CALLS = Counter(
    "enforcement_agency_calls_total",
    "Calls to partner agencies by outcome (result, pending, transient, auth, rejected)",
    ["agency", "operation", "outcome"],
    registry=REGISTRY,
)
AGENCY_CALL_DURATION = Histogram(
    "enforcement_agency_call_duration_seconds",
    "Duration of one call to a partner agency",
    ["agency", "operation"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
AGENCY_RETRIES = Counter(
    "enforcement_agency_retries_total", "Retries of transient agency failures", ["agency"], registry=REGISTRY
)
TASKS_FINISHED = Counter(
    "enforcement_agency_tasks_finished_total",
    "Agency tasks reaching a terminal state",
    ["agency", "status"],
    registry=REGISTRY,
)
TASKS_REUSED = Counter(
    "enforcement_agency_answers_reused_total",
    "Tasks answered from a fresh stored answer instead of asking again",
    ["agency"],
    registry=REGISTRY,
)
BREAKER_STATE = Gauge(
    "enforcement_agency_breaker_state",
    "Circuit breaker state per agency: 0 closed, 1 half-open, 2 open",
    ["agency"],
    registry=REGISTRY,
)
IN_FLIGHT = Gauge(
    "enforcement_agency_in_flight", "Agency calls in flight in this process", ["agency"], registry=REGISTRY
)
QUEUE_DEPTH = Gauge(
    "enforcement_agency_queue_depth",
    "Agency tasks not yet terminal, by state (queued, running, waiting)",
    ["agency", "state"],
    registry=REGISTRY,
)
QUEUE_OLDEST_AGE = Gauge(
    "enforcement_agency_queue_oldest_age_seconds",
    "How long the oldest task that is due (to send, or to poll) has waited to be claimed",
    ["agency"],
    registry=REGISTRY,
)
DEFERRED_OUTSTANDING = Gauge(
    "enforcement_agency_deferred_outstanding",
    "Deferred answers (tickets) not yet received",
    ["agency"],
    registry=REGISTRY,
)
DEFERRED_OVERDUE = Gauge(
    "enforcement_agency_deferred_overdue",
    "Deferred answers past their deadline: tickets still waiting after it, or expired unanswered in the last 24 h",
    ["agency"],
    registry=REGISTRY,
)
SEARCHES_RUNNING = Gauge(
    "enforcement_searches_running", "Searches with at least one agency task not yet terminal", registry=REGISTRY
)
GAUGE_REFRESH_FAILURES = Counter(
    "enforcement_gauge_refresh_failures_total",
    "Failed refreshes of the database-wide gauges (queue depth, deferred answers, ...)",
    registry=REGISTRY,
)
GAUGE_REFRESH_LAST_SUCCESS = Gauge(
    "enforcement_gauge_refresh_last_success_timestamp_seconds",
    "Unix time of the last successful refresh of the database-wide gauges",
    registry=REGISTRY,
)
CALLBACKS = Counter(
    "enforcement_agency_callbacks_total",
    "Agency callbacks by result (accepted, or the refusal reason)",
    ["agency", "result"],
    registry=REGISTRY,
)
DB_POOL_SIZE = Gauge(
    "enforcement_db_pool_connections",
    "Database pool connections of this process by state (in_use, idle)",
    ["state"],
    registry=REGISTRY,
)
DB_POOL_MAX = Gauge(
    "enforcement_db_pool_max_connections", "Most connections this process's pool may open", registry=REGISTRY
)
SSE_CLIENTS = Gauge("enforcement_event_stream_clients", "Open Server-Sent Events streams", registry=REGISTRY)
HTTP_REQUESTS = Counter(
    "enforcement_http_requests_total",
    "API requests by route and status class",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "enforcement_http_request_duration_seconds",
    "API request duration",
    ["route", "method"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
FLUSH_SIZE = Histogram(
    "enforcement_dispatcher_flush_batch_size",
    "Task outcomes written per database transaction",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
    registry=REGISTRY,
)
WORKER_INFO = Gauge("enforcement_worker_up", "1 while this process runs the given role", ["role"], registry=REGISTRY)

# -- Read by the alert rules (ops/prometheus/alerts.yml), set by the features that own the facts.
# (Re-queries: enforcement_requery_backlog and enforcement_requery_rounds_total, issue 5's, below.)
# Audit: set by AuditChainWatch (enforcement.searches.gauges) in API processes.
AUDIT_CHAIN_BROKEN = Gauge(
    "enforcement_audit_chain_broken",
    "1 when the last verification of the audit hash chain found a break (tampering), else 0",
    registry=REGISTRY,
)
AUDIT_CHAIN_VERIFIED_AT = Gauge(
    "enforcement_audit_chain_last_verified_timestamp_seconds",
    "Unix time of the last completed verification of the audit hash chain",
    registry=REGISTRY,
)

__all__ = [
    "AGENCY_CALLS",
    "AGENCY_CALL_DURATION",
    "AGENCY_RETRIES",
    "AUDIT_CHAIN_BROKEN",
    "AUDIT_CHAIN_VERIFIED_AT",
    "BREAKER_STATE",
    "CALLBACKS",
    "DB_POOL_MAX",
    "DB_POOL_SIZE",
    "DEFERRED_OUTSTANDING",
    "DEFERRED_OVERDUE",
    "FLUSH_SIZE",
    "GAUGE_REFRESH_FAILURES",
    "GAUGE_REFRESH_LAST_SUCCESS",
    "HTTP_DURATION",
    "HTTP_REQUESTS",
    "IN_FLIGHT",
    "PROCESS",
    "QUEUE_DEPTH",
    "QUEUE_OLDEST_AGE",
    "REGISTRY",
    "SEARCHES_COMPLETED",
    "SEARCHES_CREATED",
    "SEARCHES_RUNNING",
    "SEARCH_DURATION",
    "SSE_CLIENTS",
    "TASKS_FINISHED",
    "TASKS_REUSED",
    "WORKER_INFO",
]

# --- identities, authorization and audit (issue 4) ---
AUTH_FAILURES = Counter(
    "enforcement_auth_failures_total",
    "Requests refused for their bearer token (missing, expired, signature, algorithm, issuer, audience, ...)",
    ["reason"],
    registry=REGISTRY,
)
ACCESS_DENIED = Counter(
    "enforcement_access_denied_total", "Authenticated requests refused (403), by reason code", ["reason"],
    registry=REGISTRY,
)
REFUSALS_UNAUDITED = Counter(
    "enforcement_refusals_unaudited_total",
    "Refusals before anyone was known (401s, unsigned or forged callbacks) beyond the audit's per-minute bound: "
    "counted here, and the next audited one carries how many",
    registry=REGISTRY,
)
AUDIT_RECORDS = Counter(
    "enforcement_audit_records_total", "Audit records appended to the chain, by action", ["action"], registry=REGISTRY
)
CASES_PUSHED = Counter(
    "enforcement_cases_pushed_total", "Cases pushed by case-management systems, by outcome "
    "(created, updated, unchanged, rejected; conflict: a state contradicting the events, kept for review)",
    ["outcome"], registry=REGISTRY,
)

__all__ += ["ACCESS_DENIED", "AUDIT_RECORDS", "AUTH_FAILURES", "CASES_PUSHED", "REFUSALS_UNAUDITED"]

# --- agencies, callbacks and bulk searches (issue 3) ---
BATCHES = Counter("enforcement_search_batches_total", "Bulk searches accepted", registry=REGISTRY)
BATCH_SUBJECTS = Counter(
    "enforcement_search_batch_subjects_total", "Subjects of accepted bulk searches", registry=REGISTRY
)
LIVE_DISPATCHERS = Gauge(
    "enforcement_live_dispatchers",
    "Dispatchers alive as this process last counted them (each agency's rate is shared among them)",
    registry=REGISTRY,
)

__all__ += ["BATCHES", "BATCH_SUBJECTS", "LIVE_DISPATCHERS"]

# --- lifecycle, closure and indicators (issue 5) ---
INDICATOR_VALUE = Gauge(
    "enforcement_indicator_value",
    "Court-level enforcement indicator, year to date (ratios 0-1, averages in days; NaN when nothing counts yet); "
    "refreshed by the lifecycle worker",
    ["court", "indicator"],
    registry=REGISTRY,
)
INDICATOR_REFRESH_DURATION = Histogram(
    "enforcement_indicator_refresh_duration_seconds",
    "Time to compute every indicator of every court for the gauges",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
    registry=REGISTRY,
)
REQUERY_ROUNDS = Counter(
    "enforcement_requery_rounds_total", "终本 re-query rounds by outcome (submitted, done, missed)", ["outcome"],
    registry=REGISTRY,
)
REQUERY_BACKLOG = Gauge(
    "enforcement_requery_backlog", "终本 re-query rounds due to start (due) or searching (in_flight)", ["state"],
    registry=REGISTRY,
)
ALERTS_RAISED = Counter(
    "enforcement_alerts_raised_total", "Alerts raised for judges, by kind", ["kind"], registry=REGISTRY
)

__all__ += ["ALERTS_RAISED", "INDICATOR_REFRESH_DURATION", "INDICATOR_VALUE", "REQUERY_BACKLOG", "REQUERY_ROUNDS"]

# --- audit sequencer (decision 0404) ---
AUDIT_UNCHAINED_AGE = Gauge(
    "enforcement_audit_unchained_oldest_age_seconds",
    "How long the oldest audit record written with its action has waited for its place in the hash chain "
    "(0 when none waits); the chainers keep it under a second",
    registry=REGISTRY,
)

__all__ += ["AUDIT_UNCHAINED_AGE"]

# --- release (issue 18) ---
BUILD_INFO = Gauge(
    "enforcement_build_info",
    "Always 1; its labels name the release (version) and the git commit it was built from (build)",
    ["version", "build"],
    registry=REGISTRY,
)
BUILD_INFO.labels(version=version(), build=build()).set(1)

__all__ += ["BUILD_INFO"]

# --- control measures (issue 17) ---
MEASURES_SENT = Counter(
    "enforcement_measures_sent_total",
    "Control measures (freeze, seal, renew, release, deduct) answered by their agency, by outcome "
    "(accepted, partial, refused, failed, retried; pending: accepted for processing, answered later by ticket)",
    ["agency", "operation", "outcome"],
    registry=REGISTRY,
)
MEASURES_LAPSED = Counter(
    "enforcement_measures_lapsed_total",
    "Freezes and seals that reached their expiry without a renewal (an incident: the court lost its place)",
    ["agency"],
    registry=REGISTRY,
)
MEASURES_EXPIRY = Gauge(
    "enforcement_measures_expiry",
    "Live controls whose renewal is due (state=due), and controls that lapsed (state=lapsed), database-wide",
    ["state"],
    registry=REGISTRY,
)

__all__ += ["MEASURES_EXPIRY", "MEASURES_LAPSED", "MEASURES_SENT"]
