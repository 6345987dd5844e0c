"""Control measures in the workbench (issue 17), in real Chromium against the whole app and the
agency simulators: the judge freezes a bank account from the dossier in one action (the bank
simulator holds it), the case's measures with their expiries, a renewal submitted from the
renewal-due alert, and the supervisor's court-wide view of renewals due, lapses and deductions
awaiting approval, with the approval itself."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import expect

from enforcement.measures.keys import MEASURE_CLOCK, MEASURE_EXPIRY
from enforcement.seeds import CASES
from tests.browser.conftest import save_screenshot, screenshot_dir

pytestmark = pytest.mark.browser

FIRST = CASES[0]  # zhangwei's case (辽0102) whose debtor owns accounts, a car, ...
JUDGE, SUPERVISOR, OTHER_SUPERVISOR = "zhangwei", "chenjing", "liuyang"


async def searched(wb: Any) -> tuple[int, dict[str, Any]]:
    """The case and a completed search of its debtor (through the API, as the other browser tests)."""
    case_id = await wb.case_id(FIRST[0])
    debtor = FIRST[-1][0]
    status, accepted = await wb.api.request("POST", "/api/v1/searches", login=JUDGE, json={
        "case_id": case_id, "subject": {"kind": debtor.kind, "id_number": debtor.id_number, "name": debtor.name}})
    assert status == 202, accepted
    return case_id, await wb.api.wait_search(accepted["id"], JUDGE)


def money_accounts(view: dict[str, Any]) -> list[dict[str, Any]]:
    accounts = [e for e in view["dossier"]["sections"].get("bank_account", [])
                if Decimal(str(e["data"]["available_balance"])) > 100 and e["data"]["status"] != "销户"]
    assert accounts, view["dossier"]["sections"].keys()
    return accounts


def money_account(view: dict[str, Any]) -> dict[str, Any]:
    return money_accounts(view)[0]


async def bank_holds(wb: Any, number: str) -> Decimal:
    async with aiohttp.ClientSession() as s, s.get(f"{wb.simulators['banks'].url}/_sim/accounts/{number}") as r:
        assert r.status == 200, await r.text()
        return Decimal((await r.json())["Frozen"])


def ruling(on: date, n: int) -> dict[str, str]:
    return {"number": FIRST[0].replace("号", f"号之{'一二三四五六七八九'[n - 1]}"), "ruled_on": on.isoformat()}


async def active_freeze(wb: Any, case_id: int, account: dict[str, Any], amount: str) -> dict[str, Any]:
    clock = wb.api.app[MEASURE_CLOCK]
    status, body = await wb.api.request("POST", f"/api/v1/cases/{case_id}/measures", login=JUDGE, json={
        "kind": "freeze", "asset_kind": "bank_account", "natural_key": account["natural_key"], "amount": amount,
        "ruling": ruling(clock.today(), 1)})
    assert status == 202, body
    return await answered(wb, body["id"])


async def bank_controls(wb: Any) -> int:
    """The bank simulator's count of controls it applied (once per idempotency key)."""
    async with aiohttp.ClientSession() as s, s.get(f"{wb.simulators['banks'].url}/_sim/stats") as r:
        return int((await r.json())["effective_controls"])


async def answered(wb: Any, measure_id: int) -> dict[str, Any]:
    import asyncio

    async with asyncio.timeout(20):
        while True:
            status, got = await wb.api.request("GET", f"/api/v1/measures/{measure_id}", login=JUDGE)
            assert status == 200, got
            if got["status"] not in ("pending", "awaiting_approval"):
                return dict(got)
            await asyncio.sleep(0.1)


