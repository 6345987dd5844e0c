"""The one rule for tests that need a program the Python install does not bring (``promtool``,
``chromium``, ``pg_dump`` ...): found, the test runs; missing, it SKIPS locally with one line
saying how to install it, and FAILS in CI (``CI`` set to anything but 0/false/no), where
``.ci/run`` installs everything.

pytest's ``-ra`` summary folds every test that lacks the same program into one line
(``SKIPPED [12] tests/system_tools.py: chromium is not installed ...``), even when a fixture
skipped it (pytest would name each test's own line): tests/conftest.py imports the report hook
below.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from typing import Any

import pytest

_REASONS: set[str] = set()  # skip reasons raised by unavailable(), to fold in the summary


@dataclass(frozen=True)
class Tool:
    name: str          # what the tests call it
    commands: tuple[str, ...]  # executables to look for on the PATH, first found wins
    install: str       # how to get it, as one short instruction
    env: str = ""      # a variable that names the executable explicitly (wins over the PATH)


PROMTOOL = Tool("promtool", ("promtool",), "apt-get install prometheus (Debian's package brings promtool)",
                env="PROMTOOL")
CHROMIUM = Tool("chromium", ("chromium", "chromium-browser"), "apt-get install chromium, or set CHROMIUM_PATH",
                env="CHROMIUM_PATH")
MAKE = Tool("make", ("make",), "apt-get install make")
REDIS = Tool("redis-server", ("redis-server",), "apt-get install redis-server")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def find(tool: Tool) -> str | None:
    """The executable's path, or None."""
    if tool.env:
        explicit = os.environ.get(tool.env, "")
        if explicit:
            return explicit if os.path.exists(explicit) else None
    for command in tool.commands:
        found = shutil.which(command)
        if found:
            return found
    return None


def unavailable(what: str, install: str) -> None:
    """Skip locally, fail in CI; ``what`` says what is missing, ``install`` how to get it."""
    if in_ci():
        pytest.fail(f"{what}, and CI must run these tests (CI={os.environ.get('CI')}): {install}. "
                    ".ci/run installs it before `make test`.", pytrace=False)
    reason = f"{what}; to run these tests: {install}"
    _REASONS.add(reason)
    pytest.skip(reason)


def require(tool: Tool) -> str:
    """The tool's path; or skip (locally) / fail (CI) with how to install it."""
    path = find(tool)
    if path is None:
        unavailable(f"{tool.name} is not installed", tool.install)
    assert path is not None
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """One summary line per missing program: our skips all get this file as their location."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and isinstance(report.longrepr, tuple):
        _path, _line, message = report.longrepr
        if message.removeprefix("Skipped: ") in _REASONS:
            report.longrepr = ("tests/system_tools.py", None, message)


__all__ = ["CHROMIUM", "MAKE", "PROMTOOL", "REDIS", "Tool", "find", "in_ci", "pytest_runtest_makereport", "require",
           "unavailable"]
