"""Terminal tables with Chinese text, Beijing time, and the record labels: no raw key on screen."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from enforcement.commands.api_client import EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE, iso_date, refusal
from enforcement.commands.search import records_tables
from enforcement.commands.text_table import beijing_time, display_width, render
from enforcement.domain.assets import RECORD_TYPES
from enforcement.domain.record_labels import FIELD_LABELS, KIND_LABELS, field_label, value_label


def test_columns_align_by_display_width() -> None:
    lines = render(["姓名", "value"], [["张伟", "1"], ["Ann", "22"], ["欧阳娜娜", "333"]], right=(1,))
    ends = {display_width(line) for line in lines[2:]}
    assert len(ends) == 1  # every row ends in the same terminal cell
    assert display_width("张伟") == 4 and display_width("Ann") == 3


def test_times_are_beijing_time() -> None:
    assert beijing_time("2026-03-01T16:30:00+00:00") == "2026-03-02 00:30"
    assert beijing_time("2026-03-01T16:30:00+08:00", seconds=True) == "2026-03-01 16:30:00"
    assert beijing_time("2026-03-01") == "2026-03-01" and beijing_time(None) == "—"


def test_every_field_of_every_record_kind_has_labels() -> None:
    for kind, cls in RECORD_TYPES.items():
        assert kind in KIND_LABELS
        names = {f.name for f in dataclasses.fields(cls)}
        assert names <= set(FIELD_LABELS[kind]), (kind, names - set(FIELD_LABELS[kind]))
        for name in names:
            assert field_label(kind, name) != name and field_label(kind, name, "en") != name
    assert value_label("mortgaged", True) == "是" and value_label("seized", False, "en") == "no"
    assert value_label("status_codes", "KQ") == "查封、逾期未检验"


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
