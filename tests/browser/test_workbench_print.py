"""Issue 18, the workbench: the printable 查控结果 report of a search for the case file (A4, no
navigation, one agency per page), the 全网查询 button early in the Tab order, and the checklist's
evidence lists in date order and bounded. Screenshots and the PDF under /tmp/i18-shots."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from enforcement.domain.privacy import mask_id_number
from enforcement.seeds import CASES

pytestmark = pytest.mark.browser

FIRST = CASES[0]
SHOTS = Path(os.environ.get("WORKBENCH_SHOTS_DIR") or tempfile.gettempdir()) / "i18-shots"
SHOTS.mkdir(parents=True, exist_ok=True)
BEIJING = ZoneInfo("Asia/Shanghai")


def beijing(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


async def test_printable_report_of_a_search_for_the_case_file(make_workbench: Any) -> None:
    wb = await make_workbench(timezone_id="America/New_York")  # the report is in Beijing time anyway
    case_id = await wb.case_id(FIRST[0])
    debtor = FIRST[-1][0]
    status, accepted = await wb.api.request("POST", "/api/v1/searches", login="zhangwei", json={
        "case_id": case_id, "subject": {"kind": debtor.kind, "id_number": debtor.id_number, "name": debtor.name}})
    assert status == 202, accepted
    view = await wb.api.wait_search(accepted["id"], "zhangwei")
    status, case = await wb.api.request("GET", f"/api/v1/cases/{case_id}", login="zhangwei")
    assert status == 200
    status, kinds = await wb.api.request("GET", "/api/v1/record-kinds", login="zhangwei")
    words = {k["kind"]: k for k in kinds["kinds"]}
    assert view["document_number"]

    page = await wb.page()
    await wb.sign_in(page, "zhangwei")
    await page.goto(f"{wb.base}/ui/cases/{case_id}?search={view['id']}")
    button = page.locator("[data-print-report]")
    await expect(button).to_have_text("打印查控结果")
    await expect(button).to_have_attribute("href", f"/ui/searches/{view['id']}/report")
    await button.click()
    await page.wait_for_url(f"**/ui/searches/{view['id']}/report")
    report = page.locator("article.report")
    await report.locator(".report-agency").first.wait_for()

    async def fact(key: str) -> str:
        text: str = await report.locator(f"[data-report-fact={key}]").inner_text()
        return text

    assert await fact("court") == case["court_name"]
    assert await fact("case_number") == FIRST[0]
    assert await fact("judge") == case["judge"]["name"]
    assert await fact("document_number") == view["document_number"]
    assert debtor.name in await fact("subject")
    assert await fact("id_number") == mask_id_number(debtor.id_number)
    text = await report.inner_text()
    assert debtor.id_number not in text  # the full number is never printed
    assert await fact("created_at") == beijing(view["created_at"])

    sections = report.locator(".report-agency")
    assert await sections.count() == len(view["agencies"]) >= 5
    entries = [e for list_ in view["dossier"]["sections"].values() for e in list_]
    nothing = 0
    for task in view["agencies"]:
        section = report.locator(f".report-agency[data-agency='{task['agency']}']")
        body = await section.inner_text()
        assert task["name"]["zh"] in body
        assert beijing(task["answered_at"]) in body, (task["agency"], body)
        mine = [e for e in entries if any(p["agency"] == task["agency"] for p in e["provenance"])]
        if not mine:
            nothing += 1
            assert "查无信息" in body
            continue
        assert "查无信息" not in body
        for e in mine:
            assert await section.locator(f"[data-key='{e['natural_key']}']").count() == 1
            kind = words[e["kind"]]
            assert kind["label"]["zh"] in body
            for field in kind["fields"]:
                if field["name"] in e["data"]:
                    assert field["label"]["zh"] in body, (e["kind"], field["name"])
        assert not re.search(r"\b(true|false|null|undefined)\b", body)
    assert nothing >= 1, "some agency has nothing on this debtor: the report says 查无信息"
    printed = await report.locator("[data-printed-at]").inner_text()
    now = datetime.now(BEIJING)
    assert now.strftime("%Y-%m-%d") in printed and "打印时间" in printed

    await page.screenshot(path=str(SHOTS / "report-screen.png"), full_page=True)
    # Printed: no navigation, no buttons, black on white, one agency per A4 page.
    await page.emulate_media(media="print")
    for hidden in (".topbar", ".footer", ".report-toolbar", "[data-print]"):
        assert not await page.locator(hidden).first.is_visible(), hidden
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
    assert await page.evaluate("getComputedStyle(document.querySelector('.report h1')).color") == "rgb(0, 0, 0)"
    assert await page.evaluate(
        "getComputedStyle(document.querySelectorAll('.report-agency')[1]).breakBefore") == "page"
    await page.screenshot(path=str(SHOTS / "report-print.png"), full_page=True)
    pdf = await page.pdf(prefer_css_page_size=True, print_background=True)
    (SHOTS / "report.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= len(view["agencies"]) + 1, pages  # the case page, then one per agency
    assert b"MediaBox [0 0 595" in pdf or b"/MediaBox [0 0 594" in pdf  # A4: 595 x 842 points
    await page.emulate_media(media="screen")

    # English too
    await page.click("#lang-toggle")
    await expect(page.locator("article.report h1")).to_have_text("Property search results")
    assert "Nothing found" in await page.locator("article.report").inner_text()
    assert wb.js_errors == []


async def test_search_all_button_is_within_five_tab_stops_of_the_skip_link(make_workbench: Any) -> None:
    wb = await make_workbench()
    case_id = await wb.case_id(FIRST[0])
    page = await wb.page()
    await wb.sign_in(page, "zhangwei")
    await page.goto(f"{wb.base}/ui/cases/{case_id}")
    await page.locator("[data-search-debtor]").first.wait_for()
    await page.locator(".checklist").wait_for()
    await page.wait_for_load_state("networkidle")  # the page's late parts (alerts, notices) drawn
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip-link"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"
    assert page.url.endswith(f"/ui/cases/{case_id}#main")  # followed, not re-rendered
    # Chromium settles its sequential-focus starting point a moment after a fragment jump; a
    # person does not press Tab within milliseconds of Enter (pressed at once, Tab starts over).
    await page.wait_for_timeout(500)
    reached = 0
    for presses in range(1, 6):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.dataset.searchDebtor") == FIRST[-1][0].id_number:
            reached = presses
            break
    else:
        raise AssertionError("the 全网查询 button is not within 5 Tab stops of the skip link")
    assert await page.evaluate("document.activeElement.textContent") == "全网查询"
    print(f"全网查询 reached with {reached} Tab presses after the skip link")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#live-search[data-search-status=completed]", timeout=30_000)
    assert wb.js_errors == []


async def test_checklist_evidence_newest_first_and_bounded(make_workbench: Any) -> None:
    wb = await make_workbench()
    page = await wb.page()
    await wb.sign_in(page, "zhangwei")
    await page.wait_for_selector("table.cases-table")
    # The checklist view drawn from a check with 8 pieces of evidence on one requirement, given
    # out of order (as the closure check adds them search by search), and one undated fact.
    dates = ["2026-03-02T02:00:00+00:00", "2026-05-01T01:00:00+00:00", "2026-01-15T08:00:00+00:00",
             "2026-06-30T23:30:00+00:00", "2026-02-01T00:00:00+00:00", "2026-04-10T05:00:00+00:00",
             "2026-05-20T06:00:00+00:00", "2026-01-01T00:00:00+00:00"]
    await page.evaluate("""async (dates) => {
      const m = await import('/static/js/views/checklist.js');
      const evidence = [{ source: 'case', field: 'filed_on', on: null },
        ...dates.map((at, i) => ({ source: 'search', agency: 'bank_' + i, record_count: i % 2,
          answered_at: at, on: at.slice(0, 10) }))];
      const check = { ready: false, conditions: [{ code: 'c2', number: 2, met: false,
        title: { zh: '查控', en: 'Searched' },
        requirements: [{ code: 'network', met: true, title: { zh: '网络查控', en: 'Network search' }, evidence }] }] };
      const box = document.createElement('div');
      box.id = 'checklist-under-test';
      box.append(m.renderChecklist(check));
      document.getElementById('main').replaceChildren(box);
    }""", dates)
    items = page.locator("#checklist-under-test ul.evidence > li")
    assert await items.count() == 9
    visible = page.locator("#checklist-under-test ul.evidence > li:visible")
    assert await visible.count() == 5
    shown = [await visible.nth(i).locator("time").get_attribute("datetime") for i in range(5)]
    newest = sorted((d[:10] for d in dates), reverse=True)
    assert shown == newest[:5], shown
    more = page.locator("[data-evidence-more]")
    await expect(more).to_have_text("另有 4 条")
    await more.click()
    assert await visible.count() == 9
    shown = [await items.nth(i).locator("time").get_attribute("datetime") for i in range(8)]
    assert shown == newest
    assert "立案" in await items.nth(8).inner_text()  # the undated fact last
    await expect(more).to_have_attribute("aria-expanded", "true")
    await more.click()
    assert await visible.count() == 5
    await page.click("#lang-toggle")  # the view redraws: words in English, plurals right
    await page.evaluate("""async (dates) => {
      const m = await import('/static/js/views/checklist.js');
      const ev = (n) => Array.from({ length: n },
        (_, i) => ({ source: 'search', agency: 'a' + i, record_count: 0, answered_at: dates[i] }));
      const check = { conditions: [{ code: 'c', met: false, title: { zh: 'x', en: 'x' }, requirements: [
        { code: 'r6', met: true, title: { zh: 'x', en: 'x' }, evidence: ev(6) },
        { code: 'r5', met: true, title: { zh: 'y', en: 'y' }, evidence: ev(5) }] }] };
      const box = document.createElement('div');
      box.id = 'checklist-under-test';
      box.append(m.renderChecklist(check));
      document.getElementById('main').replaceChildren(box);
    }""", dates)
    await expect(page.locator("[data-requirement=r6] [data-evidence-more]")).to_have_text("1 more")
    assert await page.locator("[data-requirement=r5] [data-evidence-more]").count() == 0
    assert wb.js_errors == []
