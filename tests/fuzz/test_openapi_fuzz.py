"""No input reaches a 500, and every answer is the one the document describes: schemathesis
drives every operation of ``schemas/openapi.yaml`` against the running app over real HTTP, with
valid and invalid data, in four runs:

- as the caller each operation is chiefly for (the court's case system pushing cases and events,
  a supervisor reading the audit trail, indicators and court-wide lists, a judge the rest), with
  the ids of real things in the paths (a case, a completed search, a batch, an alert) so that
  the handlers behind the permission checks are reached: the document's examples, boundary
  values (the coverage phase) and random data;
- as each of the three (judge, supervisor, case system), the same way without boundary values;
- as a judge and a case system on the operations with path ids, the ids generated (huge,
  negative, not numbers);
- with no token (or a generated one).

Checks on every response: not a 5xx; status code, content type, headers and body as documented.
Generated strings, integers and numbers are mixed with ``HOSTILE`` values. Deterministic (fixed
seed, no example database) and bounded: ``MAX_EXAMPLES`` random cases per operation in the first
run, ``LIGHT_EXAMPLES`` in the others, besides the examples and boundary values.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.conftest import CASE_SYSTEM, JUDGE, SUPERVISOR, LiveApp
from tests.openapi_check import SPEC_PATH

MAX_EXAMPLES = 10
LIGHT_EXAMPLES = 4
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]

# Values that have broken services like this one, mixed into generated strings, integers and
# numbers (where the document's types allow them, and as invalid data where they do not). Lone
# surrogates cannot be given here (schemathesis checks the values as UTF-8): the hostile-body
# tests send those.
HOSTILE = {
    "strings": ["\x00", "a\x00b", "\u2028", "１２３", "1_0", " 1", "٣", "9" * 40, "-0", "0x10", "\u202e", "%00",
                "../", "'; --", "\u3000"],
    "integers": [2**63, 2**63 - 1, -(2**63) - 1, 2**64 + 1, 10**30, -(10**30), 0, -1],
    "numbers": [1e308, -1e308, 5e-324, 10**30],
}


def _config(*, max_examples: int, coverage: bool) -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "seed": 14,
        "dictionaries": {name: {"values": values} for name, values in HOSTILE.items()},
        "generation": {"mode": "all", "max-examples": max_examples, "database": "none", "deterministic": True,
                       "dictionaries": {"string": {"dictionary": "strings", "probability": 0.25},
                                        "integer": {"dictionary": "integers", "probability": 0.25},
                                        "number": {"dictionary": "numbers", "probability": 0.25}}},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": coverage}, "fuzzing": {"enabled": True},
                   "stateful": {"enabled": False}},
        "request-timeout": 20,
    })


SCHEMA = schemathesis.openapi.from_path(SPEC_PATH, config=_config(max_examples=MAX_EXAMPLES, coverage=True))
LIGHT = schemathesis.openapi.from_path(SPEC_PATH, config=_config(max_examples=LIGHT_EXAMPLES, coverage=False))
WITH_PATH_IDS = LIGHT.include(path_regex=r"\{")


@schemathesis.serializer("application/x-ndjson")
def ndjson_body(_ctx: Any, value: Any) -> bytes:
    """An NDJSON body is documented as a string: sent as it is (any other value as one JSON line)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")


def _call(case: schemathesis.Case, live: LiveApp, who: str | None) -> None:
    case.call_and_validate(base_url=live.base_url, headers=live.headers(who), checks=CHECKS)


# Who each operation is chiefly for (a judge for the others).
CHIEF_CALLER = {
    "POST /api/v1/cases": CASE_SYSTEM, "POST /api/v1/cases:import": CASE_SYSTEM,
    "POST /api/v1/cases:import-events": CASE_SYSTEM, "POST /api/v1/cases/{case_id}/events": CASE_SYSTEM,
    "GET /api/v1/audit": SUPERVISOR, "GET /api/v1/indicators": SUPERVISOR,
    "GET /api/v1/indicators/{code}/cases": SUPERVISOR, "GET /api/v1/cases": SUPERVISOR,
}


def _real_ids(case: schemathesis.Case, live: LiveApp) -> None:
    for name in case.path_parameters or {}:
        case.path_parameters[name] = live.ids[name]


@SCHEMA.parametrize()
def test_every_operation(case: schemathesis.Case, live: LiveApp) -> None:
    _real_ids(case, live)
    _call(case, live, CHIEF_CALLER.get(case.operation.label, JUDGE))


@pytest.mark.parametrize("who", [JUDGE, SUPERVISOR, CASE_SYSTEM])
@LIGHT.parametrize()
def test_every_operation_as_each_caller(case: schemathesis.Case, who: str, live: LiveApp) -> None:
    _real_ids(case, live)
    _call(case, live, who)


@pytest.mark.parametrize("who", [JUDGE, CASE_SYSTEM])
@WITH_PATH_IDS.parametrize()
def test_generated_path_ids(case: schemathesis.Case, who: str, live: LiveApp) -> None:
    _call(case, live, who)


@LIGHT.parametrize()
def test_without_a_token(case: schemathesis.Case, live: LiveApp) -> None:
    _call(case, live, None)
