"""Every record kind of every registered connector (the plug-in real estate included) has words in
Chinese and English for itself, each field, each item field and each coded value: nothing reaches
a person as a raw key or ``true``/``false``."""

from __future__ import annotations

import pytest

from connectors.sdk.record_labels import FieldLabels, display_value, kind_labels, missing_labels
from connectors.sdk.record_schemas import find_record_schema
from connectors.sdk.registry import Registry

REGISTRY = Registry.discover()
KINDS = sorted({(kind, REGISTRY[name].manifest.package) for name in REGISTRY
                for kind in REGISTRY[name].manifest.record_kinds})


def test_the_plug_in_real_estate_is_among_the_kinds_checked() -> None:
    assert "real_estate" in {kind for kind, _ in KINDS}
    assert {"bank_account", "vehicle", "employment", "hotel_stay"} <= {kind for kind, _ in KINDS}


@pytest.mark.parametrize(("kind", "package"), KINDS)
def test_every_field_of_every_kind_has_words_in_both_languages(kind: str, package: str) -> None:
    found = find_record_schema(kind, package)
    assert found is not None, kind
    assert missing_labels(found[0]) == []
    labels = kind_labels(kind, package)
    assert labels.zh != kind and labels.en != kind
    for f in labels.fields:
        assert f.zh != f.name and f.en != f.name, (kind, f.name)


def test_a_field_without_words_is_named() -> None:
    schema = {"x-label": {"zh": "不动产", "en": "Real estate"},
              "properties": {"seized": {"type": "boolean", "x-label": {"zh": "查封"}},
                             "kind": {"enum": ["parcel"], "x-label": {"zh": "类型", "en": "Type"}},
                             "rows": {"type": "array", "items": {"properties": {"x": {"type": "string"}}},
                                      "x-label": {"zh": "行", "en": "Rows"}}}}
    assert missing_labels(schema) == ["seized: x-label.en", "kind: x-values.parcel.zh",
                                      "kind: x-values.parcel.en", "rows.x: x-label.zh", "rows.x: x-label.en"]
    assert missing_labels({"properties": {}}) == ["(kind): x-label.zh", "(kind): x-label.en"]


def test_values_read_as_words() -> None:
    estate = kind_labels("real_estate", "real_estate_connector")
    assert estate.label("zh") == "不动产" and estate.label("en") == "Real estate"
    seized = estate.field("seized")
    assert seized is not None and seized.label("en") == "Seized"
    assert display_value(seized, False, "zh") == "否" and display_value(seized, True, "en") == "Yes"
    assert display_value(estate.field("property_type"), "building", "en") == "Building with its land"
    assert display_value(estate.field("mortgage_amount"), "1344903.00", "zh") == "¥1,344,903.00"
    assert display_value(estate.field("area_sqm"), "89.50") == "89.50 m²"
    assert display_value(estate.field("share"), None) == "—"
    assert display_value(FieldLabels("x", "x", "x"), "plain") == "plain"
