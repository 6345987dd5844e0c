"""The conformance suite rejects deliberately broken connectors (tests/conformance/broken/, one
per rule), each with a message that names the rule, says what went wrong and how to fix it."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest

from connectors.banks import BanksConnector
from connectors.sdk import TransientError
from connectors.sdk.conformance import ORDER, rules_named, run_rule
from tests.conformance import broken
from tests.conformance.broken._base import BANKS, spec

MODULES = sorted(m.name for m in pkgutil.iter_modules(broken.__path__) if not m.name.startswith("_"))


def load(name: str) -> ModuleType:
    return importlib.import_module(f"{broken.__name__}.{name}")


def test_every_rule_has_a_broken_connector() -> None:
    assert sorted(load(name).EXPECTED[0] for name in MODULES) == sorted(ORDER)


@pytest.mark.parametrize("name", MODULES)
async def test_a_broken_connector_fails_its_rule_with_the_expected_message(name: str) -> None:
    module = load(name)
    rule_id, says = module.EXPECTED
    (rule,) = rules_named([rule_id])
    result = await run_rule(module.CONNECTOR, rule)
    assert result.status == "failed", f"{name} passed {rule_id}"
    assert result.message.startswith(f"rule {rule_id} failed: "), result.message
    assert says in result.message, result.message
    what, _, fix = result.message.partition("; how to fix: ")
    assert what and fix.strip(), result.message


class TimeoutUnnamed(BanksConnector):
    """Times out in time, but calls the timeout a connection failure."""

    async def check(self) -> None:
        try:
            await super().check()
        except TransientError as exc:
            raise TransientError(exc.message, code="connection" if exc.code == "timeout" else exc.code) from exc


async def test_a_timeout_must_say_so_in_its_code() -> None:
    (rule,) = rules_named(["timeout.honoured"])
    result = await run_rule(spec(BANKS, factory=TimeoutUnnamed), rule)
    assert result.status == "failed"
    assert "raised TransientError with code 'connection', not 'timeout'" in result.message, result.message
