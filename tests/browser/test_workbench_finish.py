"""Issue 18, the workbench as a finished product: every record kind in words (the plug-in real
estate too), both languages, laptop and tablet widths; screenshots under /tmp/i18-shots for a
person to look at."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from enforcement.seeds import CASES

pytestmark = pytest.mark.browser

FIRST = CASES[0]
# Screenshots for a person to look at (WORKBENCH_SHOTS_DIR, else the system's temporary folder).
SHOTS = Path(os.environ.get("WORKBENCH_SHOTS_DIR") or tempfile.gettempdir()) / "i18-shots"
SHOTS.mkdir(parents=True, exist_ok=True)
RAW_VALUE = re.compile(r"\b(true|false|null|None|undefined|NaN)\b")


async def shot(page: Any, name: str) -> None:
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def searched(wb: Any) -> tuple[int, dict[str, Any]]:
    case_id = await wb.case_id(FIRST[0])
    debtor = FIRST[-1][0]
    status, accepted = await wb.api.request("POST", "/api/v1/searches", login="zhangwei", json={
        "case_id": case_id, "subject": {"kind": debtor.kind, "id_number": debtor.id_number, "name": debtor.name}})
    assert status == 202, accepted
    return case_id, await wb.api.wait_search(accepted["id"], "zhangwei")


async def test_every_record_kind_reads_in_words_in_both_languages(make_workbench: Any) -> None:
    wb = await make_workbench()
    case_id, view = await searched(wb)
    assert view["dossier"]["sections"].get("real_estate"), "the debtor owns real estate in the simulator"
    status, kinds = await wb.api.request("GET", "/api/v1/record-kinds", login="zhangwei")
    assert status == 200
    words = {k["kind"]: k for k in kinds["kinds"]}
    assert words["real_estate"]["label"] == {"zh": "不动产", "en": "Real estate"}
    page = await wb.page()
    await wb.sign_in(page, "zhangwei")
    for lang, width in (("zh", 1280), ("en", 1280), ("en", 800), ("zh", 800)):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.goto(f"{wb.base}/ui/cases/{case_id}?search={view['id']}")
        if (await page.get_attribute("html", "lang") or "").startswith("zh") != (lang == "zh"):
            await page.click("#lang-toggle")
        section = page.locator(".dossier-section[data-kind=real_estate]")
        await section.locator("tbody tr").first.wait_for()
        text = await page.inner_text(".dossier")
        for kind, entries in view["dossier"]["sections"].items():
            for entry in entries:
                for key in entry["data"]:
                    # a field's raw name never shows as a heading or a label
                    assert not re.search(rf"(^|\s){re.escape(key)}(\s|$)", text, re.M) or "_" not in key, (kind, key)
            built_in_titles = {"employment", "pension", "bank_account", "vehicle", "travel_document",
                               "border_crossing", "exit_restriction", "hotel_stay"}
            assert words[kind]["label"][lang] in text or kind in built_in_titles
        assert not RAW_VALUE.search(text), RAW_VALUE.search(text)
        estate = await section.inner_text()
        for field in words["real_estate"]["fields"]:
            assert field["label"][lang] in estate, (lang, field["name"])
        assert ("查封" if lang == "zh" else "Seized") in estate
        yes, no = ("是", "否") if lang == "zh" else ("Yes", "No")
        assert yes in estate or no in estate
        assert await page.evaluate("document.documentElement.scrollWidth") <= width
        await shot(page, f"dossier-{lang}-{width}")
        await section.screenshot(path=str(SHOTS / f"estate-{lang}-{width}.png"))
    assert wb.js_errors == []


def _luminance(rgb: tuple[int, ...]) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: tuple[int, ...], bg: tuple[int, ...]) -> float:
    hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


MUTED_COLOURS = """() => {
  const rgb = (s) => (s.match(/\\d+(\\.\\d+)?/g) || []).slice(0, 3).map(Number);
  const bgOf = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return rgb(c);
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll('.muted, .tag-muted, .footer, .breadcrumbs, label')]
    .filter((el) => el.offsetParent && el.textContent.trim())
    .slice(0, 80)
    .map((el) => ({ text: el.textContent.trim().slice(0, 30), fg: rgb(getComputedStyle(el).color), bg: bgOf(el) }));
}"""


async def test_case_list_searches_sorts_by_urgency_and_muted_text_is_readable(make_workbench: Any) -> None:
    wb = await make_workbench()
    page = await wb.page()
    await wb.sign_in(page, "zhangwei")
    await page.wait_for_selector("table.cases-table tbody tr")
    _, api_list = await wb.api.request("GET", "/api/v1/cases?limit=100", login="zhangwei")
    shown = await page.locator("table.cases-table tbody th a").all_inner_texts()
    assert shown == [c["case_number"] for c in api_list["items"]]  # the server's urgency order
    overdue = [c for c in api_list["items"] if c["overdue"]]
    assert overdue and shown[0] == overdue[0]["case_number"]  # the overdue case is on top
    assert await page.input_value("#f-sort") == "urgency"

    await page.select_option("#f-sort", "filed_desc")
    await page.wait_for_url(re.compile(r"sort=filed_desc"))
    await page.wait_for_selector("table.cases-table tbody tr")
    by_filing = await page.locator("table.cases-table tbody th a").all_inner_texts()
    assert sorted(by_filing) == sorted(shown) and by_filing != shown

    debtor = FIRST[-1][0]
    await page.fill("#f-q", debtor.name)
    await page.press("#f-q", "Enter")
    await page.wait_for_url(re.compile(r"q="))
    await expect(page.locator("table.cases-table tbody tr")).to_have_count(1)
    assert await page.locator("table.cases-table tbody th a").all_inner_texts() == [FIRST[0]]

    for lang in ("zh", "en"):
        if lang == "en":
            await page.click("#lang-toggle")
        for width in (1280, 800):
            await page.set_viewport_size({"width": width, "height": 900})
            await page.goto(f"{wb.base}/ui/cases")
            await page.wait_for_selector("table.cases-table tbody tr")
            assert await page.evaluate("document.documentElement.scrollWidth") <= width
            # no column squeezed to one character a line
            narrow = await page.evaluate("""() => [
              ...document.querySelectorAll('table.cases-table td, table.cases-table th')]
              .filter((c) => c.textContent.trim().length > 3 && c.getBoundingClientRect().width < 40).length""")
            assert narrow == 0, (lang, width)
            await shot(page, f"cases-{lang}-{width}")
    for item in await page.evaluate(MUTED_COLOURS):
        assert contrast(tuple(item["fg"]), tuple(item["bg"])) >= 4.5, item
    assert wb.js_errors == []


async def test_ops_opens_the_agency_health_page(make_workbench: Any) -> None:
    from datetime import date, timedelta

    from connectors.sdk.signing import sign

    secret = "bank-callback-secret-for-the-ops-page"
    wb = await make_workbench(callback_secrets={"banks": secret},
                              agency_secrets={"banks": "sim-key", "hotels": "sim-key"},
                              callback_secrets_issued={"banks": date.today() - timedelta(days=400)},
                              agency_secrets_issued={"banks": date.today() - timedelta(days=30)})
    body = json.dumps({"NotifyNo": "TZops1", "NotifyTime": "2026-01-01T00:00:00+08:00", "ItemCount": 0,
                       "Items": []}).encode()
    for key in (secret, "forged"):
        status, _ = await wb.api.request("POST", "/api/v1/agencies/banks/callbacks", data=body,
                                         headers={**sign(key, body), "Content-Type": "application/json"})
        assert status == (200 if key == secret else 401)
    page = await wb.page()
    await wb.sign_in(page, "ops")
    await page.wait_for_url(re.compile(r"/ui/agencies$"))
    await page.wait_for_selector("table.agencies-table tbody tr")
    status, data = await wb.api.request("GET", "/api/v1/agencies", login="ops", role="ops")
    assert status == 200
    rows = await page.locator("table.agencies-table tbody tr").evaluate_all("rs => rs.map(r => r.dataset.agency)")
    assert sorted(rows) == sorted(a["name"] for a in data["agencies"])
    text = await page.inner_text("table.agencies-table")
    assert "熔断器" in text and "闭合" in text and "每秒" in text
    banks = await page.inner_text("tr[data-agency='banks']")
    assert "近 1 小时回调：接受 1 · 拒绝 1" in banks and "已拒绝" in banks and "bad_signature" in banks
    assert "回调密钥" in banks and any(f"已用 {n} 天" in banks for n in (399, 400, 401))  # Beijing's day
    assert "请轮换" in banks and "ops/runbook.md#rotating-keys-and-secrets" in banks
    assert "我方凭据" in banks and any(f"已用 {n} 天" in banks for n in (29, 30, 31))
    assert secret not in await page.content()
    # an agency whose credential has no recorded issue date says so
    hotels = await page.inner_text("tr[data-agency='hotels']")
    assert "未登记发放日期" in hotels and "已用" not in hotels
    assert await page.locator("#mainnav a[href='/ui/cases']").count() == 0  # ops lists no cases
    await page.click("#lang-toggle")
    await page.wait_for_selector("table.agencies-table tbody tr")
    assert "Breaker" in await page.inner_text("table.agencies-table")
    banks = await page.inner_text("tr[data-agency='banks']")
    assert "Callbacks, last hour: 1 accepted · 1 refused" in banks and "refused" in banks
    assert "Callback secret" in banks and "days old" in banks and "rotate it" in banks
    assert "Our credential" in banks
    assert "issue date not recorded" in await page.inner_text("tr[data-agency='hotels']")
    await shot(page, "agencies-en-1280")
    assert wb.js_errors == []


async def test_employment_shows_current_employers_apart_from_history(make_workbench: Any) -> None:
    wb = await make_workbench()
    case_id, view = await searched(wb)
    jobs = view["dossier"]["sections"].get("employment") or []
    totals = view["dossier"]["totals"]["employment"]
    current = [e for e in jobs if e["data"]["status"] == "正常参保"]
    assert totals["current_employers"] == len(current)
    page = await wb.page()
    await wb.sign_in(page, "zhangwei")
    await page.goto(f"{wb.base}/ui/cases/{case_id}?search={view['id']}")
    section = page.locator(".dossier-section[data-kind=employment]")
    await section.locator("tbody tr").first.wait_for()
    keys = await section.locator("tbody tr[data-key]").evaluate_all("rs => rs.map(r => r.dataset.key)")
    assert keys[:len(current)] == sorted([e["natural_key"] for e in current], key=keys.index)
    assert set(keys[:len(current)]) == {e["natural_key"] for e in current}
    if len(current) < len(jobs):
        assert await section.locator("tr.group-row[data-group=employment_history]").count() == 1
    assert "当前参保单位" in await section.inner_text()
    await section.screenshot(path=str(SHOTS / "employment-zh-1280.png"))
    assert wb.js_errors == []
