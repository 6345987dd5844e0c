"""Issue 18, the workbench as a finished product: every record kind in words (the plug-in real
estate too), both languages, laptop and tablet widths; screenshots under /tmp/i18-shots for a
person to look at."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from enforcement.seeds import CASES

pytestmark = pytest.mark.browser

FIRST = CASES[0]
SHOTS = Path("/tmp/i18-shots")
RAW_VALUE = re.compile(r"\b(true|false|null|None|undefined|NaN)\b")


async def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
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
            assert words[kind]["label"][lang] in text or kind in {"employment", "pension", "bank_account",
                                                                 "vehicle", "travel_document", "border_crossing",
                                                                 "exit_restriction", "hotel_stay"}
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
