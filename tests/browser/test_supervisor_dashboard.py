"""A supervisor in real Chromium: the four core indicators against their targets with trends,
drill-down court -> judge -> case, the cases that pull an indicator down, and an audited CSV
export; a judge sees only their own figures."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from enforcement.api.keys import POOL
from tests.browser.conftest import save_screenshot, screenshot_dir
from tests.browser.history import push_court_history

pytestmark = pytest.mark.browser


def year_window() -> tuple[str, str]:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return date(today.year, 1, 1).isoformat(), today.isoformat()


def shown(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


async def test_supervisor_sees_the_core_indicators_drills_down_and_exports(make_workbench: Any,
                                                                             tmp_path: Path) -> None:
    wb = await make_workbench()
    await push_court_history(wb.api)
    date_from, date_to = year_window()
    status, report = await wb.api.request(
        "GET", f"/api/v1/indicators?{urlencode({'from': date_from, 'to': date_to})}", login="chenjing",
        role="supervisor")
    assert status == 200
    core = [i for i in report["indicators"] if i["core"]]
    assert len(core) == 4

    page = await wb.page()
    await wb.sign_in(page, "chenjing")
    assert page.url.endswith("/ui/dashboard")  # a supervisor starts at the dashboard
    await page.wait_for_selector(".dashboard[data-trend-loaded=true]", timeout=30_000)
    cards = page.locator(".kpis .kpi")
    assert await cards.count() == 4
    for ind in core:
        card = page.locator(f".kpi[data-indicator={ind['code']}]")
        assert await card.locator(".kpi-value").inner_text() == shown(ind["value"])
        assert await card.get_attribute("data-meets") == str(ind["meets_target"]).lower()
        classes = await card.get_attribute("class") or ""
        assert ("below" in classes) == (ind["meets_target"] is False), ind["code"]
        assert f"{ind['target'] * 100:.2f}%" in await card.inner_text()
        assert await card.locator("svg.kpi-spark path.series").count() == 1  # its trend
    # The selected indicator's trend, as a chart with its target line.
    chart = page.locator(".chart-box svg.chart")
    assert await chart.locator("path.series").count() == 1
    assert await chart.locator("line.target").count() == 1
    assert await chart.locator("circle.dot").count() >= 2

    shots = screenshot_dir(tmp_path)
    await save_screenshot(page, shots / "dashboard.png")

    # Court -> judge: the judges of the court for the selected (first) indicator.
    first = core[0]
    judges = page.locator("table.drill-judges tbody tr[data-judge]")
    assert sorted(await judges.evaluate_all("rows => rows.map(r => r.dataset.judge)")) == sorted(
        r["judge_login"] for r in first["by_judge"])
    await page.click("table.drill-judges tr[data-judge=lina] a")
    await page.wait_for_url(re.compile(r"judge=lina"))
    await expect(page.locator("[data-drill=judge]")).to_have_text("李娜")
    await page.wait_for_selector(".dashboard[data-trend-loaded=true]", timeout=30_000)
    status, drill = await wb.api.request(
        "GET", f"/api/v1/indicators/{first['code']}/cases?"
        f"{urlencode({'from': date_from, 'to': date_to, 'judge': 'lina'})}", login="chenjing", role="supervisor")
    assert status == 200 and drill["cases"], drill
    rows = page.locator("table.drill-cases tbody tr")
    await expect(rows).to_have_count(len(drill["cases"]))
    listed = await rows.evaluate_all("rows => rows.map(r => Number(r.dataset.caseId))")
    assert sorted(listed) == sorted(c["case_id"] for c in drill["cases"])
    reason = drill["cases"][0]["reason"]["zh"]
    assert reason in await page.inner_text("table.drill-cases")

    # Judge -> case: the case page, with its facts.
    target = drill["cases"][0]
    await page.click(f"table.drill-cases tr[data-case-id='{target['case_id']}'] a")
    await page.wait_for_selector(".case-page")
    assert target["case_number"] in await page.inner_text("main h1")
    await page.go_back()
    await page.wait_for_selector("table.drill-cases")

    # Export: a CSV file, and an export record in the audit trail.
    before = await wb.api.app[POOL].fetchval("SELECT count(*) FROM audit_log WHERE action = 'export'")
    async with page.expect_download() as download_info:
        await page.click("#export-csv")
    download = await download_info.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, or Excel on Chinese Windows shows 乱码"
    text = raw.decode("utf-8-sig")
    assert text.startswith("indicator,name_zh,name_en")
    assert "lina" in text and "statutory_closure_rate" in text
    await expect(page.locator(".banner-notice")).to_contain_text("审计")
    after = await wb.api.app[POOL].fetch(
        "SELECT actor_login, target FROM audit_log WHERE action = 'export' ORDER BY seq")
    assert len(after) == before + 1 and after[-1]["actor_login"] == "chenjing"

    await page.set_viewport_size({"width": 800, "height": 1000})
    await page.goto(f"{wb.base}/ui/dashboard")
    await page.wait_for_selector(".dashboard[data-trend-loaded=true]", timeout=30_000)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 800
    await save_screenshot(page, shots / "dashboard-800.png")
    assert wb.js_errors == []


async def test_a_judge_sees_only_their_own_figures(make_workbench: Any) -> None:
    wb = await make_workbench()
    await push_court_history(wb.api)
    page = await wb.page()
    await wb.sign_in(page, "zhangwei")
    await page.click("nav#mainnav a[href='/ui/dashboard']")
    await page.wait_for_selector(".kpis .kpi")
    await expect(page.locator("[data-drill=judge]")).to_have_text("张伟")
    assert await page.locator("table.drill-judges").count() == 0
    names = await page.inner_text("main")
    assert "李娜" not in names and "孙浩" not in names
    # Another judge's figures, asked for by address, are refused in plain words.
    await page.goto(f"{wb.base}/ui/dashboard?judge=lina")
    error = page.locator("[data-error-code]")
    await error.wait_for()
    assert await error.get_attribute("data-error-code") == "not_own_figures"
    assert "仅可查看本人的指标" in await error.inner_text()
    assert await page.locator(".kpis .kpi").count() == 0
    assert wb.js_errors == []
