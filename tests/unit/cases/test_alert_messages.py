"""Alert messages read as a judge reads them: a controlled bank account by bank, number and
currency, not by its key; a release advice on a case closed for good. A control's renewal or
release is offered only to whom ``measure_permissions`` allows it, once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from enforcement.cases.alerts import alert_view, asset_words
from enforcement.cases.store.alerts import Alert, FollowUp
from enforcement.domain.actors import Actor

JUDGE = Actor("zhangwei", "judge", "张伟", "辽0102", "J001")
OTHER_JUDGE = Actor("lina", "judge", "李娜", "辽0102", "J002")
SUPERVISOR = Actor("chenjing", "supervisor", "陈静", "辽0102")
TODAY = date(2027, 1, 5)
# As the expiry watch writes it: the control's id, and the act's url.
RENEW = {"measure_id": 3, "asset": "中国工商银行:6212:CNY", "expires_on": "2027-01-15",
         "renew_url": "/api/v1/measures/3:renew"}


def alert(kind: str, evidence: dict[str, Any], *, case_status: str = "open", closure_mode: str | None = None,
          follow_up: FollowUp | None = None) -> Alert:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    return Alert(1, kind, 7, "（2026）辽0102执1号", "辽0102", "zhangwei", None, None, None, None, None,
                 date(2027, 1, 15), evidence, "open", now, now, None, None, case_status, closure_mode, follow_up)


def test_a_bank_account_key_reads_as_bank_number_and_currency() -> None:
    assert asset_words("中国工商银行:6212265243646243692:CNY") == "中国工商银行 6212265243646243692 CNY"
    assert asset_words("LFV2A21K6A3045123") == "LFV2A21K6A3045123"


def test_renewal_and_release_messages() -> None:
    renew = alert_view(alert("measure_renewal_due", RENEW), JUDGE)
    assert renew["message"]["zh"] == "控制措施（中国工商银行 6212 CNY）将于2027-01-15到期，请及时续行"
    assert set(renew["actions"]) == {"renew"}
    release = alert_view(alert("measure_renewal_due", {"measure_id": 3, "asset": "中国工商银行:6212:CNY",
                                                       "expires_on": "2027-01-15", "advice": "release",
                                                       "release_url": "/api/v1/measures/3:release"},
                               case_status="closed", closure_mode="执行完毕"), JUDGE)
    assert "应予解除" in release["message"]["zh"] and set(release["actions"]) == {"release"}
    assert release["actions"]["release"]["href"] == "/api/v1/measures/3:release"


def test_a_renewal_is_offered_to_whom_may_renew_with_the_rulings_defaults() -> None:
    due = alert("measure_renewal_due", RENEW)
    action = alert_view(due, JUDGE, TODAY)["actions"]["renew"]
    assert action == {"method": "POST", "href": "/api/v1/measures/3:renew",
                      "body": {"ruling": {"number": "（2026）辽0102执1号", "ruled_on": "2027-01-05"}}}
    # A supervisor reads the alert, another judge does not hold the case, and nobody: no renewal offered.
    for actor in (SUPERVISOR, OTHER_JUDGE, None):
        view = alert_view(due, actor, TODAY)
        assert view["actions"] == {} and "将于2027-01-15到期" in view["message"]["zh"], actor
    # The case closed for good since the alert was raised: the domain refuses a renewal, so is none offered.
    assert alert_view(alert("measure_renewal_due", RENEW, case_status="closed", closure_mode="执行完毕"),
                      JUDGE, TODAY)["actions"] == {}
    # 终本 keeps the controls: renewed.
    assert set(alert_view(alert("measure_renewal_due", RENEW, case_status="closed", closure_mode="终结本次执行程序"),
                          JUDGE, TODAY)["actions"]) == {"renew"}


def test_a_renewal_submitted_answers_the_alert_and_a_refused_one_is_offered_again() -> None:
    notice = "（2027）辽0102执协12号"
    for status in ("pending", "done"):
        view = alert_view(alert("measure_renewal_due", RENEW, follow_up=FollowUp(9, "renew", status, notice)),
                          JUDGE, TODAY)
        assert view["actions"] == {}, status
        assert view["follow_up"] == {"id": 9, "kind": "renew", "status": status, "notice_number": notice}
    refused = alert_view(alert("measure_renewal_due", RENEW, follow_up=FollowUp(9, "renew", "refused", "N")),
                         JUDGE, TODAY)
    assert set(refused["actions"]) == {"renew"}
    assert alert_view(alert("measure_renewal_due", RENEW), JUDGE)["follow_up"] is None


OTHER_SUPERVISOR = Actor("liuyang", "supervisor", "刘洋", "辽0103")
ZHONGBEN = "终结本次执行程序"


def test_resume_and_delist_are_offered_to_whom_may_record_the_cases_events() -> None:
    """A 终本 case's new-property alert offers the resumption, a removal-due alert the delisting:
    each a case event, offered only to whom ``check_record_event`` (``case_permissions``'
    ``record_events``) allows: the case's judge and a supervisor of its court; not another judge,
    a supervisor of another court, nor nobody."""
    new_property = alert("new_property", {"assets": []}, case_status="closed", closure_mode=ZHONGBEN)
    removal = alert("dishonest_removal_due", {"empty_requeries_completed_on": ["2027-01-01"]},
                    case_status="closed", closure_mode=ZHONGBEN)
    for actor in (JUDGE, SUPERVISOR):
        assert alert_view(new_property, actor, TODAY)["actions"] == {"resume": {
            "method": "POST", "href": "/api/v1/cases/7/events", "body": {"type": "resumed"}}}, actor
        assert alert_view(removal, actor, TODAY)["actions"] == {"delist": {
            "method": "POST", "href": "/api/v1/cases/7/events", "body": {"type": "dishonest_delisted"}}}, actor
    for nobody in (OTHER_JUDGE, OTHER_SUPERVISOR, None):
        assert alert_view(new_property, nobody, TODAY)["actions"] == {}, nobody
        assert alert_view(removal, nobody, TODAY)["actions"] == {}, nobody
