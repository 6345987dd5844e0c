"""``enforcement connectors new``: the generated package passes the conformance suite as created."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.sdk.conformance import run_suite
from connectors.sdk.errors import ConfigurationError
from connectors.sdk.protocol import ConnectorSpec
from connectors.sdk.scaffold import ScaffoldOptions, generate, render
from enforcement.cli import main

EXPECTED_FILES = {
    "pyproject.toml",
    "README.md",
    "securities_connector/__init__.py",
    "securities_connector/manifest.json",
    "securities_connector/records.py",
    "securities_connector/wire.py",
    "securities_connector/adapter.py",
    "securities_connector/simulator.py",
    "securities_connector/simdata.py",
    "securities_connector/schemas/records/securities_asset.schema.json",
    "tests/test_securities_conformance.py",
    "tests/test_securities_mapping.py",
}


@pytest.fixture
def importable(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path`` with the packages generated there (``securities``, ``land``) on the import path;
    the generated modules forgotten afterwards."""
    folders = [str(tmp_path / name) for name in ("securities", "land")]
    sys.path[:0] = folders
    try:
        yield tmp_path
    finally:
        for folder in folders:
            sys.path.remove(folder)
        for name in [m for m in sys.modules if m.split(".")[0] in ("securities_connector", "land_connector")]:
            del sys.modules[name]


def test_the_scaffold_renders_every_part_of_a_connector() -> None:
    files = render(ScaffoldOptions("securities", agency="中国证券登记结算有限责任公司", port=9107))
    assert set(files) == EXPECTED_FILES
    assert '"default_url": "http://127.0.0.1:9107"' in files["securities_connector/manifest.json"]
    assert 'securities = "securities_connector:CONNECTOR"' in files["pyproject.toml"]
    assert "$" not in files["securities_connector/adapter.py"]  # every placeholder filled


async def test_a_generated_connector_passes_the_suite_as_created(importable: Path) -> None:
    root = generate(ScaffoldOptions("securities", agency="中国证券登记结算有限责任公司"), importable)
    assert {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} == EXPECTED_FILES
    spec = importlib.import_module("securities_connector").CONNECTOR
    assert isinstance(spec, ConnectorSpec) and spec.name == "securities"
    report = await run_suite(spec)
    assert report.ok, report.format()
    assert sum(r.status == "passed" for r in report.results) == 18  # the three deferred rules n/a


def test_the_command_creates_the_package_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["connectors", "new", "securities", "--dir", str(tmp_path), "--agency", "中国结算"]) == 0
    out = capsys.readouterr().out
    assert f"created {tmp_path / 'securities'}" in out and "verify --path" in out
    assert (tmp_path / "securities" / "securities_connector" / "manifest.json").is_file()
    assert main(["connectors", "new", "securities", "--dir", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_a_bad_name_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="must match"):
        render(ScaffoldOptions("Real-Estate"))


async def test_a_connector_scaffolded_with_controls_passes_the_control_rules_as_created(
        importable: Path) -> None:
    assert main(["connectors", "new", "land", "--dir", str(importable), "--controls", "seal,renew,release"]) == 0
    root = importable / "land"
    assert (root / "land_connector" / "controls.py").is_file()
    manifest = json.loads((root / "land_connector" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["controls"] == {"operations": ["seal", "renew", "release"], "asset_kinds": ["land_asset"]}
    spec = importlib.import_module("land_connector").CONNECTOR
    report = await run_suite(spec)
    assert report.ok, report.format()
    passed = {r.rule.id for r in report.results if r.status == "passed"}
    assert {"controls.declared", "controls.idempotent"} <= passed, report.format()


def test_the_control_stub_is_written_only_when_asked_and_takes_what_it_can_make() -> None:
    assert "land_connector/controls.py" not in render(ScaffoldOptions("land"))
    plain = render(ScaffoldOptions("land"))["land_connector/adapter.py"]
    assert "control" not in plain and "$" not in plain
    for bad in (("seal",), ("seal", "freeze", "release"), ("deduct", "freeze", "release"), ("renew", "release")):
        with pytest.raises(ConfigurationError, match=r"controls|control operation"):
            render(ScaffoldOptions("land", controls=bad))
