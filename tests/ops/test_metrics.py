"""The metrics follow Prometheus naming conventions and never carry a person's identity."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from enforcement.kernel import metrics
from tests.conftest import Api

PERSONAL = {
    "login", "user", "username", "judge", "officer", "name", "subject", "debtor", "applicant", "person",
    "ticket", "idempotency_key", "request_id", "case", "search", "account", "plate", "vin", "ip",
}


def families() -> list[tuple[str, str, set[str]]]:
    out = []
    for family in metrics.REGISTRY.collect():
        labels = {k for s in family.samples for k in s.labels}
        out.append((family.name, family.type, labels))
    return out


def test_names_follow_prometheus_conventions() -> None:
    fams = families()
    assert len(fams) > 20
    for name, kind, _labels in fams:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), name
        assert name.startswith(("enforcement_", "process_")), f"{name}: use the enforcement_ namespace"
        if kind == "counter":
            # prometheus_client strips _total from the family; the sample carries it.
            assert not name.endswith("_total"), name
        if kind in ("gauge", "counter"):
            assert not name.endswith(("_ms", "_milliseconds", "_minutes", "_hours", "_days")), f"{name}: base units"
        if kind == "histogram" and ("duration" in name or "latency" in name or name.endswith("_time")):
            assert name.endswith("_seconds"), f"{name}: durations are in seconds"
        if name.endswith("_seconds"):
            assert kind in ("histogram", "gauge", "summary", "counter"), name


def test_no_label_names_a_person_a_case_or_an_id() -> None:
    for name, _kind, labels in families():
        for label in labels - {"le", "quantile"}:
            assert label not in PERSONAL, f"{name} is labelled by {label}"
            assert not label.endswith(("_id", "_number", "_login", "_name")), f"{name} is labelled by {label}"


async def test_the_metrics_endpoint_exports_the_operations_families(make_api: object) -> None:
    api: Api = await make_api()  # type: ignore[operator]
    status, text = await api.request("GET", "/metrics")
    assert status == 200
    names = {f.name for f in text_string_to_metric_families(text)}
    for expected in (
        "enforcement_agency_queue_depth",
        "enforcement_agency_queue_oldest_age_seconds",
        "enforcement_agency_deferred_outstanding",
        "enforcement_agency_deferred_overdue",
        "enforcement_searches_running",
        "enforcement_db_pool_connections",
        "enforcement_agency_breaker_state",
        "process_resident_memory_bytes",
        "process_open_fds",
    ):
        assert expected in names, expected
    samples = [s.name for f in text_string_to_metric_families(text) for s in f.samples]
    assert not [s for s in samples if s.endswith("_created")]  # created series are disabled
    assert 'enforcement_agency_queue_depth{agency="vehicles",state="queued"}' in text
