"""Every route the service serves is described in schemas/openapi.yaml (responses are checked
against it by the ``Api`` test client in every acceptance test)."""

from __future__ import annotations

from typing import Any

from enforcement.app import create_app
from enforcement.settings import Settings
from tests.openapi_check import find_operation, spec

UNDESCRIBED_PREFIXES = ("/static/", "/ui", "/_sim/")


def test_every_route_is_described(tmp_path: Any) -> None:
    app = create_app(Settings(database_url="postgresql://unused/none", data_dir=tmp_path))
    missing = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or ""
        if route.method in ("HEAD", "*") or not path or path == "/" or path.startswith(UNDESCRIBED_PREFIXES):
            continue
        if not path.startswith(("/api/", "/healthz", "/readyz", "/metrics")):
            continue
        concrete = path.replace("{", "x").replace("}", "")
        if find_operation(route.method, concrete) is None:
            missing.append(f"{route.method} {path}")
    assert not missing, f"routes missing from schemas/openapi.yaml: {missing}"


def test_spec_is_openapi_3_1_with_error_schema() -> None:
    doc = spec()
    assert doc["openapi"].startswith("3.1")
    assert "Error" in doc["components"]["schemas"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert "operationId" in op, f"{method} {path} lacks an operationId"
