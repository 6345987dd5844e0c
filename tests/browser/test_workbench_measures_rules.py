"""Control measures in the workbench, what the server allows each user on each case (issue 17), in
real Chromium against the whole app and the agency simulators: a held deduction rejected by the
supervisor with a reason (/ui/measures) or withdrawn by the judge (the case page); a case closed
as 终本 offers renewal and release, never a new freeze; a case closed for good, only the release
its renewal-due alert calls for; a holding of securities frozen whole from the dossier.

The page offers exactly the case's ``permissions`` (GET /api/v1/cases/{id}/measures, from
domain/authorization.py ``measure_permissions``): these tests change the case underneath and
look at what the page offers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from enforcement.api.keys import POOL
from enforcement.measures.keys import MEASURE_CLOCK, MEASURE_EXPIRY
from enforcement.seeds import CASES
from tests.browser.conftest import save_screenshot, screenshot_dir
from tests.browser.test_workbench_measures import (
    JUDGE,
    SUPERVISOR,
    active_freeze,
    bank_holds,
    money_account,
    ruling,
    searched,
)

pytestmark = pytest.mark.browser


async def held_deduction(wb: Any, case_id: int, freeze: dict[str, Any], amount: str, n: int) -> dict[str, Any]:
    status, held = await wb.api.request("POST", f"/api/v1/cases/{case_id}/measures", login=JUDGE, json={
        "kind": "deduct", "measure_id": freeze["id"], "amount": amount,
        "ruling": ruling(wb.api.app[MEASURE_CLOCK].today(), n)})
    assert status == 202 and held["status"] == "awaiting_approval", held
    return dict(held)


async def measure(wb: Any, measure_id: int) -> dict[str, Any]:
    status, got = await wb.api.request("GET", f"/api/v1/measures/{measure_id}", login=JUDGE)
    assert status == 200, got
    return dict(got)


async def open_case(wb: Any, login: str, case_id: int) -> Any:
    page = await wb.page()
    await wb.sign_in(page, login)
    await page.goto(f"{wb.base}/ui/cases/{case_id}")
    await page.wait_for_selector("#live-search[data-search-status=completed]", timeout=30_000)
    await page.wait_for_selector("table.measures-table")
    return page


async def test_supervisor_rejects_a_held_deduction_and_the_judge_withdraws_another(
        make_workbench: Any, tmp_path: Path) -> None:
    wb = await make_workbench(measure_deduction_approval_yuan=Decimal("50.00"))
    case_id, view = await searched(wb)
    account = money_account(view)
    number = account["data"]["account_number"]
    freeze = await active_freeze(wb, case_id, account, "90.00")
    held = await held_deduction(wb, case_id, freeze, "70.00", 2)

    # The supervisor rejects it on the court's list: a reason first, then nothing reaches the bank.
    page = await wb.page()
    await wb.sign_in(page, SUPERVISOR)
    await page.goto(f"{wb.base}/ui/measures")
    waiting = page.locator(f"section[data-group=awaiting_approval] tr[data-measure-id='{held['id']}']")
    await waiting.locator(f"[data-reject='{held['id']}']").click()
    form = waiting.locator("form[data-reason-form=reject]")
    assert await page.evaluate("document.activeElement.name") == "reason"
    await form.locator("[data-submit-reason=reject]").click()
    await expect(form.locator("[data-form-error]")).to_have_text("请填写驳回理由")
    await form.locator("input[name=reason]").fill("扣划金额超过执行标的余额")
    await save_screenshot(page, screenshot_dir(tmp_path) / "measures-court-reject.png")
    await form.locator("[data-submit-reason=reject]").click()
    await expect(page.locator("#measures-status")).to_contain_text("已驳回")
    await expect(page.locator("section[data-group=awaiting_approval]")).to_contain_text("无待审批的扣划")
    rejected = await measure(wb, held["id"])
    assert rejected["status"] == "rejected" and rejected["task_status"] == "cancelled", rejected
    assert rejected["cancelled"]["by"] == SUPERVISOR and rejected["cancelled"]["reason"] == "扣划金额超过执行标的余额"
    assert await bank_holds(wb, number) == Decimal("90.00")  # nothing deducted

    # A second held deduction: the supervisor sees approve and reject on the case page, no withdraw;
    # the judge withdraws it there (no reason needed), and sees no approve or reject.
    second = await held_deduction(wb, case_id, freeze, "60.00", 3)
    sup = await open_case(wb, SUPERVISOR, case_id)
    row = sup.locator(f"table.measures-table tr[data-measure-id='{second['id']}']")
    await expect(row.locator(f"[data-reject='{second['id']}']")).to_have_text("驳回")
    await expect(row.locator(f"[data-approve='{second['id']}']")).to_have_text("批准扣划")
    assert await row.locator("[data-withdraw]").count() == 0
    assert await sup.locator("[data-measure-action], [data-control]").count() == 0
    rejected_row = sup.locator(f"tr[data-measure-id='{held['id']}']")
    await expect(rejected_row.locator("[data-measure-status=rejected]")).to_have_text("已驳回")
    await expect(sup.locator(f"tr[data-measure-id='{held['id']}'] [data-cancelled]")).to_contain_text(
        "扣划金额超过执行标的余额")

    judge = await open_case(wb, JUDGE, case_id)
    row = judge.locator(f"table.measures-table tr[data-measure-id='{second['id']}']")
    assert await row.locator("[data-approve], [data-reject]").count() == 0
    await row.locator(f"[data-withdraw='{second['id']}']").click()
    await row.locator("[data-submit-reason=withdraw]").click()
    await expect(row.locator("[data-measure-status=withdrawn]")).to_have_text("已撤回")
    assert (await measure(wb, second["id"]))["status"] == "withdrawn"
    control = judge.locator(f"table.measures-table tr[data-measure-id='{freeze['id']}']")
    await expect(control.locator("[data-measure-action]")).to_have_count(3)  # free to act again
    await judge.locator("section[aria-labelledby=measures-title]").screenshot(
        path=str(screenshot_dir(tmp_path) / "measures-case-withdrawn.png"))
    assert await bank_holds(wb, number) == Decimal("90.00")

    await judge.click("#lang-toggle")
    await expect(row.locator("[data-measure-status=withdrawn]")).to_have_text("withdrawn")
    await expect(judge.locator(f"tr[data-measure-id='{held['id']}'] [data-measure-status=rejected]")).to_have_text(
        "rejected")
    assert wb.js_errors == []


async def test_a_zhongben_case_offers_renewal_and_release_and_a_closed_one_the_release_its_alert_calls_for(
        make_workbench: Any, tmp_path: Path) -> None:
    wb = await make_workbench()
    pool, clock = wb.api.app[POOL], wb.api.app[MEASURE_CLOCK]
    case_id, view = await searched(wb)
    account = money_account(view)
    freeze = await active_freeze(wb, case_id, account, "80.00")
    await pool.execute("UPDATE enforcement_case SET status = 'closed', closure_mode = '终结本次执行程序', "
                       "closed_on = current_date WHERE id = $1", case_id)

    # 终本: the control is renewed or released; no new freeze or seal, no deduction (resume first).
    page = await open_case(wb, JUDGE, case_id)
    row = page.locator(f"table.measures-table tr[data-measure-id='{freeze['id']}']")
    await expect(row.locator("[data-measure-action]")).to_have_text(["续冻", "解除冻结"])
    assert "控制" in await page.inner_text(".dossier-section[data-kind=bank_account] thead")
    await expect(page.locator(".dossier [data-control-cell]").first).to_be_visible()
    assert await page.locator(".dossier [data-control]").count() == 0  # no 冻结, no 查封
    await expect(page.locator(f"[data-control-cell='{account['natural_key']}']")).to_contain_text("生效")
    await page.locator("section[aria-labelledby=measures-title]").screenshot(
        path=str(screenshot_dir(tmp_path) / "measures-zhongben-case.png"))
    await page.locator(".dossier-section[data-kind=bank_account]").screenshot(
        path=str(tmp_path / "measures-zhongben-dossier.png"))

    # Closed for good (执行完毕): the renewal-due alert calls for a release, and offers only that.
    await pool.execute("UPDATE enforcement_case SET closure_mode = '执行完毕' WHERE id = $1", case_id)
    clock.advance((date.fromisoformat(freeze["expires_on"]) - clock.today()).days - 10)
    assert (await wb.api.app[MEASURE_EXPIRY].tick())[0] == 1
    await page.reload()
    alert = page.locator("li[data-alert=measure_renewal_due]")
    await expect(alert.locator("strong").first).to_have_text("⚠ 控制措施应解除")
    await expect(alert).to_contain_text("应予解除")
    button = alert.locator(f"[data-alert-release='{freeze['id']}']")
    await expect(button).to_have_text("解除冻结")
    assert await alert.locator("[data-alert-renew]").count() == 0
    await expect(row.locator("[data-measure-action]")).to_have_text(["解除冻结"])
    await button.click()
    form = alert.locator("form[data-measure-form=release]")
    await form.locator("input[name=ruling_number]").fill(ruling(clock.today(), 2)["number"])
    await page.locator(".alerts-box").screenshot(path=str(screenshot_dir(tmp_path) / "measures-release-from-alert.png"))
    await form.locator("[data-submit-measure=release]").click()
    await expect(alert.locator("[data-release-submitted]")).to_contain_text("解除已提交")
    await expect(row.locator("[data-measure-status=released]")).to_have_text("已解除", timeout=20_000)
    assert await bank_holds(wb, account["data"]["account_number"]) == Decimal("0")
    assert wb.js_errors == []


async def test_a_holding_of_securities_is_frozen_whole_from_the_dossier(make_workbench: Any, tmp_path: Path) -> None:
    wb = await make_workbench()
    number, _court, judge, *_rest, debtors = CASES[1]  # its second debtor holds shares and real estate
    assert judge == JUDGE
    case_id = await wb.case_id(number)
    debtor = debtors[1]
    status, accepted = await wb.api.request("POST", "/api/v1/searches", login=JUDGE, json={
        "case_id": case_id, "subject": {"kind": debtor.kind, "id_number": debtor.id_number, "name": debtor.name}})
    assert status == 202, accepted
    view = await wb.api.wait_search(accepted["id"], JUDGE)
    holding = view["dossier"]["sections"]["securities_holding"][0]
    page = await wb.page()
    await wb.sign_in(page, JUDGE)
    await page.goto(f"{wb.base}/ui/cases/{case_id}?search={accepted['id']}")
    await page.wait_for_selector("#live-search[data-search-status=completed]", timeout=30_000)
    section = page.locator(".dossier-section[data-kind=securities_holding]")
    assert "控制" in await section.locator("thead").inner_text()
    if "real_estate" in view["dossier"]["sections"]:  # the plug-in installed: its units are sealed
        unit = view["dossier"]["sections"]["real_estate"][0]
        await expect(page.locator(f".dossier-section[data-kind=real_estate] [data-control='{unit['natural_key']}']")) \
            .to_have_text("查封")

    button = section.locator(f"[data-control='{holding['natural_key']}']")
    await expect(button).to_have_text("冻结")
    await button.click()
    form = page.locator("form[data-measure-form=freeze]")
    await form.wait_for()
    assert await form.locator("input[name=amount], input[name=whole_account]").count() == 0  # the whole holding
    await expect(section.locator("[data-whole-holding]")).to_contain_text("全部")
    await expect(section.locator(".control-form-title")).to_contain_text(holding["data"]["security_code"])
    await section.screenshot(path=str(screenshot_dir(tmp_path) / "measures-securities-freeze-form.png"))
    await form.locator("[data-submit-measure=freeze]").click()
    cell = section.locator(f"[data-control-cell='{holding['natural_key']}']")
    await expect(cell.locator("[data-measure-status=active]")).to_have_text("生效", timeout=20_000)
    await expect(cell).to_contain_text("冻结证券")
    table_row = page.locator("table.measures-table tr[data-kind=freeze]")
    await expect(table_row).to_contain_text("全部持有")
    await expect(table_row.locator("[data-measure-action]")).to_have_text(["续冻", "解除冻结"])  # no deduction
    await section.screenshot(path=str(tmp_path / "measures-securities-frozen.png"))
    status, listed = await wb.api.request("GET", f"/api/v1/cases/{case_id}/measures", login=JUDGE)
    assert status == 200 and [(m["asset_kind"], m["amount"], m["status"]) for m in listed["measures"]] == \
        [("securities_holding", None, "active")]
    assert wb.js_errors == []
