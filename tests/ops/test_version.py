"""``enforcement --version``, and the same version and build in /healthz and in
``enforcement_build_info`` on /metrics."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from enforcement.cli import main
from enforcement.kernel import version as release


def test_version_flag_prints_version_and_build(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out == f"enforcement {release.version()} (build {release.build()})"
    assert re.fullmatch(r"enforcement \d+\.\d+\.\d+\S* \(build \S+\)", out), out


def test_build_is_the_variable_else_the_git_commit_else_unknown(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    release.build.cache_clear()
    try:
        monkeypatch.setenv("ENFORCEMENT_BUILD", "0123abcd")
        assert release.build() == "0123abcd"
        release.build.cache_clear()
        monkeypatch.delenv("ENFORCEMENT_BUILD")
        assert re.fullmatch(r"[0-9a-f]{12}|unknown", release.build())
        assert release._git_commit(tmp_path) is None  # not a checkout: the build is unknown
    finally:
        release.build.cache_clear()


async def test_healthz_and_metrics_name_the_version_and_build(make_api: Any) -> None:
    api = await make_api()
    status, body = await api.request("GET", "/healthz")
    assert status == 200
    assert body == {"status": "ok", "version": release.version(), "build": release.build()}
    status, text = await api.request("GET", "/metrics")
    assert status == 200
    [family] = [f for f in text_string_to_metric_families(text) if f.name == "enforcement_build_info"]
    [sample] = family.samples
    assert sample.labels == {"version": release.version(), "build": release.build()}
    assert sample.value == 1
