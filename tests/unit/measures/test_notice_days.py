"""The renewal notice days (issue 17): a court's own, else the deployment's; the deployment's
setting holds the range a court chooses in (1 to 90 days, decision 1704)."""

from __future__ import annotations

import pytest

from enforcement.kernel.settings import Settings
from enforcement.measures.service import MeasureConfig


def test_the_courts_own_days_else_the_deployments() -> None:
    config = MeasureConfig(renewal_notice_days=15)
    assert config.notice_days(None) == 15 and config.notice_days(30) == 30 and config.notice_days(1) == 1


def test_the_deployment_setting_is_checked() -> None:
    assert Settings.from_env({}).measure_renewal_notice_days == 15
    assert Settings.from_env({"MEASURE_RENEWAL_NOTICE_DAYS": "90"}).measure_renewal_notice_days == 90
    for bad in ("0", "91", "-1"):
        with pytest.raises(ValueError, match="MEASURE_RENEWAL_NOTICE_DAYS"):
            Settings.from_env({"MEASURE_RENEWAL_NOTICE_DAYS": bad})


def test_the_default_is_written_once_in_the_domain() -> None:
    """The notice default (15 days) is the domain's ``DEFAULT_RENEWAL_NOTICE_DAYS``; the settings,
    the measures' config and the closure checklist's rules take it from there: with the constant
    changed before they are imported, all of them follow (a fresh interpreter, so nothing here is
    reloaded)."""
    import subprocess
    import sys

    probe = (
        "import enforcement.domain.measures as m; m.DEFAULT_RENEWAL_NOTICE_DAYS = 21\n"
        "from enforcement.kernel.settings import Settings\n"
        "from enforcement.cases.lifecycle import LifecycleRules\n"
        "from enforcement.measures.service import MeasureConfig\n"
        "print(Settings().measure_renewal_notice_days, Settings.from_env({}).measure_renewal_notice_days,\n"
        "      LifecycleRules().measure_renewal_notice_days, MeasureConfig().renewal_notice_days)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["21"] * 4, out
