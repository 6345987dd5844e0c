"""A judge in real Chromium: sign in, filter the case list, open a case, press 全网查询 and watch
every agency arrive over the events stream, read the dossier; and never see another judge's case."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import expect

from enforcement.seeds import CASES
from tests.browser.conftest import save_screenshot, screenshot_dir
from tests.browser.history import (
    DOSSIER_CASE,
    DOSSIER_DEBTOR,
    FIRST_SEARCH_TO,
    breaching_stays,
    push_dossier_case,
)

pytestmark = pytest.mark.browser

# The five agencies of the mission; a plug-in connector installed alongside (say, real estate)
# is asked too, so the tests compare with what the service says it asked.
BUILT_IN = {"banks", "exit_entry", "hotels", "securities", "social_insurance", "vehicles"}
ZHANGWEI_CASES = [c[0] for c in CASES if c[2] == "zhangwei"]
FIRST = CASES[0]  # zhangwei's case with a debtor who owns accounts, a car, jobs and hotel stays

# Records each agency's sequence of states as the page shows them (no reload in between).
WATCH_STATES = """() => {
  window.__marker = 'same-page';
  window.__states = {};
  const record = () => {
    for (const li of document.querySelectorAll('#live-search li.agency')) {
      const seen = (window.__states[li.dataset.agency] ||= []);
      if (seen[seen.length - 1] !== li.dataset.state) seen.push(li.dataset.state);
    }
  };
  new MutationObserver(record).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


async def test_judge_signs_in_filters_cases_and_sees_only_their_own(make_workbench: Any) -> None:
    wb = await make_workbench()
    page = await wb.page()
    await wb.sign_in(page, "zhangwei")
    await page.wait_for_selector("table.cases-table tbody tr")
    assert page.url.endswith("/ui/cases")
    numbers = await page.locator("table.cases-table tbody th a").all_inner_texts()
    assert sorted(numbers) == sorted(ZHANGWEI_CASES)
    assert "张伟" in await page.inner_text("#whoami")

    # Overdue against the statutory period: only the case filed 210 days ago.
    await page.check("#f-overdue")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_url(re.compile(r"overdue=true"))
    await expect(page.locator("table.cases-table tbody tr")).to_have_count(1)
    only = await page.locator("table.cases-table tbody th a").all_inner_texts()
    assert only == ["（2025）辽0102执4420号"]
    assert await page.locator("[data-overdue]").count() == 1

    # Filing date range: the cases filed within the last 50 days (one).
    await page.click("form.filters button[type=reset]")
    await page.wait_for_url(re.compile(r"/ui/cases$"))
    filed = next(c for c in CASES if c[0] == FIRST[0])
    assert filed[6] == 40
    since = (date.today() - timedelta(days=50)).isoformat()
    await page.fill("#f-from", since)
    await page.click("form.filters button[type=submit]")
    await expect(page.locator("table.cases-table tbody tr")).to_have_count(1)
    assert await page.locator("table.cases-table tbody th a").all_inner_texts() == [FIRST[0]]
    assert wb.js_errors == []


async def test_search_fills_the_dossier_live_agency_by_agency(make_workbench: Any, tmp_path: Path) -> None:
    wb = await make_workbench()
    page = await wb.page()
    await wb.sign_in(page, "zhangwei")
    case_id = await wb.case_id(FIRST[0])
    await page.click(f"table.cases-table a[href='/ui/cases/{case_id}']")
    await page.wait_for_selector(".case-page [data-search-debtor]")
    facts = await page.inner_text(".facts")
    assert "¥386,500.00" in facts and FIRST[3] in facts
    assert await page.locator("#live-search").count() == 1
    assert await page.locator("section:has(#live-search)").is_hidden()

    await page.evaluate(WATCH_STATES)
    await page.click("[data-search-debtor]")
    await page.wait_for_selector("#live-search li.agency")
    await page.wait_for_selector("#live-search[data-search-status=completed]", timeout=30_000)

    search_id = re.search(r"search=([0-9a-f-]{36})", page.url)
    assert search_id, page.url
    status, view = await wb.api.request("GET", f"/api/v1/searches/{search_id.group(1)}", login="zhangwei")
    assert status == 200 and view["status"] == "completed"
    asked = sorted(a["agency"] for a in view["agencies"])
    assert set(asked) >= BUILT_IN
    states: dict[str, list[str]] = await page.evaluate("window.__states")
    assert sorted(states) == asked, states
    for agency, seen in states.items():
        assert seen[-1] == "answered", (agency, seen)
        assert seen[0] in ("waiting", "asked"), (agency, seen)  # it arrived while we watched
    assert "asked" in states["banks"], states["banks"]  # the bank's deferred answer was awaited
    assert await page.evaluate("window.__marker") == "same-page"  # no reload happened
    log = await page.locator(".activity-log li[data-state=answered]").evaluate_all(
        "items => items.map(li => li.dataset.agency)")
    assert sorted(set(log)) == asked

    # The dossier shows exactly what the API says, kind by kind, with totals and provenance.
    for kind, entries in view["dossier"]["sections"].items():
        rows = page.locator(f".dossier-section[data-kind={kind}] tbody tr[data-key]")
        assert await rows.count() == len(entries), kind
        keys = await rows.evaluate_all("rows => rows.map(r => r.dataset.key)")
        assert sorted(keys) == sorted(e["natural_key"] for e in entries)
    accounts = view["dossier"]["sections"]["bank_account"]
    first = accounts[0]["data"]
    bank_text = await page.inner_text(".dossier-section[data-kind=bank_account]")
    assert first["account_number"] in bank_text
    for cur, totals in view["dossier"]["totals"]["bank_account"]["by_currency"].items():
        shown = await page.inner_text(f"[data-total='balance-{cur}']")
        integer, cents = totals["balance"].split(".")
        assert shown.endswith(f"{int(integer):,}.{cents}"), (shown, totals)
    # Provenance: which agency said so (short name; the full one in the title).
    provenance = page.locator(".dossier-section[data-kind=bank_account] .prov-agency").first
    assert await provenance.inner_text() == "银行"
    assert await provenance.get_attribute("title") == "银行存款查询"
    hotels = await page.inner_text(".dossier-section[data-kind=hotel_stay]")
    assert "星级" in hotels
    # Empty answers are answers: the agencies that found nothing are named.
    empty = [a for a in view["agencies"] if a["record_count"] == 0]
    if empty:
        assert a_name(empty[0]) in await page.inner_text("[data-empty-answers]")
    # The search is listed in the case's searches, completed.
    await page.wait_for_selector(f"tr[data-search-id='{search_id.group(1)}']")

    await page.set_viewport_size({"width": 800, "height": 1000})
    await page.wait_for_timeout(200)
    narrow = await page.evaluate("document.documentElement.scrollWidth")
    assert narrow <= 800, f"the page scrolls sideways at 800px ({narrow}px)"
    assert wb.js_errors == []


async def test_case_page_shows_breach_new_findings_checklist_and_alerts(make_workbench: Any,
                                                                        tmp_path: Path) -> None:
    """The case of a debtor under a consumption restriction: an earlier, narrower search, then a
    fresh one finds more (highlighted as new), including a five-star hotel stay after the order."""
    wb = await make_workbench()
    await push_dossier_case(wb.api)
    case_id = await wb.case_id(DOSSIER_CASE)
    status, first = await wb.api.request("POST", "/api/v1/searches", login="zhangwei", json={
        "case_id": case_id, "subject": DOSSIER_DEBTOR, "date_to": FIRST_SEARCH_TO.isoformat()})
    assert status == 202, first
    await wb.api.wait_search(first["id"], "zhangwei")

    page = await wb.page()
    await wb.sign_in(page, "zhangwei")
    await page.goto(f"{wb.base}/ui/cases/{case_id}")
    await page.wait_for_selector("#live-search[data-search-status=completed]")  # the earlier search
    assert await page.locator("[data-flag=consumption_breach]").count() == 0
    await page.check("#force-fresh")
    await page.click("[data-search-debtor]")
    await page.wait_for_url(re.compile(r"search=(?!" + first["id"] + ")"))
    second = re.search(r"search=([0-9a-f-]{36})", page.url)
    assert second
    await page.wait_for_selector(f"#live-search[data-search-id='{second.group(1)}'][data-search-status=completed]",
                                 timeout=30_000)

    # New since the earlier search: the later hotel stays, highlighted.
    breach = breaching_stays()[0]
    new_stays = page.locator(".dossier-section[data-kind=hotel_stay] tbody tr.is-new")
    assert await new_stays.count() >= 1
    hotel_text = await page.inner_text(".dossier-section[data-kind=hotel_stay]")
    assert breach["hotel_name"] in hotel_text
    # The breach stands out on the stay itself and above the dossier.
    flagged = page.locator(".dossier-section[data-kind=hotel_stay] tr.is-flagged")
    await expect(flagged).to_have_count(len(breaching_stays()))
    assert breach["hotel_name"] in await flagged.first.inner_text()
    assert "限制消费令" in await flagged.first.inner_text()
    assert await page.locator(".dossier .alerts [data-alert=consumption_breach]").count() >= 1
    # The service's own alert for the case appears at the top of the case page.
    await expect(page.locator(".alerts-box [data-alert=consumption_breach]").first).to_be_visible(timeout=15_000)
    # A frozen account shows its freezes, in order, with amounts in yuan.
    freezes = page.locator(".dossier-section[data-kind=bank_account] ol.freezes li")
    assert await freezes.count() >= 1
    assert "¥" in await freezes.first.inner_text()

    # The 终本 checklist: restriction and listing met with their events; the network searches
    # for deposits, vehicles and securities (中国结算, issue 16) met by this search, each with the
    # search as its evidence (a met condition is shown folded: its text is there, not expanded).
    checklist = page.locator(".checklist")
    await expect(checklist).to_have_attribute("data-ready", "false")
    assert await page.get_attribute("[data-condition=restriction_and_listing]", "data-met") == "true"
    deposits = page.locator("[data-requirement=network_search_deposits]")
    assert await deposits.get_attribute("data-met") == "true"
    assert "查看" in (await deposits.text_content() or "")
    assert await page.get_attribute("[data-requirement=network_search_securities]", "data-met") == "true"
    assert "发布限制消费令" in (await page.text_content("[data-requirement=consumption_restriction]") or "")
    assert "发布限制消费令" in await page.inner_text("ol.timeline")

    shots = screenshot_dir(tmp_path)
    await page.evaluate("window.scrollTo(0, 0)")
    await save_screenshot(page, shots / "case-dossier.png")
    await page.set_viewport_size({"width": 800, "height": 1000})
    await page.wait_for_timeout(200)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 800
    await save_screenshot(page, shots / "case-dossier-800.png")
    assert wb.js_errors == []


def a_name(agency: dict[str, Any]) -> str:
    return str(agency["name"]["zh"])


async def test_a_second_search_reuses_fresh_answers_and_says_from_when(make_workbench: Any) -> None:
    wb = await make_workbench()
    case_id = await wb.case_id(FIRST[0])
    debtor = FIRST[-1][0]
    body = {"case_id": case_id, "subject": {"kind": debtor.kind, "id_number": debtor.id_number, "name": debtor.name}}
    status, first = await wb.api.request("POST", "/api/v1/searches", login="zhangwei", json=body)
    assert status == 202
    await wb.api.wait_search(first["id"], "zhangwei")

    page = await wb.page()
    await wb.sign_in(page, "zhangwei")
    await page.goto(f"{wb.base}/ui/cases/{case_id}")
    # The latest search opens by itself, completed.
    await page.wait_for_selector("#live-search[data-search-status=completed]")
    await page.click("[data-search-debtor]")
    agencies = len(first["agencies"])
    await expect(page.locator("#live-search li.agency[data-state=reused]")).to_have_count(agencies)
    text = await page.inner_text("#live-search .agencies")
    assert text.count("复用") == agencies and "的答复" in text
    await page.wait_for_selector("#live-search[data-search-status=completed]")
    assert await page.locator(".dossier-section tbody tr").count() > 0
    assert await page.locator("tr[data-search-id]").count() == 2
    assert wb.js_errors == []


async def test_a_judge_cannot_open_another_judges_case(make_workbench: Any) -> None:
    wb = await make_workbench()
    page = await wb.page()
    await wb.sign_in(page, "lina")
    await page.wait_for_selector("table.cases-table tbody tr")
    listed = await page.locator("table.cases-table tbody th a").all_inner_texts()
    assert listed == ["（2026）辽0102执1410号"]
    others = await wb.case_id(FIRST[0])
    await page.goto(f"{wb.base}/ui/cases/{others}")
    error = page.locator("[data-error-code]")
    await error.wait_for()
    assert await error.get_attribute("data-error-code") == "not_case_judge"
    assert "未分配给您" in await error.inner_text()
    content = await page.content()
    debtor = FIRST[-1][0]
    assert debtor.name not in content and debtor.id_number not in content and FIRST[3] not in content
    assert await page.locator("[data-search-debtor]").count() == 0
    # A search id of that case, guessed, shows nothing either.
    zw_case = FIRST[-1][0]
    status, accepted = await wb.api.request("POST", "/api/v1/searches", login="zhangwei", json={
        "case_id": others, "subject": {"kind": zw_case.kind, "id_number": zw_case.id_number, "name": zw_case.name}})
    assert status == 202
    own = await wb.case_id("（2026）辽0102执1410号")
    await page.goto(f"{wb.base}/ui/cases/{own}?search={accepted['id']}")
    await page.wait_for_selector(".banner-error")
    assert "未分配给您" in await page.inner_text(".banner-error")
    assert debtor.name not in await page.content()

    # A supervisor of another court is refused the same way.
    await page.click("#sign-out")
    await wb.sign_in(page, "liuyang")
    await page.goto(f"{wb.base}/ui/cases/{others}")
    error = page.locator("[data-error-code]")
    await error.wait_for()
    assert await error.get_attribute("data-error-code") == "other_court"
    assert debtor.name not in await page.content()
    assert wb.js_errors == []


async def test_an_agency_that_fails_says_so_and_the_others_still_answer(make_workbench: Any) -> None:
    wb = await make_workbench()
    # The traffic police refuse our credentials.
    config_url = f"{wb.simulators['vehicles'].url}/_sim/config"
    async with aiohttp.ClientSession() as session, session.post(config_url, json={"p_unauthorized": 1.0}) as resp:
        assert resp.status == 200
    page = await wb.page()
    await wb.sign_in(page, "zhangwei")
    case_id = await wb.case_id(FIRST[0])
    await page.goto(f"{wb.base}/ui/cases/{case_id}")
    await page.click("[data-search-debtor]")
    await page.wait_for_selector("#live-search[data-search-status=completed]", timeout=30_000)
    failed = page.locator("#live-search li.agency[data-agency=vehicles]")
    assert await failed.get_attribute("data-state") == "failed"
    text = await failed.inner_text()
    assert "查询失败" in text and "身份认证失败" in text  # the agency's own reason, in plain words
    others = page.locator("#live-search li.agency:not([data-agency=vehicles])")
    assert set(await others.evaluate_all("items => items.map(li => li.dataset.state)")) == {"answered"}
    assert await page.locator(".dossier-section[data-kind=vehicle]").count() == 0
    assert await page.locator(".dossier-section[data-kind=bank_account]").count() == 1
    assert wb.js_errors == []


async def test_a_case_closed_other_than_as_zhongben_shows_how_it_closed_not_a_checklist(
        make_workbench: Any) -> None:
    """Issue 16: a case closed as 执行完毕 is not a 终本 candidate: no red "不能终本" checklist,
    the closure instead; a case closed as 终本 keeps its checklist."""
    wb = await make_workbench()
    done_id, zb_id = await wb.case_id(CASES[0][0]), await wb.case_id(CASES[1][0])
    today = date.today()
    status, body = await wb.api.request("POST", f"/api/v1/cases/{done_id}/events", login="zhangwei", json={
        "type": "closed", "occurred_on": today.isoformat(), "data": {"mode": "执行完毕"}})
    assert status == 201, body
    page = await wb.page()
    await wb.sign_in(page, "zhangwei")
    await page.goto(f"{wb.base}/ui/cases/{done_id}")
    closure = page.locator(".closure-summary")
    await expect(closure).to_have_attribute("data-closure-mode", "执行完毕")
    assert today.isoformat() in (await closure.get_attribute("data-closed-on") or "")
    assert await page.locator(".checklist").count() == 0
    assert "不能终本" not in await page.inner_text("main")
    assert "执行完毕" in await closure.inner_text()

    # an open case still shows its checklist (the law's default: no on-site inquiry needed)
    await page.goto(f"{wb.base}/ui/cases/{zb_id}")
    await expect(page.locator(".checklist")).to_have_attribute("data-ready", "false")
    assert await page.locator(".closure-summary").count() == 0
    assert await page.get_attribute("[data-requirement=onsite_inquiry]", "data-basis") == "law"
    assert await page.get_attribute("[data-requirement=applicant_leads_checked]", "data-met") == "true"


async def test_case_page_lists_responsible_persons_and_records_the_applicant_notice(make_workbench: Any) -> None:
    """Issue 16: an organization debtor's legal representative under the debtor, his breach check;
    the notice to the applicant drafted from the searches, recorded as sent, read by condition 6."""
    from enforcement.domain.identifiers import make_credit_code

    wb = await make_workbench()
    rep = FIRST[-1][0]
    company = {"kind": "organization", "id_number": make_credit_code("9", "1", "210102", "MA0YQ7N3"),
               "name": "沈阳某贸易有限公司",
               "responsible_persons": [{"name": rep.name, "id_number": rep.id_number, "role": "法定代表人"}]}
    status, pushed = await wb.api.request("POST", "/api/v1/cases", login="cms-0102", role="case_system", json={
        "case_number": "（2019）辽0102执90号", "court_code": "辽0102",
        "judge": {"login": "zhangwei", "name": "张伟", "officer_id": "2101020031"},
        "applicant": {"kind": "organization", "id_number": make_credit_code("9", "1", "210102", "MA0Y8R2K"),
                      "name": "沈阳银信小额贷款有限公司"},
        "debtors": [company], "cause": "买卖合同纠纷", "amount_to_enforce": "80000.00", "filed_on": "2019-01-07"})
    assert status == 201, pushed
    case_id = pushed["case"]["id"]
    status, _ = await wb.api.request("POST", f"/api/v1/cases/{case_id}/events", login="zhangwei", json={
        "type": "consumption_restriction_issued", "occurred_on": "2019-06-01"})
    assert status == 201

    page = await wb.page()
    await wb.sign_in(page, "zhangwei")
    await page.goto(f"{wb.base}/ui/cases/{case_id}")
    row = page.locator(f"tr[data-responsible-of='{company['id_number']}']")
    await expect(row).to_contain_text(f"{rep.name}（法定代表人）")
    await page.click("[data-breach-check]")
    await expect(row).to_contain_text("已发起 1 项限制消费核查")

    await page.click("[data-draft-notice=zhongben]")
    draft = page.locator("#notice-text")
    await expect(draft).to_be_visible()
    text = await draft.input_value()
    assert text.startswith("申请执行人沈阳银信小额贷款有限公司：") and "（2019）辽0102执90号" in text
    assert "可以随时向本院提供财产线索" in text
    await page.select_option("#notice-channel", "当面")
    await page.check("#notice-heard")
    await page.click("[data-record-notice=zhongben]")
    await expect(page.locator("#notices [role=status]")).to_have_text("已记录告知")
    await expect(page.locator("#notices .notices-list li")).to_contain_text("当面")
    await expect(page.locator("[data-requirement=applicant_heard]")).to_have_attribute("data-met", "true")
    assert wb.js_errors == []
