"""schemas/case.schema.json is the contract of a pushed case; openapi.yaml carries a copy
(CaseInput) because the OpenAPI checker resolves only local references. They must not drift,
and structural refusals must name the field and the rule, never the value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from enforcement.cases.routes.cases import CASE_SCHEMA_PATH, check_structure
from tests.openapi_check import spec

META = {"$schema", "$id", "title", "description", "$defs", "examples"}


def normalized(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: normalized(v) for k, v in node.items() if k not in META}
        if "$ref" in out:
            out["$ref"] = out["$ref"].replace("#/$defs/party", "CaseParty").replace("#/$defs/amount", "CaseAmount") \
                .replace("#/$defs/debtor", "CaseDebtor") \
                .replace("#/$defs/responsible_person", "CaseResponsiblePerson") \
                .replace("#/components/schemas/", "")
        return out
    if isinstance(node, list):
        return [normalized(v) for v in node]
    return node


def test_openapi_case_input_is_the_case_schema() -> None:
    schema = json.loads(Path(CASE_SCHEMA_PATH).read_text(encoding="utf-8"))
    components = spec()["components"]["schemas"]
    assert normalized(components["CaseInput"]) == normalized(schema)
    assert normalized(components["CaseParty"]) == normalized(schema["$defs"]["party"])
    assert normalized(components["CaseAmount"]) == normalized(schema["$defs"]["amount"])
    assert normalized(components["CaseDebtor"]) == normalized(schema["$defs"]["debtor"])
    assert normalized(components["CaseResponsiblePerson"]) == normalized(schema["$defs"]["responsible_person"])


def good() -> dict[str, Any]:
    return {"case_number": "（2026）辽0102执1号", "court_code": "辽0102", "amount_to_enforce": "1.00",
            "filed_on": "2026-01-05", "applicant": {"kind": "person", "id_number": "210102197805141357", "name": "甲"},
            "debtors": [{"kind": "person", "id_number": "210102197805141357", "name": "赵建国"}]}


def test_a_good_case_passes() -> None:
    assert check_structure(good()) is None


@pytest.mark.parametrize(("mutate", "code", "field"), [
    (lambda b: b.pop("filed_on"), "missing_field", "filed_on"),
    (lambda b: b["debtors"][0].pop("name"), "missing_field", "debtors/0/name"),
    (lambda b: b.update(debtors="赵建国"), "wrong_type", "debtors"),
    (lambda b: b["debtors"][0].update(kind="alien"), "not_allowed", "debtors/0/kind"),
    (lambda b: b["debtors"][0].update(id_number="210102197805141357XYZ"), "schema_violation", "debtors/0/id_number"),
    (lambda b: b.update(赵建国=1), "unknown_field", "(case)"),
    (lambda b: b.update(filed_on="5 Jan 2026"), "schema_violation", "filed_on"),
    (lambda b: b["debtors"][0].update(responsible_persons=[{"name": "赵建国", "id_number": "210102197805141357",
                                                             "role": "董事"}]),
     "not_allowed", "debtors/0/responsible_persons/0/role"),
    (lambda b: b["applicant"].update(responsible_persons=[]), "unknown_field", "applicant"),
])
def test_refusals_name_field_and_rule_but_not_the_value(mutate: Any, code: str, field: str) -> None:
    body = good()
    mutate(body)
    problem = check_structure(body)
    assert problem is not None
    assert (problem[0], problem[1]) == (code, field)
    text = " ".join(problem)
    assert "210102197805141357" not in text and "赵建国" not in text
