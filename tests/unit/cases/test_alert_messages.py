"""Alert messages read as a judge reads them: a controlled bank account by bank, number and
currency, not by its key; a release advice on a case closed for good."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from enforcement.cases.alerts import alert_view, asset_words
from enforcement.cases.store.alerts import Alert


def alert(kind: str, evidence: dict[str, Any]) -> Alert:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    return Alert(1, kind, 7, "（2026）辽0102执1号", "辽0102", "zhangwei", None, None, None, None, None,
                 date(2027, 1, 15), evidence, "open", now, now, None, None, "open", None)


def test_a_bank_account_key_reads_as_bank_number_and_currency() -> None:
    assert asset_words("中国工商银行:6212265243646243692:CNY") == "中国工商银行 6212265243646243692 CNY"
    assert asset_words("LFV2A21K6A3045123") == "LFV2A21K6A3045123"


def test_renewal_and_release_messages() -> None:
    renew = alert_view(alert("measure_renewal_due", {"asset": "中国工商银行:6212:CNY", "expires_on": "2027-01-15",
                                                     "renew_url": "/api/v1/measures/3:renew"}))
    assert renew["message"]["zh"] == "控制措施（中国工商银行 6212 CNY）将于2027-01-15到期，请及时续行"
    assert set(renew["actions"]) == {"renew"}
    release = alert_view(alert("measure_renewal_due", {"asset": "中国工商银行:6212:CNY", "expires_on": "2027-01-15",
                                                       "advice": "release",
                                                       "release_url": "/api/v1/measures/3:release"}))
    assert "应予解除" in release["message"]["zh"] and set(release["actions"]) == {"release"}
