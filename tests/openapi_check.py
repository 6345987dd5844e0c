"""The OpenAPI document as a test oracle: find the operation for a request and validate the
response body against it."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SPEC_PATH = Path(__file__).resolve().parents[1] / "schemas" / "openapi.yaml"


@cache
def spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = yaml.safe_load(fh)
    return loaded


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for template in spec()["paths"]:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        out.append((re.compile(pattern), template))
    # Literal templates first: /cases:import before /cases/{id}.
    out.sort(key=lambda p: p[1].count("{"))
    return out


def find_operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    path = path.split("?", 1)[0]
    for pattern, template in _templates():
        if pattern.match(path):
            op = spec()["paths"][template].get(method.lower())
            if op is not None:
                return template, op
    return None


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def validate_response(method: str, path: str, status: int, content_type: str, body: Any) -> None:
    """Raise AssertionError if the route, the status or the body disagrees with the spec."""
    found = find_operation(method, path)
    assert found is not None, f"{method} {path} is not described in schemas/openapi.yaml"
    template, op = found
    responses = op.get("responses", {})
    response = responses.get(str(status)) or responses.get(f"{status // 100}XX") or responses.get("default")
    assert response is not None, f"{method} {template}: status {status} is not described ({sorted(responses)})"
    response = _resolve(response)
    media = response.get("content", {}).get(content_type)
    if media is None:
        assert not response.get("content") or content_type not in ("application/json",), (
            f"{method} {template} {status}: content type {content_type} not described"
        )
        return
    schema = media.get("schema")
    if schema is None or content_type != "application/json":
        return
    wrapper = {**schema, "components": spec()["components"]}
    try:
        jsonschema.Draft202012Validator(wrapper).validate(body)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        problem = f"{method} {template} {status}: body invalid at {where or '(top)'}: {exc.message}"
        raise AssertionError(problem) from exc
