"""A missing system program skips its tests locally with one line saying how to install it, and
fails them in CI (tests/system_tools.py): checked on the promtool tests, run in a child pytest
with promtool hidden."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.system_tools import PROMTOOL, Tool, find, require

ROOT = Path(__file__).resolve().parents[2]


def child_pytest(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "CI"}
    environ.update(env)
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environ.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider", "tests/ops/test_alert_rules.py"],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120, check=False,
    )


def test_without_promtool_the_promtool_tests_skip_locally_with_one_line_on_how_to_install() -> None:
    result = child_pytest(PROMTOOL="/nonexistent/promtool")
    assert result.returncode == 0, result.stdout + result.stderr
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, result.stdout  # the three promtool tests, folded into one line
    assert skipped[0].startswith("SKIPPED [3] tests/system_tools.py: promtool is not installed"), skipped
    assert "promtool is not installed" in skipped[0] and "apt-get install prometheus" in skipped[0], skipped
    assert " 3 skipped" in result.stdout and "failed" not in result.stdout


def test_without_promtool_the_promtool_tests_fail_in_ci() -> None:
    result = child_pytest(PROMTOOL="/nonexistent/promtool", CI="true")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "3 failed" in result.stdout, result.stdout
    assert "apt-get install prometheus" in result.stdout


def test_find_prefers_the_explicit_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    exe = tmp_path / "promtool"
    exe.write_text("#!/bin/sh\n")
    monkeypatch.setenv("PROMTOOL", str(exe))
    assert find(PROMTOOL) == str(exe)
    monkeypatch.setenv("PROMTOOL", str(tmp_path / "missing"))
    assert find(PROMTOOL) is None


def test_require_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    ghost = Tool("ghost-tool", ("enforcement-no-such-program",), "apt-get install ghost")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="ghost-tool is not installed; to run these tests: apt-get"):
        require(ghost)
    for value in ("false", "0", "no", ""):
        monkeypatch.setenv("CI", value)
        with pytest.raises(pytest.skip.Exception):
            require(ghost)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run these tests"):
        require(ghost)
