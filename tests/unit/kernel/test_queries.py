from __future__ import annotations

import re
from pathlib import Path

import pytest

from enforcement.kernel.migrate import discover
from enforcement.kernel.queries import SQL_DIR, load_queries, parse_blocks


def test_blocks_are_parsed_with_their_description() -> None:
    blocks = parse_blocks("-- one --\n-- $1 x\nSELECT $1;\n\n-- two --\n-- none\nSELECT 2\n")
    assert blocks == {"one": "SELECT $1", "two": "SELECT 2"}


def test_a_block_without_description_is_refused() -> None:
    with pytest.raises(ValueError, match="description"):
        parse_blocks("-- one --\nSELECT 1\n")


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        parse_blocks("-- a --\n-- d\nSELECT 1\n-- a --\n-- d\nSELECT 2\n")


def test_a_fragment_is_composed_into_each_statement_that_takes_it_in_and_is_no_statement() -> None:
    text = ("-- fragment rule --\n-- after a relation a\nb AS (SELECT x FROM a WHERE x > $1)\n\n"
            "-- one --\n-- $1 x\nWITH a AS (SELECT 1 AS x), {{rule}}\nSELECT * FROM b\n\n"
            "-- two --\n-- $1 x\nWITH a AS (SELECT 2 AS x), {{rule}}\nSELECT x FROM b;\n")
    assert parse_blocks(text) == {
        "one": "WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a WHERE x > $1)\nSELECT * FROM b",
        "two": "WITH a AS (SELECT 2 AS x), b AS (SELECT x FROM a WHERE x > $1)\nSELECT x FROM b",
    }


@pytest.mark.parametrize(("text", "refusal"), [
    ("-- one --\n-- d\nSELECT {{rule}}\n", "no fragment 'rule'"),  # not defined (in this file)
    ("-- fragment rule --\n-- d\n1\n-- one --\n-- d\nSELECT 2\n", "used by no statement"),
    ("-- fragment rule --\n-- d\n1\n-- fragment rule --\n-- d\n2\n-- one --\n-- d\nSELECT {{rule}}\n", "twice"),
    ("-- fragment rule --\n-- d\n1\n-- rule --\n-- d\nSELECT {{rule}}\n", "twice"),
    ("-- fragment a --\n-- d\n1\n-- fragment b --\n-- d\n{{a}}\n-- one --\n-- d\nSELECT {{b}}\n", "nest"),
    ("-- fragment rule --\n1\n-- one --\n-- d\nSELECT {{rule}}\n", "description"),
])
def test_a_fragment_undefined_unused_twice_nested_or_undescribed_is_refused(text: str, refusal: str) -> None:
    with pytest.raises(ValueError, match=refusal):
        parse_blocks(text)


def test_who_may_search_is_written_once_for_both_search_statements() -> None:
    queries = load_queries(SQL_DIR)
    rule = "actor.role = 'judge' AND c.judge_login = actor.login AND c.is_debtor"
    assert rule in queries["case_for_search_with_serial"] and rule in queries["case_for_search_as_user"]
    text = (SQL_DIR / "cases" / "store" / "sql" / "cases.sql").read_text(encoding="utf-8")
    assert text.count(rule) == 1 and text.count("{{case_and_serial_for_actor}}") == 2
    assert not any("{{" in sql for sql in queries.values())


def test_every_project_query_loads_and_numbers_its_parameters_in_order() -> None:
    queries = load_queries(SQL_DIR)
    assert "claim_tasks" in queries and "flush_outcomes" in queries
    for name, sql in queries.items():
        used = sorted({int(n) for n in re.findall(r"\$(\d+)", sql)})
        assert used == list(range(1, len(used) + 1)), f"{name} skips a parameter: {used}"


def test_migrations_are_numbered_without_gaps() -> None:
    numbers = [m.number for m in discover()]
    # Numbers are assigned per issue (docs: team brief), so a later number may land before an
    # earlier one: gaps are allowed while work is in flight, duplicates and disorder never.
    assert numbers[0] == 1
    assert numbers == sorted(set(numbers))
    assert all(Path(SQL_DIR).exists() for _ in numbers)
