"""Every agency keeps its simulator's fake data in a module of one name, ``simdata.py``: in
``connectors/<agency>/``, in the example plug-in, and in what the scaffold writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.sdk.scaffold import ScaffoldOptions, render

ROOT = Path(__file__).resolve().parents[3]
AGENCIES = sorted(p.parent for p in (ROOT / "connectors").glob("*/manifest.json"))
PACKAGES = [*AGENCIES, ROOT / "examples" / "real_estate" / "real_estate_connector"]
# The names the fake data went by before it had one.
OLD_NAMES = ("population.py", "catalog.py", "registry_data.py")


def test_every_agency_is_seen() -> None:
    assert {p.name for p in AGENCIES} >= {"banks", "exit_entry", "hotels", "securities", "social_insurance", "vehicles"}


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_the_fake_data_is_in_simdata(package: Path) -> None:
    assert (package / "simdata.py").is_file()
    assert not [name for name in OLD_NAMES if (package / name).exists()]
    simulator = (package / "simulator.py").read_text(encoding="utf-8")
    assert f"{package.name}.simdata import" in simulator, "the simulator takes its data from simdata"


def test_the_scaffold_writes_simdata() -> None:
    files = render(ScaffoldOptions(name="probe"))
    assert "probe_connector/simdata.py" in files
    assert "from probe_connector.simdata import" in files["probe_connector/simulator.py"]
