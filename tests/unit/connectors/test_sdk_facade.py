"""``connectors.sdk`` is the one door a connector uses: its ``__all__`` is sorted and complete,
and no connector (in the repo, the example plug-in, or one the scaffold writes) imports the
service (``enforcement``) directly."""

from __future__ import annotations

import ast
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

import connectors.sdk as sdk
from connectors.sdk.scaffold import ScaffoldOptions, render

ROOT = Path(__file__).resolve().parents[3]
FACADE = ROOT / "connectors" / "sdk" / "__init__.py"


def _isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions, each A-Z."""
    if name.isupper():
        return 0, name
    return (1 if name[0].isupper() else 2), name


def _defined_names(tree: ast.Module) -> set[str]:
    """The public names the facade's own top level binds (imports, assignments, defs)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


def test_all_is_sorted() -> None:
    assert sdk.__all__ == sorted(sdk.__all__, key=_isort_key)
    assert len(set(sdk.__all__)) == len(sdk.__all__), "a name is listed twice"


def test_all_is_complete() -> None:
    """Every public name the facade binds is exported, and every exported name exists."""
    defined = _defined_names(ast.parse(FACADE.read_text(encoding="utf-8")))
    assert sorted(defined - set(sdk.__all__)) == [], "bound in connectors/sdk/__init__.py but not in __all__"
    assert sorted(n for n in sdk.__all__ if not hasattr(sdk, n)) == [], "in __all__ but not defined"
    assert sorted(set(sdk.__all__) - defined) == [], "in __all__ but not bound by the facade itself"
    assert not [n for n in sdk.__all__ if isinstance(getattr(sdk, n), types.ModuleType)], "export names, not modules"


def test_the_facade_exports_what_connectors_need_from_the_domain() -> None:
    from enforcement.domain.assets import AssetRecord
    from enforcement.domain.errors import InvalidIdentifier
    from enforcement.domain.subjects import Subject

    assert sdk.Subject is Subject
    assert sdk.AssetRecord is AssetRecord
    assert sdk.InvalidIdentifier is InvalidIdentifier


# --- connectors import only connectors.sdk -------------------------------------------------


def connector_files() -> list[Path]:
    """Every module of an agency connector (``connectors/<agency>/``) and of the examples."""
    files = [p for p in (ROOT / "connectors").rglob("*.py") if p.relative_to(ROOT / "connectors").parts[0] != "sdk"]
    files = [p for p in files if p != ROOT / "connectors" / "__init__.py"]
    return sorted(files + list((ROOT / "examples").rglob("*.py")))


def imported_modules(source: str) -> Iterator[tuple[int, str]]:
    """(line, module) of every absolute import in ``source``, at any depth."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            yield node.lineno, node.module


def service_imports(source: str) -> list[str]:
    return [f"{line}: {module}" for line, module in imported_modules(source) if module.split(".")[0] == "enforcement"]


def names_taken_from_the_facade(source: str) -> Iterator[str]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "connectors.sdk":
            yield from (a.name for a in node.names)


def test_the_scan_sees_every_agency() -> None:
    agencies = {p.relative_to(ROOT).parts[1] for p in connector_files() if p.parts[-3] == "connectors"}
    assert {"banks", "exit_entry", "hotels", "securities", "social_insurance", "vehicles"} <= agencies
    assert any("real_estate_connector" in p.parts for p in connector_files())


def test_the_scan_tells_a_service_import() -> None:
    """Not vacuous: a direct, a nested and a plain import of the service are all caught."""
    source = "from enforcement.domain.subjects import Subject\ndef f():\n    import enforcement.kernel\n"
    assert service_imports(source) == ["1: enforcement.domain.subjects", "3: enforcement.kernel"]
    assert service_imports("from connectors.sdk import Subject\n") == []


@pytest.mark.parametrize("path", connector_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_connector_imports_the_service(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert service_imports(source) == [], "import it from connectors.sdk (add it to the facade if missing)"
    assert sorted(set(names_taken_from_the_facade(source)) - set(sdk.__all__)) == []


@pytest.mark.parametrize("controls", [(), ("seal", "renew", "release")])
def test_a_scaffolded_connector_imports_only_the_sdk(controls: tuple[str, ...]) -> None:
    files = render(ScaffoldOptions(name="probe", controls=controls))
    modules = {name: text for name, text in files.items() if name.endswith(".py")}
    assert modules
    for name, text in modules.items():
        assert service_imports(text) == [], name
        assert sorted(set(names_taken_from_the_facade(text)) - set(sdk.__all__)) == [], name
