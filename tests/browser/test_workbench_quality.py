"""Qualities every page must have: Chinese with an English toggle that is remembered, Beijing
time whatever the browser's zone, errors in plain words (the API's own message), sign-in by a
pasted identity-provider token, keyboard use, and tablet width."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from enforcement.seeds import CASES

pytestmark = pytest.mark.browser

FIRST = CASES[0]


async def test_english_toggle_is_remembered_and_chinese_is_the_default(make_workbench: Any) -> None:
    wb = await make_workbench()
    page = await wb.page()
    await wb.sign_in(page, "zhangwei")
    await page.wait_for_selector("table.cases-table")
    assert await page.inner_text("main h1") == "我的案件"
    assert await page.get_attribute("html", "lang") == "zh-CN"
    await page.click("#lang-toggle")
    await expect(page.locator("main h1")).to_have_text("My cases")
    assert await page.get_attribute("html", "lang") == "en"
    assert "Amount to enforce" in await page.inner_text("table.cases-table thead")
    assert "Enforcement judge" in await page.inner_text("#whoami")
    await page.reload()
    await expect(page.locator("main h1")).to_have_text("My cases")
    await page.click("#lang-toggle")
    await expect(page.locator("main h1")).to_have_text("我的案件")
    assert wb.js_errors == []


async def test_times_are_beijing_time_and_amounts_carry_yuan_separators(make_workbench: Any) -> None:
    wb = await make_workbench(timezone_id="America/New_York")
    case_id = await wb.case_id(FIRST[0])
    debtor = FIRST[-1][0]
    status, accepted = await wb.api.request("POST", "/api/v1/searches", login="zhangwei", json={
        "case_id": case_id, "subject": {"kind": debtor.kind, "id_number": debtor.id_number, "name": debtor.name}})
    assert status == 202
    view = await wb.api.wait_search(accepted["id"], "zhangwei")
    created = datetime.fromisoformat(view["created_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    page = await wb.page()
    assert await page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "America/New_York"
    await wb.sign_in(page, "zhangwei")
    await page.goto(f"{wb.base}/ui/cases/{case_id}")
    row = page.locator(f"tr[data-search-id='{accepted['id']}']")
    await row.wait_for()
    assert created.strftime("%Y-%m-%d %H:%M") in await row.inner_text()
    assert await page.inner_text("[data-amount]") == "¥386,500.00"
    assert wb.js_errors == []


async def test_errors_are_shown_in_plain_words_and_a_pasted_token_signs_in(make_workbench: Any) -> None:
    wb = await make_workbench()
    page = await wb.page()
    await page.goto(f"{wb.base}/ui/signin")
    await page.fill("#token-input", "not-a-token")
    await page.click(".token-form button[type=submit]")
    banner = page.locator(".banner-error")
    await banner.wait_for()
    assert "令牌格式错误" in await banner.inner_text()  # the API's message, not a status code
    assert "请求编号" in await banner.inner_text()

    # A token from the identity provider (here the demo issuer stands in for it), pasted.
    token = wb.api.token("chenjing", "supervisor")
    await page.fill("#token-input", f"Bearer {token}")
    await page.click(".token-form button[type=submit]")
    await page.wait_for_url(lambda url: "/ui/signin" not in url)
    assert "陈静" in await page.inner_text("#whoami")
    assert "院庭长" in await page.inner_text("#whoami")

    # The identity provider may hand the token over in the address fragment instead.
    await page.evaluate("sessionStorage.clear()")
    judge_token = wb.api.token("zhangwei", "judge")
    await page.goto(f"{wb.base}/ui/signin?next=%2Fui%2Fcases#access_token={judge_token}")
    await page.wait_for_url(lambda url: url.endswith("/ui/cases"))
    assert "张伟" in await page.inner_text("#whoami")
    assert "access_token" not in page.url  # the token does not linger in the address or history

    # A session that has ended sends the user back to sign in, saying so, and returns after.
    await page.evaluate("sessionStorage.setItem('enforcement.token', 'expired')")
    await page.goto(f"{wb.base}/ui/cases")
    await page.wait_for_url(lambda url: "/ui/signin" in url)
    await expect(page.locator(".banner-notice")).to_contain_text("登录已失效")
    await page.click("[data-login='chenjing']")
    await page.wait_for_url(lambda url: url.endswith("/ui/cases"))
    # A supervisor sees the court's cases, with the judge of each.
    await page.wait_for_selector("table.cases-table tbody tr")
    assert await page.locator("table.cases-table tbody tr").count() == 5
    assert "承办法官" in await page.inner_text("table.cases-table thead")
    assert wb.js_errors == []


async def test_keyboard_only_search_and_tablet_width(make_workbench: Any) -> None:
    wb = await make_workbench()
    page = await wb.page(width=800, height=1000)
    await page.goto(f"{wb.base}/")
    # Sign in with the keyboard: the user cards are buttons in the tab order.
    for _ in range(20):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement?.dataset?.login") == "zhangwei":
            break
    else:
        raise AssertionError("the demo user card cannot be reached with the keyboard")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("table.cases-table")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 800
    case_id = await wb.case_id(FIRST[0])
    await page.goto(f"{wb.base}/ui/cases/{case_id}")
    button = page.locator("[data-search-debtor]")
    await button.focus()
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#live-search[data-search-status=completed]", timeout=30_000)
    agencies = page.locator("#live-search li.agency")
    assert await agencies.count() >= 5
    assert await page.locator("#live-search li.agency[data-state=answered]").count() == await agencies.count()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 800
    assert wb.js_errors == []
