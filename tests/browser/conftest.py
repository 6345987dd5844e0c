"""Real headless Chromium (Debian's ``chromium``) driven by Playwright's async API, against the
whole app over real HTTP with the agency simulators (``make_api``).

Chromium is never downloaded: Playwright launches the system binary (``CHROMIUM_PATH`` or
``chromium`` on the PATH). Without it the browser tests skip locally, with one line saying how to
install it, and FAIL in CI (``CI`` set), where ``.ci/run`` installs it (tests/system_tools.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from enforcement.api.keys import POOL
from tests.system_tools import CHROMIUM, find, require, unavailable

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Agencies answer after a few hundred milliseconds, so each arrival can be watched.
AGENCY_LATENCY_MS = 250.0
BANK_ANSWER_DELAY_SECONDS = 1.0
REPO = Path(__file__).resolve().parents[2]


def chromium_path() -> str | None:
    return find(CHROMIUM)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed", "pip install -e '.[test]'")
    executable = require(CHROMIUM)
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            await b.close()


@dataclass
class Workbench:
    """The running app, its base URL and a browser context (a fresh session per test)."""

    api: Any
    base: str
    context: Any
    simulators: dict[str, Any]
    js_errors: list[str]

    async def page(self, *, width: int = 1280, height: int = 900) -> Any:
        page = await self.context.new_page()
        await page.set_viewport_size({"width": width, "height": height})
        page.on("pageerror", lambda exc: self.js_errors.append(str(exc)))  # tests check: none
        page.on("console", self._console)
        return page

    def _console(self, message: Any) -> None:
        # A Content-Security-Policy violation is a bug in the page, even if nothing else breaks.
        if message.type == "error" and "Content Security Policy" in message.text:
            self.js_errors.append(message.text)
        if message.type == "warning" and message.text.startswith("missing string:"):
            self.js_errors.append(message.text)  # a word not in enforcement/web/js/strings.js

    async def sign_in(self, page: Any, login: str) -> None:
        """Through the sign-in page, as a person would: pick the demo user."""
        await page.goto(f"{self.base}/")
        await page.click(f"[data-login='{login}']")
        await page.wait_for_url(lambda url: "/ui/signin" not in url)

    async def case_id(self, number: str) -> int:
        value: int = await self.api.app[POOL].fetchval(
            "SELECT id FROM enforcement_case WHERE case_number = $1", number)
        return value


async def _configure_simulators(sims: dict[str, Any]) -> None:
    async with aiohttp.ClientSession() as session:
        for name, sim in sims.items():
            config: dict[str, Any] = {"latency_median_ms": AGENCY_LATENCY_MS, "latency_sigma": 0.3, "seed": 7}
            if name == "banks":
                config["answer_delay_seconds"] = BANK_ANSWER_DELAY_SECONDS
            async with session.post(f"{sim.url}/_sim/config", json=config) as resp:
                assert resp.status == 200, await resp.text()


@pytest.fixture
async def make_workbench(browser: Any, make_api: Any,
                         simulators: dict[str, Any]) -> AsyncIterator[Callable[..., Awaitable[Workbench]]]:
    contexts: list[Any] = []

    async def factory(*, timezone_id: str = "Asia/Shanghai", **settings: Any) -> Workbench:
        await _configure_simulators(simulators)
        api = await make_api(**settings)
        context = await browser.new_context(locale="zh-CN", timezone_id=timezone_id)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Workbench(api, api.url("").rstrip("/"), context, simulators, [])

    yield factory
    for context in contexts:
        await context.close()


async def save_screenshot(page: Any, path: Path) -> None:
    """A full-page PNG; into docs/ it goes through pngquant when installed (README pictures stay
    small: the same page is about a third of the size)."""
    await page.screenshot(path=str(path), full_page=True)
    quantizer = shutil.which("pngquant")
    if quantizer and path.parent == REPO / "docs" / "screenshots":
        subprocess.run([quantizer, "--quality", "70-95", "--speed", "1", "--force", "--skip-if-larger",
                        "--output", str(path), str(path)], check=False, timeout=120)


def screenshot_dir(tmp_path: Path) -> Path:
    """docs/screenshots when WORKBENCH_SCREENSHOTS=1 (to refresh the README's pictures), else the
    test's own temporary folder."""
    if os.environ.get("WORKBENCH_SCREENSHOTS", "").strip() in ("1", "true", "yes"):
        target = REPO / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path
