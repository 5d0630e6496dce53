"""Hypothesis strategies that build JSON documents from Mirakl's OpenAPI 3.1 response schemas.

``hypothesis-jsonschema`` (0.23.1, the latest release) does not run with the hypothesis this
project pins (``AttributeError: 'many' object has no attribute 'more'`` on any object schema), so
this is a small generator for the subset of JSON Schema 2020-12 the Mirakl document uses:
``$ref`` to ``#/components/schemas/...`` (with sibling keywords), ``allOf``, ``oneOf``/``anyOf``,
the OpenAPI ``discriminator`` mapping, ``type`` (one or a list), ``enum``/``const``, string
``format`` (``date-time``, ``date``) and lengths, ``minimum``/``maximum``,
``minItems``/``maxItems``/``uniqueItems``, ``properties``/``required``. Enumerations the
document states only in a description (``Enum: `"A"`, `"B"```) are drawn from too, so known enum
values are exercised.

Numbers are :class:`~decimal.Decimal` (Mirakl's ``"with decimals"``): serialise documents with
:func:`mirakl_sync._http.dumps_body`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

JSON = Any
Strategy = st.SearchStrategy[JSON]

#: Longest list generated for an array (keeps documents CI-sized; mutations add the big ones).
MAX_ITEMS = 3
#: Longest generated string where the schema sets no smaller maximum.
MAX_TEXT = 24
_ENUM_IN_DESCRIPTION = re.compile(r"Enum:\s*((?:`\"[^\"`]*\"`\s*,?\s*)+)")
_ENUM_VALUE = re.compile(r"`\"([^\"`]*)\"`")
_INT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def description_enum(schema: Mapping[str, JSON]) -> list[str]:
    """The enum values a description lists (``Enum: `"A"`, `"B"```), if any."""
    match = _ENUM_IN_DESCRIPTION.search(str(schema.get("description", "")))
    return _ENUM_VALUE.findall(match.group(1)) if match else []


class SchemaStrategies:
    """Builds (and caches per ``$ref``) strategies for the schemas of one OpenAPI document."""

    def __init__(self, document: Mapping[str, JSON]) -> None:
        self._document = document
        self._by_ref: dict[str, Strategy] = {}

    # -- schema plumbing ------------------------------------------------------------------

    def resolve(self, ref: str) -> Mapping[str, JSON]:
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported: {ref}")
        node: JSON = self._document
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        if not isinstance(node, Mapping):
            raise ValueError(f"{ref} is not a schema object")
        return node

    def _flatten(self, schema: Mapping[str, JSON]) -> dict[str, JSON]:
        """``schema`` with ``$ref`` and ``allOf`` merged in (siblings win over the target)."""
        merged: dict[str, JSON] = {}
        parts: list[Mapping[str, JSON]] = []
        if "$ref" in schema:
            target = dict(self._flatten(self.resolve(schema["$ref"])))
            target.pop("discriminator", None)  # a $ref from a mapped subtype: the base only
            parts.append(target)
        for sub in schema.get("allOf", ()):
            base = dict(self._flatten(sub))
            base.pop("discriminator", None)
            parts.append(base)
        parts.append({k: v for k, v in schema.items() if k not in {"$ref", "allOf"}})
        for part in parts:
            for key, value in part.items():
                if key == "properties":
                    merged["properties"] = {**merged.get("properties", {}), **value}
                elif key == "required":
                    merged["required"] = sorted({*merged.get("required", ()), *value})
                else:
                    merged[key] = value
        return merged

    # -- strategies -----------------------------------------------------------------------

    def for_ref(self, ref: str) -> Strategy:
        """A strategy for ``{"$ref": ref}`` (cached; recursion goes through ``st.deferred``)."""
        if ref not in self._by_ref:
            self._by_ref[ref] = st.deferred(lambda: self.for_schema(self.resolve(ref)))
        return self._by_ref[ref]

    def for_schema(self, schema: Mapping[str, JSON]) -> Strategy:
        if "$ref" in schema and set(schema) <= {"$ref", "description", "type", "format"}:
            return self.for_ref(schema["$ref"])
        flat = self._flatten(schema)
        for combinator in ("oneOf", "anyOf"):
            if combinator in flat:
                rest = {k: v for k, v in flat.items() if k != combinator}
                return st.one_of([self.for_schema({**rest, **alt}) for alt in flat[combinator]])
        discriminator = flat.get("discriminator")
        if isinstance(discriminator, Mapping) and discriminator.get("mapping"):
            base = {k: v for k, v in flat.items() if k != "discriminator"}
            return st.one_of(
                self.for_schema(base),
                *[
                    self._tagged(discriminator["propertyName"], tag, ref)
                    for tag, ref in sorted(discriminator["mapping"].items())
                ],
            )
        if "const" in flat:
            return st.just(flat["const"])
        if "enum" in flat:
            return st.sampled_from(list(flat["enum"]))
        kind = flat.get("type")
        if kind is None:
            kind = "object" if "properties" in flat else "any"
        if isinstance(kind, list):
            return st.one_of([self._typed(flat, k) for k in kind])
        return self._typed(flat, kind)

    def _tagged(self, prop: str, tag: str, ref: str) -> Strategy:
        def with_tag(value: JSON) -> JSON:
            return {**value, prop: tag} if isinstance(value, dict) else value

        return self.for_ref(ref).map(with_tag)

    def _typed(self, schema: Mapping[str, JSON], kind: str) -> Strategy:
        if kind == "object":
            return self._object(schema)
        if kind == "array":
            return self._array(schema)
        if kind == "string":
            return self._string(schema)
        if kind == "integer":
            low, high = _INT_BOUNDS.get(schema.get("format", ""), _INT_BOUNDS["int64"])
            return st.integers(
                min_value=max(low, int(schema.get("minimum", low))),
                max_value=min(high, int(schema.get("maximum", high))),
            )
        if kind == "number":
            minimum = schema.get("minimum")
            maximum = schema.get("maximum")
            return st.one_of(
                st.decimals(
                    min_value=None if minimum is None else Decimal(str(minimum)),
                    max_value=None if maximum is None else Decimal(str(maximum)),
                    allow_nan=False,
                    allow_infinity=False,
                    places=2,
                ),
                st.integers(
                    min_value=None if minimum is None else int(minimum),
                    max_value=None if maximum is None else int(maximum),
                ),
            )
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        return small_json()

    def _object(self, schema: Mapping[str, JSON]) -> Strategy:
        properties: Mapping[str, JSON] = schema.get("properties", {})
        required = set(schema.get("required", ())) & set(properties)
        return st.fixed_dictionaries(
            {name: self.for_schema(properties[name]) for name in sorted(required)},
            optional={
                name: self.for_schema(sub)
                for name, sub in sorted(properties.items())
                if name not in required
            },
        )

    def _array(self, schema: Mapping[str, JSON]) -> Strategy:
        items = self.for_schema(schema.get("items", {}))
        low = int(schema.get("minItems", 0))
        high = max(low, min(int(schema.get("maxItems", MAX_ITEMS)), MAX_ITEMS))
        if schema.get("uniqueItems"):
            return st.lists(
                items,
                min_size=low,
                max_size=high,
                unique_by=lambda v: json.dumps(v, sort_keys=True, default=str),
            )
        return st.lists(items, min_size=low, max_size=high)

    def _string(self, schema: Mapping[str, JSON]) -> Strategy:
        fmt = schema.get("format")
        if fmt == "date-time":
            return st.datetimes(timezones=st.just(UTC)).map(
                lambda d: d.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            )
        if fmt == "date":
            return st.dates().map(lambda d: d.isoformat())
        low = int(schema.get("minLength", 0))
        high = max(low, min(int(schema.get("maxLength", MAX_TEXT)), MAX_TEXT))
        text = st.text(min_size=low, max_size=high)
        values = [v for v in description_enum(schema) if low <= len(v)]
        return st.one_of(st.sampled_from(values), text) if values else text


def small_json(max_leaves: int = 6) -> Strategy:
    """Arbitrary small JSON (for untyped schemas and junk values)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.decimals(allow_nan=False, allow_infinity=False, places=3),
        st.text(max_size=MAX_TEXT),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.text(max_size=8), inner, max_size=3),
        ),
        max_leaves=max_leaves,
    )