async def test_judge_freezes_a_bank_account_from_the_dossier(make_workbench: Any, tmp_path: Path) -> None:
    wb = await make_workbench()
    case_id, view = await searched(wb)
    account = money_account(view)
    number = account["data"]["account_number"]
    available = Decimal(str(account["data"]["available_balance"]))
    page = await wb.page()
    await wb.sign_in(page, JUDGE)
    await page.goto(f"{wb.base}/ui/cases/{case_id}")
    await page.wait_for_selector("#live-search[data-search-status=completed]", timeout=30_000)
    row = page.locator(f".dossier-section[data-kind=bank_account] tr[data-key='{account['natural_key']}']")
    assert "控制" in await page.inner_text(".dossier-section[data-kind=bank_account] thead")
    button = row.locator(f"[data-control='{account['natural_key']}']")
    await expect(button).to_have_text("冻结")
    await expect(page.locator("#measures")).to_contain_text("尚无控制措施")

    # One action: the form asks the ruling (number prefilled from the case, today's date) and the amount.
    await button.click()
    form = page.locator("form[data-measure-form=freeze]")
    await form.wait_for()
    assert await form.locator("input[name=ruling_number]").input_value() == FIRST[0]
    assert await form.locator("input[name=ruled_on]").input_value() == wb.api.app[MEASURE_CLOCK].today().isoformat()
    assert await page.evaluate("document.activeElement.name") == "ruling_number"  # the keyboard is in the form
    # More than the balance: the API's refusal, in Chinese, in the form; nothing reaches the bank.
    await form.locator("input[name=amount]").fill(str(available + 1))
    await form.locator("[data-submit-measure=freeze]").click()
    error = form.locator("[data-form-error]")
    await expect(error).to_contain_text("超过账户可用余额")
    assert "请求编号" in await error.inner_text()
    await page.locator(".dossier-section[data-kind=bank_account]").screenshot(
        path=str(screenshot_dir(tmp_path) / "measures-freeze-form-refused.png"))
    status, listed = await wb.api.request("GET", f"/api/v1/cases/{case_id}/measures", login=JUDGE)
    assert status == 200 and listed["measures"] == []
    amount = (available / 2).quantize(Decimal("0.01"))
    await form.locator("input[name=amount]").fill(f"{amount:,}")  # thousands separators are fine
    await form.locator("[data-submit-measure=freeze]").click()
    await expect(form).to_have_count(0)

    # The entry shows its control state once the bank answers; the case's measures list it.
    cell = row.locator(f"[data-control-cell='{account['natural_key']}']")
    await expect(cell.locator("[data-measure-status=active]")).to_have_text("生效", timeout=20_000)
    await expect(cell).to_contain_text(f"¥{amount:,}")
    assert await cell.locator("[data-control]").count() == 0  # no second freeze offered
    assert await bank_holds(wb, number) == amount  # it landed at the bank
    table_row = page.locator("table.measures-table tr[data-kind=freeze]")
    await expect(table_row).to_contain_text("冻结")
    text = await table_row.inner_text()
    assert number in text and "执协" in text and f"¥{amount:,}" in text and "剩余" in text

    # A vehicle is sealed the same way: the ruling only, no amount; Escape closes the form first.
    vehicle = view["dossier"]["sections"]["vehicle"][0]
    seal = page.locator(f"[data-control='{vehicle['natural_key']}']")
    await expect(seal).to_have_text("查封")
    # The form has the keyboard as soon as the click's handler is done, before any timer: Chromium reads
    # a key pressed at once before its timers, and that key must reach the form (Escape below).
    focused = await seal.evaluate(
        "async (b) => { b.click(); await Promise.resolve(); return document.activeElement.name; }")
    assert focused == "ruling_number"
    form = page.locator("form[data-measure-form=seal]")
    assert await form.locator("input[name=amount]").count() == 0
    await page.keyboard.press("Escape")
    await expect(form).to_have_count(0)
    assert await page.evaluate("document.activeElement.dataset.control") == vehicle["natural_key"]
    await page.keyboard.press("Enter")
    await form.locator("input[name=ruling_number]").fill(ruling(wb.api.app[MEASURE_CLOCK].today(), 2)["number"])
    await page.keyboard.press("Enter")  # submits
    sealed = page.locator(f"[data-control-cell='{vehicle['natural_key']}'] [data-measure-status=active]")
    await expect(sealed).to_be_visible(timeout=20_000)
    await expect(page.locator("table.measures-table tr[data-kind=seal]")).to_contain_text("查封")

    shots = tmp_path
    await save_screenshot(page, shots / "measures-freeze-from-dossier.png")
    panel = page.locator("section[aria-labelledby=measures-title]")
    await panel.screenshot(path=str(shots / "measures-case-panel.png"))
    await page.locator(".dossier-section[data-kind=bank_account]").screenshot(
        path=str(shots / "measures-dossier-accounts.png"))

    # The court's supervisor reads the same states and is offered no control action.
    sup = await wb.page()
    await wb.sign_in(sup, SUPERVISOR)
    await sup.goto(f"{wb.base}/ui/cases/{case_id}")
    await sup.wait_for_selector("#live-search[data-search-status=completed]", timeout=30_000)
    state = sup.locator(f"[data-control-cell='{account['natural_key']}'] [data-measure-status=active]")
    await expect(state).to_be_visible()
    assert await sup.locator("[data-control]").count() == 0
    assert await sup.locator("[data-measure-action]").count() == 0
    assert wb.js_errors == []


