"""``enforcement connectors new <name>``: a complete, working connector package from templates.

The package it writes (``<dir>/<name>/``) is installable on its own (``pip install -e``) and
registers itself under the ``enforcement.connectors`` entry point; it holds a manifest, a wire
client, an adapter, a record class with its JSON Schema, a simulator built with the kit, and
tests that run the conformance suite over it. It passes the suite as created.

With ``controls`` (``--controls seal,renew,release``) it also writes ``controls.py``: the control
operations' wire format, the adapter's ``control()``, and the simulator's controls (the SDK's
``ControlLedger``: queued behind earlier ones, once per key), declared in the manifest's
``controls``; the suite's ``controls.*`` rules pass as created too.
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
CONTROL_OPERATIONS = frozenset({"freeze", "seal", "renew", "release"})
TAKE_OPERATIONS = frozenset({"freeze", "seal"})
CONTROL_PLACEHOLDERS = ("operations", "manifest_controls", "adapter_sdk_imports", "adapter_imports", "adapter_control",
                        "simulator_imports", "simulator_control", "simulator_state", "simulator_routes")


@dataclass(frozen=True, slots=True)
class ScaffoldOptions:
    name: str
    agency: str = "某协助执行单位"
    display_zh: str = ""
    display_en: str = ""
    port: int = DEFAULT_PORT
    # Control operations the package takes (``--controls seal,renew,release``); none: queries only.
    controls: tuple[str, ...] = ()

    def check_controls(self) -> None:
        """The stub controls objects (a seal or a freeze queued behind earlier ones): it takes one of
        freeze and seal, and release (the conformance suite releases what it took)."""
        unknown = sorted(set(self.controls) - CONTROL_OPERATIONS)
        if unknown:
            raise ConfigurationError(f"unknown control operation(s) {', '.join(unknown)}: the scaffold makes "
                                     f"{', '.join(sorted(CONTROL_OPERATIONS))} (a deduction needs an account "
                                     "ledger: write it by hand)", code="bad_controls")
        if self.controls and (len(TAKE_OPERATIONS & set(self.controls)) != 1 or "release" not in self.controls):
            raise ConfigurationError("--controls takes exactly one of freeze and seal, and release "
                                     "(e.g. seal,renew,release)", code="bad_controls")

    def values(self) -> dict[str, str]:
        camel = "".join(part.capitalize() for part in self.name.split("_"))
        dashed = self.name.replace("_", "-")
        return {**self._base_values(camel, dashed), **self._control_values(camel)}

    def _control_values(self, camel: str) -> dict[str, str]:
        package = f"{self.name}_connector"
        if not self.controls:
            return dict.fromkeys(CONTROL_PLACEHOLDERS, "") | {"simulator_state": "SimulatorState"}
        ops = [op for op in ("freeze", "seal", "renew", "release") if op in self.controls]
        snippets = resources.files("connectors.sdk.scaffold").joinpath("templates", "snippets")
        return {
            "operations": ", ".join(ops),
            "manifest_controls": ',\n  "controls": {"operations": [' + ", ".join(f'"{op}"' for op in ops)
                                 + f'], "asset_kinds": ["{self.name}_asset"]}}',
            "adapter_sdk_imports": "    ControlRequest,\n    ControlResult,\n",
            "adapter_imports": f"from {package}.controls import send_control\n",
            "adapter_control": snippets.joinpath("adapter_control.py.tmpl").read_text(encoding="utf-8").rstrip("\n"),
            "simulator_imports": f"from {package}.controls import CONTROL_PATH, ControlState, apply_control, "
                                 "control_problem\n",
            "simulator_control": snippets.joinpath("simulator_control.py.tmpl").read_text(encoding="utf-8")
                                 .rstrip("\n"),
            "simulator_state": "ControlState",
            "simulator_routes": ", web.post(CONTROL_PATH, control)",
        }

    def _base_values(self, camel: str, dashed: str) -> dict[str, str]:
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
        elif child.name.endswith(".tmpl") and not rel.startswith("snippets/"):
            found.append((rel, child))
    return found


def render(options: ScaffoldOptions) -> dict[str, str]:
    """Relative path -> file text, without touching the disk."""
    if not NAME.match(options.name):
        raise ConfigurationError(
            f"connector name {options.name!r} must match {NAME.pattern} (lower case, digits, _)",
            code="bad_name",
        )
    options.check_controls()
    values = options.values()
    root = resources.files("connectors.sdk.scaffold").joinpath("templates")
    return {
        _target(rel, values): string.Template(node.read_text(encoding="utf-8")).substitute(values)
        for rel, node in _templates(root)
        if options.controls or rel != "package/controls.py.tmpl"
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
