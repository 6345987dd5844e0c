"""``enforcement connectors new <name>``: a complete, working connector package from templates.

The package it writes (``<dir>/<name>/``) is installable on its own (``pip install -e``) and
registers itself under the ``enforcement.connectors`` entry point; it holds a manifest, a wire
client, an adapter, a record class with its JSON Schema, a simulator built with the kit, and
tests that run the conformance suite over it. It passes the suite as created.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from connectors.sdk.errors import ConfigurationError

NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
DEFAULT_PORT = 9199


@dataclass(frozen=True, slots=True)
class ScaffoldOptions:
    name: str
    agency: str = "某协助执行单位"
    display_zh: str = ""
    display_en: str = ""
    port: int = DEFAULT_PORT

    def values(self) -> dict[str, str]:
        camel = "".join(part.capitalize() for part in self.name.split("_"))
        dashed = self.name.replace("_", "-")
        return {
            "name": self.name,
            "Camel": camel,
            "package": f"{self.name}_connector",
            "dist": f"enforcement-connector-{dashed}",
            "kind": f"{self.name}_asset",
            "Record": f"{camel}Asset",
            "agency": self.agency,
            "display_zh": self.display_zh or f"{self.agency}财产查询",
            "display_en": self.display_en or f"{camel} assets",
            "host": f"zdz-{dashed}.court.internal",
            "port": str(self.port),
        }


def _target(relative: str, values: dict[str, str]) -> str:
    """Where a template goes: ``package/`` becomes the package, ``kind.`` the record kind."""
    path = relative.removesuffix(".tmpl")
    if path.startswith("package/"):
        path = values["package"] + path[len("package") :]
    if path.endswith("kind.schema.json"):
        path = path[: -len("kind.schema.json")] + f"{values['kind']}.schema.json"
    if path.startswith("tests/test_"):
        path = f"tests/test_{values['name']}_" + path[len("tests/test_") :]
    return path


def _templates(node: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            found += _templates(child, rel + "/")
        elif child.name.endswith(".tmpl"):
            found.append((rel, child))
    return found


def render(options: ScaffoldOptions) -> dict[str, str]:
    """Relative path -> file text, without touching the disk."""
    if not NAME.match(options.name):
        raise ConfigurationError(
            f"connector name {options.name!r} must match {NAME.pattern} (lower case, digits, _)",
            code="bad_name",
        )
    values = options.values()
    root = resources.files("connectors.sdk.scaffold").joinpath("templates")
    return {
        _target(rel, values): string.Template(node.read_text(encoding="utf-8")).substitute(values)
        for rel, node in _templates(root)
    }


def generate(options: ScaffoldOptions, directory: Path) -> Path:
    """Write the package into ``directory/<name>/``; refuse to overwrite an existing folder."""
    files = render(options)
    root = directory / options.name
    if root.exists():
        raise ConfigurationError(f"{root} already exists; choose another --dir or name", code="exists")
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


__all__ = ["DEFAULT_PORT", "ScaffoldOptions", "generate", "render"]
