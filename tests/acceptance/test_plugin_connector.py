"""A sixth agency from outside: the real estate registry (不动产登记), a separate installable
package (examples/real_estate, module ``real_estate_connector``) registered only through the
``enforcement.connectors`` entry point, is discovered, verified by the conformance suite,
searched through the real service and merged into the dossier, with no change to the service.
"""

from __future__ import annotations

import uuid
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import jsonschema

from connectors.sdk.conformance import run_suite
from connectors.sdk.record_schemas import find_record_schema
from connectors.sdk.registry import ENTRY_POINT_GROUP, Registry
from enforcement.api.keys import POOL
from enforcement.seeds import CASES
from tests.acceptance.test_search_flow import case_id, search_body

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "real_estate_connector"
CASE_NUMBER, _, JUDGE, *_rest = CASES[0]
OWNER = CASES[0][-1][0]  # 赵建国: the simulated registry holds a flat of his


def test_the_package_is_discovered_through_its_entry_point_only(registry: Registry) -> None:
    (ep,) = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == "real_estate"]
    assert ep.value == f"{PACKAGE}:CONNECTOR"
    assert ep.dist is not None and ep.dist.name == "enforcement-connector-real-estate"
    spec = registry["real_estate"]
    assert spec.factory.__module__.startswith(PACKAGE)
    assert spec.manifest.package == PACKAGE and spec.manifest.search_category == "real_estate"
    # The service names neither the package nor its module anywhere: only the entry point links them.
    for folder in ("enforcement", "connectors"):
        for path in (ROOT / folder).rglob("*.py"):
            assert PACKAGE not in path.read_text(encoding="utf-8"), path
    assert PACKAGE not in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    # Its record schema is shipped in the package, not in the service's schemas/.
    assert not (ROOT / "schemas" / "records" / "real_estate.schema.json").exists()
    found = find_record_schema("real_estate", PACKAGE)
    assert found is not None and found[1] == f"{PACKAGE}/schemas/records/real_estate.schema.json"


async def test_the_package_passes_the_conformance_suite(registry: Registry) -> None:
    report = await run_suite(registry["real_estate"])
    assert report.ok, report.format()
    statuses = {r.rule.id: r.status for r in report.results}
    assert statuses["search.records_valid"] == statuses["errors.auth"] == "passed"
    assert statuses["deferred.lifecycle"] == "skipped"  # a sync agency


async def test_a_search_asks_the_registry_and_the_dossier_holds_the_property(make_api: Any) -> None:
    api = await make_api()
    cid = await case_id(api, CASE_NUMBER)
    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE, json=search_body(cid, OWNER))
    assert status == 202, body
    assert "real_estate" in {a["agency"] for a in body["agencies"]}

    view = await api.wait_search(body["id"], JUDGE)
    statuses = {a["agency"]: a["status"] for a in view["agencies"]}
    assert statuses["real_estate"] == "succeeded", view["agencies"]

    entries = view["dossier"]["sections"]["real_estate"]
    assert entries, "the simulated registry holds a flat of this debtor"
    schema, _ = find_record_schema("real_estate", PACKAGE) or ({}, "")
    for entry in entries:
        jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(entry["data"])
        assert entry["natural_key"] == entry["data"]["unit_number"]
        assert [p["agency"] for p in entry["provenance"]] == ["real_estate"]
    assert view["dossier"]["totals"]["real_estate"]["count"] == len(entries)

    # Stored like any agency's answer: raw for audit, normalized records with provenance.
    rows = await api.app[POOL].fetch(
        """SELECT r.kind, r.natural_key FROM asset_record r JOIN agency_answer a ON a.id = r.answer_id
           WHERE a.search_id = $1 AND a.agency = 'real_estate'""", uuid.UUID(body["id"]))
    assert {(r["kind"], r["natural_key"]) for r in rows} == {("real_estate", e["natural_key"]) for e in entries}
    raw = await api.app[POOL].fetchval(
        "SELECT raw FROM agency_answer WHERE search_id = $1 AND agency = 'real_estate'", uuid.UUID(body["id"]))
    assert raw is not None and "BDCXX" in str(raw)


async def test_an_organization_without_property_gets_an_explicit_empty_answer(make_api: Any) -> None:
    number, _, judge, *_ = CASES[2]
    company = CASES[2][-1][0]  # 沈阳鑫盛商贸有限公司: the registry holds nothing of it
    api = await make_api()
    cid = await case_id(api, number)
    status, body = await api.request("POST", "/api/v1/searches", login=judge, json=search_body(cid, company))
    assert status == 202, body
    view = await api.wait_search(body["id"], judge)
    assert {a["agency"]: a["status"] for a in view["agencies"]}["real_estate"] == "succeeded"
    assert "real_estate" not in view["dossier"]["sections"]
    answers = await api.app[POOL].fetchval(
        "SELECT count(*) FROM agency_answer WHERE search_id = $1 AND agency = 'real_estate'", uuid.UUID(body["id"]))
    assert answers == 1  # 查无信息 is stored: the evidence that the registry was asked