async def test_case_measures_show_expiry_and_a_renewal_from_the_alert(make_workbench: Any, tmp_path: Path) -> None:
    wb = await make_workbench(measure_deduction_approval_yuan=Decimal("50.00"))
    clock = wb.api.app[MEASURE_CLOCK]
    case_id, view = await searched(wb)
    account = money_account(view)
    freeze = await active_freeze(wb, case_id, account, "80.00")
    expires = date.fromisoformat(freeze["expires_on"])
    # Ten days before the expiry: the renewal is due, and the expiry watch raises its alert.
    clock.advance((expires - clock.today()).days - 10)
    assert (await wb.api.app[MEASURE_EXPIRY].tick())[0] == 1

    page = await wb.page()
    await wb.sign_in(page, JUDGE)
    await page.goto(f"{wb.base}/ui/cases/{case_id}")
    row = page.locator(f"table.measures-table tr[data-measure-id='{freeze['id']}']")
    await expect(row).to_have_class(re.compile(r"\bis-due\b"))
    assert "应续行 · 剩 10 天" in await row.inner_text() and expires.isoformat() in await row.inner_text()
    await expect(page.locator(".measures-summary")).to_contain_text("1 项应续行")
    assert await row.locator("[data-measure-action]").all_inner_texts() == ["续冻", "解除冻结", "扣划"]
    shots, docs = tmp_path, screenshot_dir(tmp_path)
    await save_screenshot(page, shots / "measures-case-renewal-due.png")
    await page.locator("section[aria-labelledby=measures-title]").screenshot(path=str(shots / "measures-case-due.png"))

    # The case page's alert offers the renewal too; the judge takes it from the dashboard's alert list.
    await expect(page.locator(f".alerts-box li[data-alert=measure_renewal_due] [data-alert-renew='{freeze['id']}']")
                 ).to_have_text("续冻")
    controls_before = await bank_controls(wb)
    await page.click("#mainnav a[href='/ui/dashboard']")
    await page.wait_for_url(f"{wb.base}/ui/dashboard")
    panel = page.locator("details.alerts-panel")
    await expect(panel).to_have_attribute("open", "")  # an alert this judge may act on: open at once
    alert = panel.locator("li[data-alert=measure_renewal_due]")
    await expect(alert.locator(f"a[href='/ui/cases/{case_id}']")).to_have_text(FIRST[0])
    # Its ruling defaults come from the alert's answer: the case number, and the court's date, not the browser's.
    await alert.locator(f"[data-alert-renew='{freeze['id']}']").click()
    form = alert.locator("form[data-measure-form=renew]")
    assert await form.locator("input[name=ruled_on]").input_value() == clock.today().isoformat()
    assert await form.locator("input[name=ruling_number]").input_value() == FIRST[0]
    await form.locator("input[name=ruling_number]").fill(ruling(clock.today(), 2)["number"])
    await save_screenshot(page, shots / "dashboard-renew-from-alert.png")
    await panel.screenshot(path=str(docs / "measures-renew-from-alert.png"))
    await form.locator("[data-submit-measure=renew]").click()
    submitted = alert.locator("[data-renew-submitted]")
    await expect(submitted).to_contain_text("续行已提交，通知书 ")
    renewal_id = int(await submitted.get_attribute("data-renew-submitted") or 0)
    renewal = await answered(wb, renewal_id)
    assert renewal["status"] == "done" and renewal["notice_number"] in await submitted.inner_text(), renewal
    assert await alert.locator("[data-alert-renew]").count() == 0
    # The bank got one renewal (one more effective control), and holds the freeze a year longer.
    renewed = date(expires.year + 1, expires.month, expires.day).isoformat()
    assert await bank_controls(wb) == controls_before + 1
    async with aiohttp.ClientSession() as s, \
            s.get(f"{wb.simulators['banks'].url}/_sim/accounts/{account['data']['account_number']}") as r:
        held = [f for f in (await r.json())["Freezes"] if f["Active"]]
    assert [f["EndDate"] for f in held if f["ControlNo"] == freeze["reference"]] == [renewed.replace("-", "")], held
    # The renewal done resolved the alert (decision 1706): the dashboard's open alerts no longer list
    # it, nor does the case page (which hides handled alerts); the API shows it handled, renewed.
    async with page.expect_response(lambda r: "/api/v1/alerts" in r.url and r.status == 200):
        await page.reload()
    await expect(page.locator("details.alerts-panel li[data-alert=measure_renewal_due]")).to_have_count(0)
    async with page.expect_response(lambda r: "/api/v1/alerts" in r.url and r.status == 200):
        await page.goto(f"{wb.base}/ui/cases/{case_id}")
    renewal_row = page.locator("table.measures-table tr.follow-up[data-kind=renew]")
    await expect(renewal_row.locator("[data-measure-status=done]")).to_be_visible()
    await expect(row).to_contain_text(renewed)
    await expect(row).not_to_have_class(re.compile(r"\bis-due\b"))
    await expect(page.locator(".alerts-box li[data-alert=measure_renewal_due]")).to_have_count(0)
    status, alerts = await wb.api.request("GET", f"/api/v1/alerts?kind=measure_renewal_due&case_id={case_id}",
                                          login=JUDGE)
    assert [(a["status"], a["follow_up"]["id"], a["follow_up"]["status"]) for a in alerts["alerts"]] == [
        ("resolved", renewal_id, "done")], alerts
    assert status == 200

    # A deduction above the court's amount (50 yuan) is held for a supervisor's approval.
    await row.locator("[data-measure-action=deduct]").click()
    form = page.locator("form[data-measure-form=deduct]")
    assert await form.locator("input[name=amount]").input_value() == "80.00"
    await form.locator("input[name=ruling_number]").fill(ruling(clock.today(), 3)["number"])
    await form.locator("input[name=amount]").fill("60")
    await form.locator("[data-submit-measure=deduct]").click()
    held = page.locator("table.measures-table tr.follow-up[data-kind=deduct]")
    await expect(held.locator("[data-measure-status=awaiting_approval]")).to_have_text("待院庭长审批")
    await expect(held).to_contain_text("院庭长批准后送银行")
    await expect(row).to_contain_text("扣划办理中")  # no second act while it waits
    await page.locator("section[aria-labelledby=measures-title]").screenshot(
        path=str(docs / "measures-case-held-deduction.png"))

    # English: the same page in the other language, every word there.
    await page.click("#lang-toggle")
    await expect(page.locator("#measures-title")).to_have_text("Control measures")
    assert "awaiting approval" in await page.inner_text("table.measures-table")
    assert wb.js_errors == []


