"""``enforcement connectors list | check | verify``: every connector with its version, mode, limits
and health; the conformance suite from the command line."""

from __future__ import annotations

import json

import pytest

from connectors.sdk.registry import Registry
from enforcement.cli import main


def test_list_shows_every_connector_with_version_mode_and_limits(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["connectors", "list", "--no-health", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(Registry.discover()) >= {"banks", "real_estate", "vehicles"}
    assert rows["banks"]["mode"] == "deferred, batches of up to 200 (wait 2s), signed callbacks"
    assert rows["vehicles"]["mode"] == "sync" and rows["vehicles"]["version"] == "1.0.0"
    assert rows["vehicles"]["limits"].startswith("timeout 5s, 16 in flight, 20/s, 4 attempts")
    assert rows["real_estate"]["package"] == "real_estate_connector"
    assert rows["real_estate"]["url"] == "http://127.0.0.1:9106"
    assert all(r["health"] is None for r in rows.values())


def test_list_in_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["connectors", "list", "real_estate", "--no-health"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("real_estate 1.0.0  不动产登记信息 / Real estate registrations")
    assert "  limits    timeout 8s, 8 in flight, 10/s, 4 attempts" in out and "health    not checked" in out


def test_check_against_the_simulators_reports_every_connector_healthy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["connectors", "check", "--simulators", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(Registry.discover())
    assert all(r["ok"] and r["detail"].startswith("check answered in") and r["latency_ms"] >= 0 for r in rows)


def test_check_prints_one_line_per_agency(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["connectors", "check", "--simulators"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = set(Registry.discover())
    assert len(lines) == 2 + len(names) + 1  # header, rule, one per agency, the summary
    for name in names:
        line = next(x for x in lines if x.startswith(name + " "))
        assert "正常 ok" in line and line.rstrip().endswith(" ms")
    assert lines[-1] == f"{len(names)}/{len(names)} 正常 ok"


def test_check_fails_clearly_when_an_agency_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGENCY_VEHICLES_URL", "http://127.0.0.1:9")
    assert main(["connectors", "check", "vehicles", "real_estate", "--timeout", "1"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    vehicles = next(x for x in lines if x.startswith("vehicles "))
    assert "异常 DOWN" in vehicles and "unreachable or unavailable: connection failed" in vehicles
    assert "正常 ok; 异常 down: " in lines[-1] and "vehicles" in lines[-1].split("down: ")[1]


def test_verify_runs_the_suite_over_an_installed_connector(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["connectors", "verify", "real_estate", "--rule", "manifest.valid", "--rule", "errors.auth"]) == 0
    out = capsys.readouterr().out
    assert "PASS  manifest.valid" in out and "PASS  errors.auth" in out and "2 passed, 0 failed" in out


def test_verify_rejects_a_broken_connector_with_the_rule_and_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["connectors", "verify", "--module", "tests.conformance.broken.errors_auth", "--rule", "errors.auth"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "FAIL  errors.auth" in out
    assert "rule errors.auth failed: check(): the AuthError message 'authentication failed' lost" in out
    assert "how to fix: map HTTP 401/403" in out


def test_verify_refuses_an_unknown_rule_or_connector(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["connectors", "verify", "vehicles", "--rule", "no.such.rule"]) == 2
    assert main(["connectors", "verify", "no_such_agency"]) == 2
    err = capsys.readouterr().err
    assert "no conformance rule named ['no.such.rule']" in err and "no connector named 'no_such_agency'" in err
