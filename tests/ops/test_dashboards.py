"""The Grafana dashboards are well-formed, up to date with their builder, and every query names
only metrics the service exports (a renamed metric must not leave an empty panel behind)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml

from enforcement.kernel.queries import Q
from tests.ops.promql import label_values, metric_names, unknown_names

GRAFANA = Path(__file__).resolve().parents[2] / "ops" / "grafana"
ALERTS = GRAFANA.parent / "prometheus" / "alerts.yml"
DASHBOARDS = sorted(GRAFANA.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def test_the_operations_and_indicators_dashboards_exist() -> None:
    assert {"operations.json", "indicators.json"} <= {p.name for p in DASHBOARDS}


def test_dashboards_match_their_builder() -> None:
    result = subprocess.run(
        [sys.executable, str(GRAFANA / "build_dashboards.py"), "--check"], capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_is_well_formed(path: Path) -> None:
    d = load(path)
    assert d["uid"] and d["title"] and d["panels"]
    ids = [p["id"] for p in panels(d)]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in panels(d):
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
    names = {v["name"] for v in d["templating"]["list"]}
    assert "datasource" in names


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_query_names_exported_metrics(path: Path) -> None:
    d = load(path)
    count = 0
    for panel in panels(d):
        for target in panel.get("targets", []):
            expr = target["expr"]
            count += 1
            assert metric_names(expr), f"{panel['title']}: no metric in {expr}"
            assert not unknown_names(expr), f"{panel['title']}: unknown metrics {unknown_names(expr)} in {expr}"
    for variable in d["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            match = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", query)
            assert match, query
            assert not unknown_names(match.group(1)), query
    assert count >= 5


def test_the_name_check_catches_a_misspelt_metric() -> None:
    assert unknown_names('sum(rate(enforcement_agency_calls_totl{agency=~"$agency"}[$__rate_interval]))') == {
        "enforcement_agency_calls_totl"
    }


def every_query() -> list[tuple[str, str]]:
    """(where, expr) for every panel query of every dashboard and every alert rule."""
    out = []
    for path in DASHBOARDS:
        for panel in panels(load(path)):
            out.extend((f"{path.name}: {panel['title']}", t["expr"]) for t in panel.get("targets", []))
    for group in yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]:
        out.extend((f"alerts.yml: {r['alert']}", r["expr"]) for r in group["rules"])
    return out


async def test_every_indicator_a_query_names_is_exported(conn: asyncpg.Connection) -> None:
    """enforcement_indicator_value carries the indicators enabled in the registry only: a panel
    on a disabled one (overall_closure_rate_alt, registered but off) stays empty for ever."""
    exported = {r["code"] for r in await conn.fetch(Q.indicator_definitions) if r["enabled"]}
    assert "statutory_closure_rate" in exported
    named = 0
    for where, expr in every_query():
        if "enforcement_indicator_value" not in metric_names(expr):
            continue
        wanted = label_values(expr, "indicator")
        named += len(wanted)
        assert wanted <= exported, f"{where}: indicators {sorted(wanted - exported)} are never exported"
    assert named >= 8


def test_label_values_reads_equal_and_regex_matchers() -> None:
    assert label_values('x{indicator="a",court=~"$court"}', "indicator") == {"a"}
    assert label_values('x{indicator=~"a|b"} / y{indicator = "c"}', "indicator") == {"a", "b", "c"}
    assert label_values('x{court=~"$court"}', "court") == set()
