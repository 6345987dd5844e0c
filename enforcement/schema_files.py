"""The JSON Schemas the service reads at run time (a pushed case, a connector's manifest, the
built-in record kinds), found inside the installed package.

The files live in the repository's top-level ``schemas/``, the contract readers look for;
``enforcement/schemas`` is a symlink to that folder, so in a git checkout both names are the
same files, and a built wheel carries real copies as package data of ``enforcement``
(``pyproject.toml``). Code reads them only through here, never by a path relative to the
repository, so an installed wheel needs no checkout (tests/integration/test_wheel.py).
"""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

SCHEMAS: Traversable = resources.files("enforcement").joinpath("schemas")


def schema_file(*parts: str) -> Traversable:
    """``schema_file("records", "vehicle.schema.json")``: the shipped file (it may not exist)."""
    return SCHEMAS.joinpath(*parts)


def load_schema(*parts: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_file(*parts).read_text(encoding="utf-8"))
    return schema


__all__ = ["SCHEMAS", "load_schema", "schema_file"]
