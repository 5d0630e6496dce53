"""Access to Mirakl's OpenAPI document for contract tests.

The document is read from ``MIRAKL_OPENAPI_SPEC`` or from ``../shared/mirakl/`` beside the
repository; it is never copied into the repository. When it cannot be found the contract tests
skip, except where ``MIRAKL_SYNC_REQUIRE_CONTRACT`` is set (CI), where they fail.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:mirakl-mmp-seller-openapi"
_DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "mirakl"
_FILENAME = "mirakl-mmp-seller-openapi.json"

JSON = Any


def spec_path() -> Path | None:
    env = os.environ.get("MIRAKL_OPENAPI_SPEC")
    candidates = [Path(env)] if env else []
    candidates.append(_DEFAULT / _FILENAME)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


@functools.cache
def load_spec() -> dict[str, JSON]:
    """The parsed OpenAPI document, or a skip (a failure under MIRAKL_SYNC_REQUIRE_CONTRACT)."""
    path = spec_path()
    if path is None:
        reason = f"Mirakl OpenAPI document not found (set MIRAKL_OPENAPI_SPEC or add {_DEFAULT})"
        if os.environ.get("MIRAKL_SYNC_REQUIRE_CONTRACT"):
            pytest.fail(reason)
        pytest.skip(reason)
    with path.open(encoding="utf-8") as fh:
        data: dict[str, JSON] = json.load(fh)
    return data


@functools.cache
def _operations() -> dict[str, tuple[str, str, dict[str, JSON]]]:
    ops: dict[str, tuple[str, str, dict[str, JSON]]] = {}
    for path, item in load_spec()["paths"].items():
        for method, op in item.items():
            if method in {"get", "put", "post", "delete", "patch"} and "operationId" in op:
                ops[op["operationId"]] = (method.upper(), path, op)
    return ops


def operation(op_id: str) -> tuple[str, str, dict[str, JSON]]:
    """(METHOD, path template, operation object) for an operationId such as ``"OR11"``."""
    return _operations()[op_id]


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@functools.cache
def _registry() -> Registry[JSON]:
    resource: Resource[JSON] = Resource.from_contents(
        load_spec(), default_specification=DRAFT202012
    )
    registry: Registry[JSON] = Registry().with_resource(SPEC_URI, resource)
    return registry


def _validator_for(pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{SPEC_URI}#/{pointer}"}, registry=_registry())


def request_body_validator(
    op_id: str, content_type: str = "application/json"
) -> Draft202012Validator:
    method, path, _ = operation(op_id)
    ptr = _pointer("paths", path, method.lower(), "requestBody", "content", content_type, "schema")
    return _validator_for(ptr)


def response_validator(
    op_id: str, status: str = "200", content_type: str = "application/json"
) -> Draft202012Validator:
    method, path, _ = operation(op_id)
    ptr = _pointer(
        "paths", path, method.lower(), "responses", status, "content", content_type, "schema"
    )
    return _validator_for(ptr)


def response_examples(op_id: str) -> Iterator[tuple[str, str, JSON]]:
    """Every JSON response example of an operation: (status, example name, value)."""
    _, _, op = operation(op_id)
    for status, response in op.get("responses", {}).items():
        for ctype, media in response.get("content", {}).items():
            if "json" not in ctype:
                continue
            for name, example in media.get("examples", {}).items():
                if "value" in example:
                    yield status, name, example["value"]
            if "example" in media:
                yield status, "example", media["example"]


def strip_nulls(value: JSON) -> JSON:
    """Drop null-valued object keys (Mirakl sends nulls for absent optional fields)."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


def query_parameter_names(op_id: str) -> set[str]:
    """Query parameters the operation declares, plus the generic ones its description says it
    supports (the document strips ``max``/``offset``/``limit``/``page_token``/``locale``...)."""
    _, _, op = operation(op_id)
    names = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
    description = op.get("description", "")
    if "offset pagination" in description:
        names |= {"max", "offset", "sort", "order", "paginate"}
    if "seek pagination" in description:
        names |= {"limit", "page_token", "sort"}
    if "locale" in description:
        names.add("locale")
    return names
