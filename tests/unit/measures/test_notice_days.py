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
