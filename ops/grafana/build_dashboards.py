"""Build the Grafana dashboards (operations.json, indicators.json) from this description.

    python ops/grafana/build_dashboards.py          # rewrite the JSON files
    python ops/grafana/build_dashboards.py --check  # exit 1 if they are out of date

The JSON files are what Grafana imports (or provisions from this folder); this script is where
they are edited. tests/ops/test_dashboards.py checks that the files match the script and that
every query names a metric the service exports.

Conventions: database-wide gauges (queue, deferred answers, searches running, re-queries,
indicators) are exported by every API process, so panels take ``max`` across instances;
counters are summed. The ``$agency`` and ``$court`` variables filter; the ``$datasource``
variable picks the Prometheus data source.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DS = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"


@dataclass
class Panel:
    title: str
    exprs: list[tuple[str, str]]  # (PromQL, legend)
    unit: str = "short"
    kind: str = "timeseries"
    width: int = 12
    height: int = 8
    description: str = ""
    stack: bool = False
    thresholds: list[tuple[float, str]] = field(default_factory=list)
    mappings: list[dict[str, Any]] = field(default_factory=list)
    decimals: int | None = None
    min: float | None = None
    max: float | None = None
    base_color: str = "green"


@dataclass
class Row:
    title: str
    panels: list[Panel]


def _panel_json(panel: Panel, pid: int, x: int, y: int) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": panel.unit}
    if panel.decimals is not None:
        defaults["decimals"] = panel.decimals
    if panel.min is not None:
        defaults["min"] = panel.min
    if panel.max is not None:
        defaults["max"] = panel.max
    if panel.thresholds:
        defaults["thresholds"] = {
            "mode": "absolute",
            "steps": [{"color": panel.base_color, "value": None}]
            + [{"color": color, "value": value} for value, color in panel.thresholds],
        }
    if panel.mappings:
        defaults["mappings"] = panel.mappings
    if panel.kind == "timeseries":
        defaults["custom"] = {
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": 10 if panel.stack else 0,
            "stacking": {"mode": "normal" if panel.stack else "none", "group": "A"},
            "showPoints": "never",
        }
    out: dict[str, Any] = {
        "id": pid,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DS,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "targets": [
            {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": chr(ord("A") + i)}
            for i, (expr, legend) in enumerate(panel.exprs)
        ],
    }
    if panel.kind == "timeseries":
        out["options"] = {
            "legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
    elif panel.kind == "stat":
        out["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                          "colorMode": "background", "graphMode": "none", "textMode": "value_and_name"}
    elif panel.kind == "table":
        for target in out["targets"]:
            target["format"] = "table"
            target["instant"] = True
        out["options"] = {"showHeader": True}
        out["transformations"] = [{"id": "merge", "options": {}}]
    return out


def dashboard(uid: str, title: str, description: str, rows: list[Row], variables: list[dict[str, Any]],
              *, tags: list[str], refresh: str, time_from: str) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    pid = 1
    y = 0
    for row in rows:
        panels.append({"id": pid, "type": "row", "title": row.title, "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        pid += 1
        y += 1
        x = 0
        row_height = 0
        for panel in row.panels:
            if x + panel.width > 24:
                x = 0
                y += row_height
                row_height = 0
            panels.append(_panel_json(panel, pid, x, y))
            pid += 1
            x += panel.width
            row_height = max(row_height, panel.height)
        y += row_height
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": tags,
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": refresh,
        "time": {"from": time_from, "to": "now"},
        "annotations": {"list": []},
        "templating": {"list": variables},
        "panels": panels,
    }


def datasource_variable() -> dict[str, Any]:
    return {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
            "current": {}, "hide": 0, "refresh": 1}


def query_variable(name: str, label: str, query: str) -> dict[str, Any]:
    return {
        "name": name, "label": label, "type": "query", "datasource": DS,
        "query": {"query": query, "refId": f"{name}-values"}, "definition": query,
        "includeAll": True, "multi": True, "allValue": ".*", "current": {"text": "All", "value": "$__all"},
        "refresh": 2, "sort": 1, "hide": 0,
    }


# -- operations ----------------------------------------------------------------------------

A = 'agency=~"$agency"'
BREAKER_MAPPINGS = [{"type": "value", "options": {
    "0": {"text": "closed", "color": "green"},
    "1": {"text": "half-open", "color": "orange"},
    "2": {"text": "open", "color": "red"},
}}]


def quantiles(metric: str, by: str, selector: str, qs: tuple[float, ...] = (0.5, 0.95, 0.99)) -> list[tuple[str, str]]:
    return [
        (f"histogram_quantile({q}, sum by ({by}, le) (rate({metric}_bucket{{{selector}}}[{RATE}])))",
         f"p{int(q * 100)} {{{{{by}}}}}")
        for q in qs
    ]


def operations() -> dict[str, Any]:
    rows = [
        Row("Searches", [
            Panel("Searches accepted and completed per second", [
                ("sum(rate(enforcement_searches_created_total[$__rate_interval]))", "accepted"),
                ("sum(rate(enforcement_searches_completed_total[$__rate_interval]))", "completed"),
            ], unit="reqps", width=8),
            Panel("Searches running", [("max(enforcement_searches_running)", "running")], width=8,
                  description="Searches with an agency task not yet terminal (database-wide)."),
            Panel("Search duration", [
                (f"histogram_quantile({q}, sum by (le) (rate(enforcement_search_duration_seconds_bucket[{RATE}])))",
                 f"p{int(q * 100)}") for q in (0.5, 0.95, 0.99)
            ], unit="s", width=8, description="From acceptance to the last agency's terminal state."),
            Panel("Searches accepted by purpose", [
                ("sum by (purpose_kind) (rate(enforcement_searches_created_total[$__rate_interval]))",
                 "{{purpose_kind}}"),
            ], unit="reqps", width=12, stack=True),
            Panel("Agency tasks finished by status", [
                (f"sum by (status) (rate(enforcement_agency_tasks_finished_total{{{A}}}[{RATE}]))", "{{status}}"),
                (f"sum(rate(enforcement_agency_answers_reused_total{{{A}}}[{RATE}]))",
                 "answered from a fresh stored answer"),
            ], unit="ops", width=12, stack=True),
        ]),
        Row("Agencies", [
            Panel("Agency calls by outcome", [
                (f"sum by (agency, outcome) (rate(enforcement_agency_calls_total{{{A}}}[{RATE}]))",
                 "{{agency}} {{outcome}}"),
            ], unit="ops", width=12),
            Panel("Agency call failure ratio", [
                (f'sum by (agency) (rate(enforcement_agency_calls_total{{{A},outcome=~"transient|auth"}}[{RATE}]))'
                 f" / sum by (agency) (rate(enforcement_agency_calls_total{{{A}}}[{RATE}]))", "{{agency}}"),
            ], unit="percentunit", width=12, min=0, max=1, thresholds=[(0.2, "orange"), (0.5, "red")]),
            Panel("Agency search latency (p50, p95, p99)",
                  quantiles("enforcement_agency_call_duration_seconds", "agency", f'{A},operation="search"'),
                  unit="s", width=12),
            Panel("Agency poll and batch latency (p95)", [
                (f"histogram_quantile(0.95, sum by (agency, operation, le) (rate("
                 f'enforcement_agency_call_duration_seconds_bucket{{{A},operation=~"poll|batch"}}[{RATE}])))',
                 "{{agency}} {{operation}}"),
            ], unit="s", width=12),
            Panel("Retries per second", [
                (f"sum by (agency) (rate(enforcement_agency_retries_total{{{A}}}[{RATE}]))", "{{agency}}"),
            ], unit="ops", width=8),
            Panel("Circuit breakers (worst worker)", [
                (f"max by (agency) (enforcement_agency_breaker_state{{{A}}})", "{{agency}}"),
            ], kind="stat", width=8, mappings=BREAKER_MAPPINGS, thresholds=[(1, "orange"), (2, "red")]),
            Panel("Calls in flight", [
                (f"sum by (agency) (enforcement_agency_in_flight{{{A}}})", "{{agency}}"),
            ], width=8, stack=True),
        ]),
        Row("Queue and deferred answers", [
            Panel("Queue depth by state", [
                (f"max by (agency, state) (enforcement_agency_queue_depth{{{A}}})", "{{agency}} {{state}}"),
            ], width=12, stack=True),
            Panel("Oldest due task's wait", [
                (f"max by (agency) (enforcement_agency_queue_oldest_age_seconds{{{A}}})", "{{agency}}"),
            ], unit="s", width=12, thresholds=[(120, "orange"), (900, "red")],
                description="How long the oldest task due to be sent or polled has waited to be claimed."),
            Panel("Deferred answers outstanding", [
                (f"max by (agency) (enforcement_agency_deferred_outstanding{{{A}}})", "{{agency}}"),
            ], width=8),
            Panel("Deferred answers past their deadline", [
                (f"max by (agency) (enforcement_agency_deferred_overdue{{{A}}})", "{{agency}}"),
            ], width=8, thresholds=[(1, "red")]),
            Panel("Agency callbacks by result", [
                (f"sum by (agency, result) (rate(enforcement_agency_callbacks_total{{{A}}}[{RATE}]))",
                 "{{agency}} {{result}}"),
            ], unit="ops", width=8, description="accepted, or the reason a callback was refused."),
        ]),
        Row("API", [
            Panel("Requests per second by route and status", [
                (f"sum by (route, status) (rate(enforcement_http_requests_total[{RATE}]))", "{{route}} {{status}}"),
            ], unit="reqps", width=12),
            Panel("Request latency p95 by route", [
                ("histogram_quantile(0.95, sum by (route, le) "
                 f"(rate(enforcement_http_request_duration_seconds_bucket[{RATE}])))", "{{route}}"),
            ], unit="s", width=12),
            Panel("5xx ratio", [
                (f'sum(rate(enforcement_http_requests_total{{status="5xx"}}[{RATE}]))'
                 f" / sum(rate(enforcement_http_requests_total[{RATE}]))", "5xx"),
            ], unit="percentunit", width=8, thresholds=[(0.02, "red")]),
            Panel("Event-stream (SSE) clients", [
                ("sum(enforcement_event_stream_clients)", "clients"),
            ], width=8),
            Panel("Authentication and access refusals", [
                (f"sum by (reason) (rate(enforcement_auth_failures_total[{RATE}]))", "401 {{reason}}"),
                (f"sum by (reason) (rate(enforcement_access_denied_total[{RATE}]))", "403 {{reason}}"),
            ], unit="reqps", width=8),
        ]),
        Row("Control measures (冻结、查封、续行、解除、扣划)", [
            Panel("Renewals due and lapsed controls", [
                ('max(enforcement_measures_expiry{state="due"})', "renewal due"),
                ('max(enforcement_measures_expiry{state="lapsed"})', "lapsed"),
            ], kind="stat", width=6, thresholds=[(1, "red")],
                  description="Live freezes and seals whose renewal is due within the court's notice days, and "
                              "controls that lapsed without renewal (an incident: runbook EnforcementMeasureLapsed)."),
            Panel("Lapses per day", [
                ("sum by (agency) (increase(enforcement_measures_lapsed_total[1d]))", "{{agency}}"),
            ], width=9, thresholds=[(1, "red")]),
            Panel("Measures answered by outcome", [
                (f"sum by (operation, outcome) (rate(enforcement_measures_sent_total{{agency=~\"$agency\"}}[{RATE}]))",
                 "{{operation}} {{outcome}}"),
            ], unit="ops", width=9, stack=True),
        ]),
        Row("Processes and database", [
            Panel("Processes up by role", [("sum by (role) (enforcement_worker_up)", "{{role}}")],
                  kind="stat", width=6),
            Panel("Resident memory", [("process_resident_memory_bytes{job=~\"enforcement-.*\"}", "{{instance}}")],
                  unit="bytes", width=9),
            Panel("CPU", [(f"rate(process_cpu_seconds_total{{job=~\"enforcement-.*\"}}[{RATE}])", "{{instance}}")],
                  unit="percentunit", width=9),
            Panel("Database pool", [
                ('enforcement_db_pool_connections{state="in_use"}', "{{instance}} in use"),
                ("enforcement_db_pool_max_connections", "{{instance}} max"),
            ], width=8),
            Panel("Open file descriptors", [("process_open_fds{job=~\"enforcement-.*\"}", "{{instance}}")], width=8),
            Panel("Outcomes written per transaction (p50, p95)", [
                (f"histogram_quantile({q}, sum by (le) (rate(enforcement_dispatcher_flush_batch_size_bucket[{RATE}])))",
                 f"p{int(q * 100)}") for q in (0.5, 0.95)
            ], width=8),
            Panel("Gauge refresh failures and age", [
                (f"sum(rate(enforcement_gauge_refresh_failures_total[{RATE}]))", "failures/s"),
                ("time() - max(enforcement_gauge_refresh_last_success_timestamp_seconds)", "seconds since refresh"),
            ], width=12),
            Panel("Audit chain", [
                ("max(enforcement_audit_chain_broken)", "broken (1)"),
                ("time() - max(enforcement_audit_chain_last_verified_timestamp_seconds)", "seconds since verified"),
                ("max(enforcement_audit_unchained_oldest_age_seconds)", "oldest record waiting to be chained (s)"),
                (f"sum(rate(enforcement_audit_records_total[{RATE}]))", "records/s"),
            ], width=12),
        ]),
    ]
    return dashboard(
        "enforcement-operations",
        "执行查控 · Operations",
        "Searches, agency calls, the durable queue, deferred answers, API and processes of the enforcement "
        "property-search service. Alerts: ops/prometheus/alerts.yml; runbook: ops/runbook.md.",
        rows,
        [datasource_variable(),
         query_variable("agency", "Agency", "label_values(enforcement_agency_calls_total, agency)")],
        tags=["enforcement", "operations"],
        refresh="30s",
        time_from="now-6h",
    )


# -- indicators ------------------------------------------------------------------------------

C = 'court=~"$court"'
# (code, title, national target or None); definitions and targets: DOMAIN.md section 5, docs/indicators.md.
CORE = [
    ("statutory_closure_rate", "有财产可供执行案件法定期限内实际执结率", 0.9),
    ("zhongben_compliance_rate", "无财产可供执行案件终本合格率", 0.9),
    ("petition_closure_rate", "执行信访案件办结率", 0.9),
    ("overall_closure_rate", "近三年执行案件整体执结率", 0.8),
]
# Only indicators enabled by default are exported (enforcement_indicator_value); the disabled
# overall_closure_rate_alt is left out (tests/ops/test_dashboards.py checks each code).
OTHER_RATES = [
    ("recovery_rate", "执行到位率"),
    ("actual_enforcement_rate", "实际执行率"),
    ("full_enforcement_rate", "执行完毕率"),
    ("zhongben_rate", "终本率"),
    ("requery_on_time_rate", "终本案件按期复查率"),
]


def indicator(code: str, by: str = "court") -> str:
    return f'max by ({by}) (enforcement_indicator_value{{indicator="{code}",{C}}})'


def indicators() -> dict[str, Any]:
    rows = [
        Row("四项核心指标 · The four core indicators (year to date)", [
            Panel(title, [(indicator(code), "{{court}}")], kind="stat", unit="percentunit", width=6, height=6,
                  decimals=2, min=0, max=1, base_color="red", thresholds=[(target, "green")],
                  description=f"Target {target:.0%} or more. Red below the target.")
            for code, title, target in CORE
        ]),
        Row("Core indicators over time", [
            Panel(title, [(indicator(code), "{{court}}")], unit="percentunit", width=12, min=0, max=1,
                  base_color="red", thresholds=[(target, "green")])
            for code, title, target in CORE
        ]),
        Row("Other indicators", [
            *(Panel(title, [(indicator(code), "{{court}}")], unit="percentunit", width=8, min=0, max=1)
              for code, title in OTHER_RATES),
            Panel("平均结案用时 · average days to close", [(indicator("avg_days_to_close"), "{{court}}")],
                  unit="d", width=8),
        ]),
        Row("终本复查 · Re-queries of closed-without-property debtors", [
            Panel("Re-query rounds due and in flight", [
                ('max(enforcement_requery_backlog{state="due"})', "due, not started"),
                ('max(enforcement_requery_backlog{state="in_flight"})', "searching"),
            ], width=8),
            Panel("Re-query rounds by outcome (per hour)", [
                ("sum by (outcome) (increase(enforcement_requery_rounds_total[1h]))", "{{outcome}}"),
            ], width=8),
            Panel("Alerts raised for judges (per hour)", [
                ("sum by (kind) (increase(enforcement_alerts_raised_total[1h]))", "{{kind}}"),
            ], width=8),
        ]),
        Row("Freshness", [
            Panel("Indicator refresh duration (p95)", [
                (f"histogram_quantile(0.95, sum by (le) (rate(enforcement_indicator_refresh_duration_seconds_bucket"
                 f"[{RATE}])))", "p95"),
            ], unit="s", width=12,
                description="Indicators are recomputed every INDICATOR_REFRESH_SECONDS by the workers."),
            Panel("Searches accepted per hour, by purpose", [
                ("sum by (purpose_kind) (increase(enforcement_searches_created_total[1h]))", "{{purpose_kind}}"),
            ], width=12, stack=True),
        ]),
    ]
    return dashboard(
        "enforcement-indicators",
        "执行查控 · 执行指标 Enforcement indicators",
        "Court-level enforcement indicators (执行四项核心指标 and others), year to date, as the service computes "
        "them (default definitions: DOMAIN.md section 5; drill-down to judge and case in the web workbench).",
        rows,
        [datasource_variable(),
         query_variable("court", "Court", "label_values(enforcement_indicator_value, court)")],
        tags=["enforcement", "indicators"],
        refresh="5m",
        time_from="now-30d",
    )


DASHBOARDS = {"operations.json": operations, "indicators.json": indicators}


def render(name: str) -> str:
    return json.dumps(DASHBOARDS[name](), ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if a JSON file differs from the script")
    args = parser.parse_args(argv)
    stale = []
    for name in DASHBOARDS:
        path = HERE / name
        text = render(name)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run python ops/grafana/build_dashboards.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