async def test_supervisor_sees_renewals_due_and_approves_a_held_deduction(make_workbench: Any, tmp_path: Path) -> None:
    wb = await make_workbench(measure_deduction_approval_yuan=Decimal("50.00"))
    clock = wb.api.app[MEASURE_CLOCK]
    case_id, view = await searched(wb)
    account, other_account = money_accounts(view)[:2]
    number = account["data"]["account_number"]
    freeze = await active_freeze(wb, case_id, account, "90.00")
    second = await active_freeze(wb, case_id, other_account, "30.00")  # due the same day: the judge renews it
    status, held = await wb.api.request("POST", f"/api/v1/cases/{case_id}/measures", login=JUDGE, json={
        "kind": "deduct", "measure_id": freeze["id"], "amount": "70.00", "ruling": ruling(clock.today(), 2)})
    assert status == 202 and held["status"] == "awaiting_approval", held
    clock.advance((date.fromisoformat(freeze["expires_on"]) - clock.today()).days - 3)
    assert (await wb.api.app[MEASURE_EXPIRY].tick())[0] == 2

    page = await wb.page()
    await wb.sign_in(page, SUPERVISOR)
    # The dashboard's alert list shows the court's renewal due, without the judge's 续冻: the
    # supervisor may not renew (measure_permissions), so the alert offers nothing to act on.
    await page.wait_for_url(f"{wb.base}/ui/dashboard")
    panel = page.locator("details.alerts-panel")
    await panel.locator("summary").click()
    alert = panel.locator("li[data-alert=measure_renewal_due]")
    await expect(alert).to_have_count(2)  # the two controls due
    await expect(alert.first).to_contain_text("请及时续行")
    assert await panel.locator("[data-alert-renew], [data-alert-release], form").count() == 0
    await panel.screenshot(path=str(tmp_path / "dashboard-alert-supervisor.png"))
    await page.click("#mainnav a[href='/ui/measures']")
    await page.wait_for_url(f"{wb.base}/ui/measures")
    await expect(page.locator("main h1")).to_have_text("本院控制措施：续行、失效与审批")
    due = page.locator(f"section[data-group=due] tr[data-measure-id='{freeze['id']}']")
    await expect(due).to_contain_text(FIRST[0])
    assert "剩 3 天" in await due.inner_text() and "扣划办理中" in await due.inner_text()
    await expect(page.locator("section[data-group=lapsed]")).to_contain_text("无失效措施")
    # The supervisor may not renew (measure_permissions): the list offers no act, nor a column for one.
    await expect(page.locator("section[data-group=due] tr[data-measure-id]")).to_have_count(2)
    assert await page.locator("section[data-group=due] [data-measure-action], [data-measure-form]").count() == 0
    assert "操作" not in await page.locator("section[data-group=due] thead").inner_text()
    waiting = page.locator(f"section[data-group=awaiting_approval] tr[data-measure-id='{held['id']}']")
    await expect(waiting).to_contain_text("¥70.00")
    assert "张伟 申请" in await waiting.inner_text() and "张伟" in await due.inner_text()
    await save_screenshot(page, screenshot_dir(tmp_path) / "measures-court-view.png")

    await waiting.locator(f"[data-approve='{held['id']}']").click()
    await expect(page.locator("#measures-status")).to_contain_text("已批准")
    await expect(page.locator("section[data-group=awaiting_approval]")).to_contain_text("无待审批的扣划")
    done = await answered(wb, held["id"])
    assert done["status"] == "done" and done["approved_by"] == SUPERVISOR
    assert await bank_holds(wb, number) == Decimal("20.00")  # the bank moved the money

    # The case's judge, on the same list, renews the second control where it shows: the row's own
    # act, its ruling defaulted from the list's answer (the case number, the court's date).
    judge = await wb.page()
    await wb.sign_in(judge, JUDGE)
    await judge.goto(f"{wb.base}/ui/measures")
    row = judge.locator(f"section[data-group=due] tr[data-measure-id='{second['id']}']")
    renew = row.locator("[data-measure-action=renew]")
    await expect(renew).to_have_text("续冻")
    controls_before = await bank_controls(wb)
    await renew.click()
    form = judge.locator(f"tr[data-form-for='{second['id']}'] form[data-measure-form=renew]")
    assert await form.locator("input[name=ruling_number]").input_value() == FIRST[0]
    assert await form.locator("input[name=ruled_on]").input_value() == clock.today().isoformat()
    await form.locator("input[name=ruling_number]").fill(ruling(clock.today(), 3)["number"])
    await save_screenshot(judge, screenshot_dir(tmp_path) / "measures-court-view-renew.png")
    await form.locator("[data-submit-measure=renew]").click()
    # Sent: the list again, the row saying so with the notice number, offering no second renewal.
    submitted = row.locator("[data-renew-submitted]")
    await expect(submitted).to_contain_text("续行已提交，通知书 ")
    await expect(renew).to_have_count(0)
    renewal_id = int(await submitted.get_attribute("data-renew-submitted") or 0)
    renewal = await answered(wb, renewal_id)
    assert renewal["status"] == "done" and renewal["parent_id"] == second["id"], renewal
    # Answered: the page says so with the notice number, and the renewed control is no longer due.
    await expect(judge.locator("#measures-status")).to_have_text(f"已续行，通知书 {renewal['notice_number']}",
                                                                 timeout=10_000)
    await expect(row).to_have_count(0)
    assert await bank_controls(wb) == controls_before + 1  # one renewal at the bank, no more
    await save_screenshot(judge, tmp_path / "measures-court-view-renewed.png")

    # Past the expiry without renewal: lapsed, in red.
    clock.advance(4)
    await page.reload()
    lapsed = page.locator(f"section[data-group=lapsed] tr[data-measure-id='{freeze['id']}']")
    await expect(lapsed).to_have_class(re.compile(r"\bis-lapsed\b"))
    assert "已失效 1 天" in await lapsed.inner_text()
    colour = await lapsed.locator("th a").evaluate("a => getComputedStyle(a).color")
    assert colour == "rgb(180, 35, 24)", colour  # --alert
    await save_screenshot(page, tmp_path / "measures-court-view-lapsed.png")

    # English, and a tablet's width without a sideways scroll of the page.
    await page.click("#lang-toggle")
    await expect(page.locator("main h1")).to_have_text("The court's controls: renewals, lapses, approvals")
    assert "lapsed 1 day ago" in await lapsed.inner_text()
    await page.set_viewport_size({"width": 800, "height": 900})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 800
    await save_screenshot(page, tmp_path / "measures-court-view-en-800.png")
    await page.click("#lang-toggle")

    # Another court's supervisor: nothing of this court.
    other = await wb.page()
    await wb.sign_in(other, OTHER_SUPERVISOR)
    await other.goto(f"{wb.base}/ui/measures")
    await expect(other.locator("section[data-group=lapsed]")).to_contain_text("无失效措施")
    assert await other.locator("tr[data-measure-id]").count() == 0
    assert wb.js_errors == []
