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
