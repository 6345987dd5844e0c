"""Every Prometheus metric the service exports, defined in one place.

Labels are agency, outcome, status, role and reason: never a person, a case or an ID number.
Names follow Prometheus conventions: base units (seconds), counters end in ``_total``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

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
    "Age of the oldest due task not yet claimed",
    ["agency"],
    registry=REGISTRY,
)
DEFERRED_OUTSTANDING = Gauge(
    "enforcement_agency_deferred_outstanding",
    "Deferred answers (tickets) not yet received",
    ["agency"],
    registry=REGISTRY,
)
CALLBACKS = Counter(
    "enforcement_agency_callbacks_total",
    "Agency callbacks by result (accepted, or the refusal reason)",
    ["agency", "result"],
    registry=REGISTRY,
)
DB_POOL_SIZE = Gauge("enforcement_db_pool_connections", "Database pool connections", ["state"], registry=REGISTRY)
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

__all__ = [
    "AGENCY_CALLS",
    "AGENCY_CALL_DURATION",
    "AGENCY_RETRIES",
    "BREAKER_STATE",
    "CALLBACKS",
    "DB_POOL_SIZE",
    "DEFERRED_OUTSTANDING",
    "FLUSH_SIZE",
    "HTTP_DURATION",
    "HTTP_REQUESTS",
    "IN_FLIGHT",
    "QUEUE_DEPTH",
    "QUEUE_OLDEST_AGE",
    "REGISTRY",
    "SEARCHES_COMPLETED",
    "SEARCHES_CREATED",
    "SEARCH_DURATION",
    "SSE_CLIENTS",
    "TASKS_FINISHED",
    "TASKS_REUSED",
    "WORKER_INFO",
]
