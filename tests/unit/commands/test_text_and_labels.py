"""Terminal tables with Chinese text, Beijing time, and the record labels: no raw key on screen.

The words are the record kinds' own (their JSON Schemas, ``connectors.sdk.record_labels``), the
same the workbench shows; every kind of every registered connector (the plug-in real estate and
the securities holdings included) is printed here with a value in every field."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from connectors.sdk.record_labels import kind_labels
from connectors.sdk.record_schemas import find_record_schema
from connectors.sdk.registry import Registry
from enforcement.cases.review import new_property_message
from enforcement.commands.api_client import EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE, iso_date, refusal
from enforcement.commands.search import records_tables
from enforcement.commands.text_table import beijing_time, display_width, render

REGISTRY = Registry.discover()
KINDS = sorted({(kind, REGISTRY[name].manifest.package) for name in REGISTRY
                for kind in REGISTRY[name].manifest.record_kinds})


def test_columns_align_by_display_width() -> None:
    lines = render(["姓名", "value"], [["张伟", "1"], ["Ann", "22"], ["欧阳娜娜", "333"]], right=(1,))
    ends = {display_width(line) for line in lines[2:]}
    assert len(ends) == 1  # every row ends in the same terminal cell
    assert display_width("张伟") == 4 and display_width("Ann") == 3


def test_times_are_beijing_time() -> None:
    assert beijing_time("2026-03-01T16:30:00+00:00") == "2026-03-02 00:30"
    assert beijing_time("2026-03-01T16:30:00+08:00", seconds=True) == "2026-03-01 16:30:00"
    assert beijing_time("2026-03-01") == "2026-03-01" and beijing_time(None) == "—"


def _sample(prop: dict[str, Any]) -> Any:
    """A value for a schema property: a code it has words for, a boolean, an amount, a time..."""
    codes = list(prop.get("x-values") or {})
    types = prop.get("type") if isinstance(prop.get("type"), list) else [prop.get("type")]
    if prop.get("x-format") == "letters":
        return "".join(codes[-2:])
    if codes:
        return int(codes[0]) if "integer" in types else codes[0]
    fmt = prop.get("x-format")
    if fmt in ("money", "area"):
        return "1234.50"
    if fmt == "datetime":
        return "2026-03-01T16:30:00+00:00"
    if fmt == "date":
        return "2026-03-01"
    if "boolean" in types:
        return True
    if "integer" in types:
        return 3
    items = prop.get("items") or {}
    if "array" in types and items.get("properties"):
        return [{name: _sample(sub) for name, sub in items["properties"].items()}]
    if "array" in types:
        return ["养老保险"]
    return "值"


def _one_record_view(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"agencies": [{"agency": "a", "name": {"zh": "某单位"}}], "dossier": {"sections": {kind: [{
        "is_new": False, "provenance": [{"agency": "a", "answered_at": "2026-03-01T16:30:00+00:00"}], "data": data}]}}}


@pytest.mark.parametrize(("kind", "package"), KINDS)
def test_every_kind_prints_words_never_a_raw_key(kind: str, package: str) -> None:
    found = find_record_schema(kind, package)
    assert found is not None, kind
    props = found[0]["properties"]
    data = {name: _sample(prop) for name, prop in props.items()}
    data.update({"currency": "CNY"} if "currency" in data else {})
    labels = kind_labels(kind)  # found by itself, the plug-in's own schema for real_estate
    assert labels.zh != kind and labels.fields, kind
    # one record at a time, a field a line: "    <heading>  <value>"
    text = "\n".join(records_tables(_one_record_view(kind, data), columns=1))
    assert f"{labels.zh}（1 项" in text
    shown = {line.split()[0]: line.split(maxsplit=1)[1] for line in text.splitlines()
             if line.startswith("    ") and len(line.split()) > 1}
    for f in labels.fields:
        assert f.zh != f.name and f.zh in shown, (kind, f.name)
        value, cell = data[f.name], shown[f.zh]
        if isinstance(value, bool):
            assert cell == "是", (kind, f.name, cell)
        elif f.format == "letters":
            assert cell == "、".join(f.values[c]["zh"] for c in value), (kind, f.name, cell)  # type: ignore[index]
        elif f.values:
            assert cell == f.values[str(value)]["zh"], (kind, f.name, cell)
        elif f.format == "money":
            assert cell == "¥1,234.50", (kind, f.name, cell)
        elif f.format == "datetime":
            assert cell == "2026-03-02 00:30", (kind, f.name, cell)  # Beijing time
    for raw in (*props, "True", "False", "true", "false", "{", "'"):
        assert raw not in text.replace(labels.zh, ""), (kind, raw)


def test_values_read_as_the_workbench_reads_them() -> None:
    hotel = {"hotel_name": "如家", "star_rating": 0, "address": "沈阳", "checked_in_at": "2026-03-01T16:30:00Z",
             "checked_out_at": None, "room": "301"}
    text = "\n".join(records_tables(_one_record_view("hotel_stay", hotel), columns=400))
    assert "非星级" in text and " 0 " not in text and "2026-03-02 00:30" in text
    estate = {"unit_number": "210102", "seized": False, "mortgaged": True, "mortgage_amount": "1344903.00",
              "property_type": "building"}
    text = "\n".join(records_tables(_one_record_view("real_estate", estate), columns=400))
    assert "不动产（1 项" in text and "查封" in text and "否" in text and "¥1,344,903.00" in text
    vehicle = {"status_codes": "KQ", "plate_type": "02"}
    text = "\n".join(records_tables(_one_record_view("vehicle", vehicle), columns=400))
    assert "查封、逾期未检验" in text and "小型汽车" in text


def test_the_new_property_alert_names_kinds_by_their_schema() -> None:
    message = new_property_message([{"kind": "real_estate"}, {"kind": "vehicle"}, {"kind": "vehicle"},
                                    {"kind": "securities_holding"}])
    assert message["zh"] == "终本复查发现新的财产：不动产1项、证券账户与持有证券1项、机动车2项，可申请恢复执行"
    assert "Real estate (1), Securities accounts and holdings (1), Vehicles (2)" in message["en"]


def test_the_records_table_shows_labels_not_keys() -> None:
    view = {"agencies": [{"agency": "vehicles", "name": {"zh": "公安交管"}}], "dossier": {"sections": {"vehicle": [{
        "is_new": True, "provenance": [{"agency": "vehicles", "answered_at": "2026-03-01T16:30:00+00:00"}],
        "data": {"plate_number": "辽A12345", "plate_type": "02", "vin": "LSVAU2180N2183294", "engine_number": "E1",
                 "make_model": "大众", "colour": "白", "use": "非营运", "first_registered_on": "2020-01-02",
                 "status_codes": "A", "mortgaged": True, "seizure_count": 0}}]}}}
    text = "\n".join(records_tables(view, columns=400))
    assert "号牌" in text and "小型汽车" in text and "抵押" in text and "2026-03-02 00:30" in text
    for raw in ("plate_number", "mortgaged", "True", "true", "vehicle "):
        assert raw not in text, raw
    narrow = "\n".join(records_tables(view, columns=60))
    assert "    号牌" in narrow and max(display_width(x) for x in narrow.splitlines()) <= 60


def test_refusals_map_to_exit_codes() -> None:
    body = {"error": {"code": "token_expired", "message": {"zh": "令牌已过期", "en": "The token expired."}}}
    assert refusal(401, body).exit_code == EXIT_REFUSED and "令牌已过期" in str(refusal(401, body))
    assert refusal(422, {}).exit_code == EXIT_USAGE and refusal(503, {}).exit_code == EXIT_UNREACHABLE
    with pytest.raises(argparse.ArgumentTypeError, match="YYYY-MM-DD"):
        iso_date("2026-13-01")
