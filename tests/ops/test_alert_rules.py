"""The alert rules are valid, unit-tested with ``promtool test rules``, read only metrics the
service exports, and each links to its runbook section.

promtool comes with Debian's ``prometheus`` package (``.ci/run`` installs it). Without it the
promtool tests skip locally with one line saying how to install it, and fail in CI
(tests/system_tools.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ops.promql import metric_names, unknown_names
from tests.system_tools import PROMTOOL, require

OPS = Path(__file__).resolve().parents[2] / "ops"
PROMETHEUS = OPS / "prometheus"
RULES = PROMETHEUS / "alerts.yml"
RULE_TESTS = PROMETHEUS / "tests" / "alerts_test.yml"
RUNBOOK = OPS / "runbook.md"
METRICS_TOKEN_FILE = "/etc/prometheus/enforcement-metrics.token"


def promtool() -> str:
    return require(PROMTOOL)


def run(*args: str) -> str:
    result = subprocess.run([promtool(), *args], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"promtool {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in doc["groups"] for rule in group["rules"]]


def runbook_anchors() -> set[str]:
    anchors = set()
    for line in RUNBOOK.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def test_rules_pass_promtool_check() -> None:
    out = run("check", "rules", str(RULES))
    assert f"{len(rules())} rules found" in out


def test_rules_unit_tests_pass() -> None:
    out = run("test", "rules", str(RULE_TESTS))
    assert "SUCCESS" in out


def test_scrape_config_is_valid(tmp_path: Path) -> None:
    # promtool wants the credentials file to exist: check a copy that points at a stand-in.
    copy = tmp_path / "prometheus"
    shutil.copytree(PROMETHEUS, copy)
    token = tmp_path / "enforcement-metrics.token"
    token.write_text("m" * 40)
    config = (copy / "prometheus.yml").read_text(encoding="utf-8")
    assert METRICS_TOKEN_FILE in config
    (copy / "prometheus.yml").write_text(config.replace(METRICS_TOKEN_FILE, str(token)), encoding="utf-8")
    out = run("check", "config", str(copy / "prometheus.yml"))
    assert "SUCCESS" in out


@pytest.mark.parametrize("name", ["prometheus.yml", "prometheus-kubernetes.yml"])
def test_every_enforcement_scrape_sends_the_metrics_token(name: str) -> None:
    """/metrics is not public outside the demo: Prometheus presents METRICS_TOKEN."""
    doc = yaml.safe_load((PROMETHEUS / name).read_text(encoding="utf-8"))
    jobs = [job for job in doc["scrape_configs"] if job["job_name"].startswith("enforcement")]
    assert jobs
    for job in jobs:
        assert job["authorization"]["type"] == "Bearer", job["job_name"]
        assert job["authorization"]["credentials_file"], job["job_name"]


def test_kubernetes_scrape_config_keeps_the_job_names_the_rules_use() -> None:
    # Debian's promtool is built without Kubernetes discovery, so this file is checked by shape.
    doc = yaml.safe_load((PROMETHEUS / "prometheus-kubernetes.yml").read_text(encoding="utf-8"))
    assert doc["rule_files"] == ["alerts.yml"]
    [job] = doc["scrape_configs"]
    relabels = {r.get("target_label"): r for r in job["relabel_configs"]}
    assert relabels["job"]["replacement"] == "enforcement-$1"
    assert re.fullmatch(r"enforcement-\.\*", re.search(r'job=~"([^"]+)"', RULES.read_text()).group(1))  # type: ignore[union-attr]


def test_every_alert_has_severity_summary_runbook_and_a_firing_unit_test() -> None:
    anchors = runbook_anchors()
    tests = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
    firing = {case["alertname"] for t in tests for case in t["alert_rule_test"] if case.get("exp_alerts")}
    names = [r["alert"] for r in rules()]
    assert len(names) == len(set(names)), "two alerts share a name"
    for rule in rules():
        name = rule["alert"]
        assert rule["labels"]["severity"] in ("warning", "critical"), name
        assert rule["annotations"]["summary"], name
        url = rule["annotations"]["runbook_url"]
        assert url == f"ops/runbook.md#{name.lower()}", f"{name}: runbook_url {url}"
        assert name.lower() in anchors, f"{name}: no section in ops/runbook.md"
        assert name in firing, f"{name}: no unit test shows it firing"


def test_rules_read_only_exported_metrics() -> None:
    for rule in rules():
        assert metric_names(rule["expr"]), rule["alert"]
        assert not unknown_names(rule["expr"]), f"{rule['alert']} reads unknown metrics {unknown_names(rule['expr'])}"
