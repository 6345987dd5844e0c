"""The service serves exactly the operations schemas/openapi.yaml describes (responses are checked
against it by the ``Api`` test client in every acceptance test, and by the fuzz in tests/fuzz)."""

from __future__ import annotations

from typing import Any

from enforcement.app import create_app
from enforcement.kernel.settings import Settings
from tests.openapi_check import find_operation, spec

# The workbench's pages and files: HTML and static assets, not part of the API.
NOT_API = {("GET", "/"), ("GET", "/ui"), ("GET", "/ui/{tail}"), ("GET", "/static")}
METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


def _app_operations(tmp_path: Any) -> set[tuple[str, str]]:
    """(method, path template) of every route the app registers; HEAD, which aiohttp adds beside
    each GET, is part of the GET."""
    app = create_app(Settings(database_url="postgresql://unused/none", data_dir=tmp_path))
    found = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix") or ""
        if route.method != "HEAD":
            found.add((route.method, path))
    return found


def _document_operations() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in spec()["paths"].items() for method in item if method in METHODS}


def test_the_app_and_the_document_list_the_same_operations(tmp_path: Any) -> None:
    registered = _app_operations(tmp_path)
    assert not NOT_API - registered, f"NOT_API names routes the app no longer has: {NOT_API - registered}"
    served = registered - NOT_API
    documented = _document_operations()
    assert not served - documented, f"routes missing from schemas/openapi.yaml: {sorted(served - documented)}"
    assert not documented - served, f"documented operations the app does not serve: {sorted(documented - served)}"
    for method, path in served:
        concrete = path.replace("{", "x").replace("}", "")
        assert find_operation(method, concrete) == (path, spec()["paths"][path][method.lower()]), (method, path)


def test_spec_is_openapi_3_1_with_error_schema() -> None:
    doc = spec()
    assert doc["openapi"].startswith("3.1")
    assert "Error" in doc["components"]["schemas"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert "operationId" in op, f"{method} {path} lacks an operationId"
