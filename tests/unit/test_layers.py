"""The layering is a test: every import in ``enforcement/`` and ``connectors/`` follows the
whiteboard (``docs/whiteboard.toml``): arrows only point down, and the nevers hold."""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WHITEBOARD = tomllib.loads((ROOT / "docs" / "whiteboard.toml").read_text(encoding="utf-8"))
PARTS: dict[str, list[str]] = WHITEBOARD["parts"]
ARROWS: dict[str, list[str]] = WHITEBOARD["arrows"]
NEVERS: dict[str, list[str]] = {k: v for k, v in WHITEBOARD["nevers"].items() if k in PARTS}
ASYNCPG_ONLY_IN: list[str] = WHITEBOARD["nevers"]["asyncpg_only_in"]


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports (absolute, dotted)
    line: int


def _covers(prefix: str, module: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def part_of(module: str) -> str | None:
    """The part whose longest prefix covers ``module``."""
    best: tuple[int, str] | None = None
    for part, prefixes in PARTS.items():
        for prefix in prefixes:
            if _covers(prefix, module) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), part)
    return best[1] if best else None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports_of(path: Path) -> Iterator[Import]:
    """Every import of the file, at any depth (lazy and TYPE_CHECKING ones count too)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:  # ``from pkg import mod`` imports the module pkg.mod
                candidate = f"{target}.{alias.name}"
                yield Import(module, candidate if _is_module(candidate) else target, node.lineno)


def project_files() -> list[Path]:
    files: list[Path] = []
    for top in ("enforcement", "connectors"):
        files += [p for p in (ROOT / top).rglob("*.py") if "templates" not in p.parts]
    return sorted(files)


def problems_of(imp: Import) -> Iterator[str]:
    source = part_of(imp.module)
    if source is None:
        yield f"{imp.module}: belongs to no part of the whiteboard"
        return
    top = imp.target.split(".")[0]
    if top in ("enforcement", "connectors"):
        target = part_of(imp.target)
        if target is None:
            yield f"{imp.module}:{imp.line} imports {imp.target}, which belongs to no part"
        elif target != source and target not in ARROWS[source]:
            yield f"{imp.module}:{imp.line} ({source}) imports {imp.target} ({target}): no arrow {source} -> {target}"
    if top in NEVERS.get(source, []):
        yield f"{imp.module}:{imp.line} ({source}) imports {imp.target}: never"
    if top == "asyncpg" and not any(_covers(p, imp.module) for p in ASYNCPG_ONLY_IN):
        yield f"{imp.module}:{imp.line} imports asyncpg outside the stores, the kernel and the entry points"


def violations() -> list[str]:
    found: dict[str, None] = {}
    for path in project_files():
        for imp in imports_of(path):
            found.update(dict.fromkeys(problems_of(imp)))
    return list(found)


def test_every_import_follows_the_whiteboard() -> None:
    problems = violations()
    assert not problems, f"{len(problems)} imports against docs/whiteboard.toml:\n" + "\n".join(problems)


def test_every_arrow_names_a_part() -> None:
    assert set(ARROWS) == set(PARTS)
    for source, targets in ARROWS.items():
        assert set(targets) <= set(PARTS), source


@pytest.mark.parametrize(("importer", "imported", "allowed"), [
    ("enforcement.domain.subjects", "enforcement.kernel.settings", False),
    ("enforcement.cases.requery", "enforcement.searches.service", False),
    ("enforcement.cases.requery", "enforcement.searches.port", True),
    ("enforcement.api.auth", "enforcement.cases.registry", False),
    ("enforcement.searches.service", "enforcement.cases.registry", False),
    ("enforcement.kernel.settings", "enforcement.api.errors", False),
    ("connectors.banks.adapter", "enforcement.domain.subjects", False),
    ("connectors.banks.adapter", "connectors.sdk", True),
    ("enforcement.app", "enforcement.searches.service", True),
])
def test_the_rule_tells_a_wrong_arrow(importer: str, imported: str, allowed: bool) -> None:
    """The checker is not vacuous: it tells an arrow pointing up from one pointing down."""
    problems = list(problems_of(Import(importer, imported, 1)))
    assert (not problems) is allowed, problems


def test_asyncpg_outside_a_store_is_caught() -> None:
    assert list(problems_of(Import("enforcement.searches.service", "asyncpg", 1)))
    assert not list(problems_of(Import("enforcement.searches.store.tasks", "asyncpg", 1)))
