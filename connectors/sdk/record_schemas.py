"""Where a record kind's JSON Schema lives.

A connector from outside the project ships the schemas of the record kinds it produces inside
its own package, as ``schemas/records/<kind>.schema.json``; the built-in kinds live in the
project's ``schemas/records/`` (shipped inside the ``enforcement`` package:
``enforcement/schema_files.py``). The package's own schema is looked up first, so a connector
package is complete on its own and never needs a change to this repository.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from enforcement.schema_files import schema_file

PROJECT_RECORD_SCHEMAS = schema_file("records")


def schema_file_name(kind: str) -> str:
    return f"{kind}.schema.json"


def find_record_schema(kind: str, package: str = "") -> tuple[dict[str, Any], str] | None:
    """(schema, where) for ``kind``: the package's ``schemas/records/`` first, then the
    project's; None when neither has it."""
    name = schema_file_name(kind)
    if package:
        try:
            candidate = resources.files(package).joinpath("schemas", "records", name)
            if candidate.is_file():
                schema: dict[str, Any] = json.loads(candidate.read_text(encoding="utf-8"))
                return schema, f"{package}/schemas/records/{name}"
        except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
            pass
    path = PROJECT_RECORD_SCHEMAS.joinpath(name)
    if path.is_file():
        project_schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return project_schema, f"schemas/records/{name}"
    return None


__all__ = ["PROJECT_RECORD_SCHEMAS", "find_record_schema", "schema_file_name"]
