"""The bulk-search CSV reader and the progress bar of ``enforcement batch``, without I/O."""

from __future__ import annotations

import pytest

from enforcement.commands.batch import CsvProblem, decode_csv, progress_bar, progress_text, read_subjects_csv


def test_a_csv_with_english_or_chinese_headers_becomes_search_requests() -> None:
    text = ("\ufeff案件ID,证件号码,姓名,主体类型,查询事由\n"
            "7,110101199003070014,张三,个人,\n"
            "\n"
            "8,91210102MA0T5K3L0X,沈阳某公司,单位,下落查找\n")
    rows = read_subjects_csv(text, fresh=True)
    assert rows == [
        {"case_id": 7, "subject": {"kind": "person", "id_number": "110101199003070014", "name": "张三"},
         "purpose": "财产调查", "force_fresh": True, "_line": 2},
        {"case_id": 8, "subject": {"kind": "organization", "id_number": "91210102MA0T5K3L0X", "name": "沈阳某公司"},
         "purpose": "下落查找", "force_fresh": True, "_line": 4},
    ]
    english = read_subjects_csv("case_id,id_number,name,force_fresh,date_from\n3,X,Y,yes,2024-01-01\n")
    assert english[0]["force_fresh"] is True and english[0]["date_from"] == "2024-01-01"


@pytest.mark.parametrize(("text", "says"), [
    ("", "empty"),
    ("case_id,name\n1,张三\n", "id_number"),
    ("case_id,id_number,name\nseven,1,张三\n", "line 2"),
    ("case_id,id_number,name,kind\n1,1,张三,alien\n", "line 2"),
    ("case_id,id_number,name\n", "no usable subject"),
])
def test_a_bad_file_is_refused_naming_the_line(text: str, says: str) -> None:
    with pytest.raises(CsvProblem, match=says):
        read_subjects_csv(text)


def test_progress_bar() -> None:
    assert progress_bar(0, 10, width=10) == "[..........]   0.0% 0/10"
    assert progress_bar(5, 10, width=10) == "[#####.....]  50.0% 5/10"
    assert progress_bar(10, 10, width=10) == "[##########] 100.0% 10/10"
    text = progress_text({"completed": 1, "total": 4, "tasks": {"succeeded": 6, "queued": 14}})
    assert text.endswith("6/20 agency answers · 1/4 searches done (14 queued, 6 succeeded)")


def test_the_bar_moves_with_agency_answers_before_any_search_ends() -> None:
    text = progress_text({"completed": 0, "total": 100,
                          "tasks": {"succeeded": 240, "waiting": 60, "running": 100, "queued": 100}})
    assert " 60.0% 300/500 agency answers · 0/100 searches done" in text


def test_gbk_and_bom_files_are_read_and_bad_rows_are_left_out_by_line() -> None:
    csv_text = "案件ID,证件号码,姓名\r\n1,110101199003077777,张三\r\nx,110101199003077777,李四\r\n"
    for data in (csv_text.encode("gbk"), csv_text.encode("gb18030"), csv_text.encode("utf-8-sig")):
        assert decode_csv(data) == csv_text
    with pytest.raises(CsvProblem, match="neither UTF-8 nor GBK"):
        decode_csv(b"\xff\xfe\x00\xd8\x00")
    problems: list[str] = []
    rows = read_subjects_csv(csv_text, problems=problems)
    assert [r["_line"] for r in rows] == [2]
    assert problems == ["line 3: case_id must be a number / 第3行：案件ID须为数字"]
