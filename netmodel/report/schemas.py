"""The JSON Schemas of netmodel's JSON outputs, shipped in the package (``netmodel/schemas/*.json``).

>>> sorted(SCHEMAS)
['check', 'diff', 'matrix', 'query']
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

SCHEMAS = {"check": "check.schema.json", "query": "query.schema.json", "matrix": "matrix.schema.json",
           "diff": "diff.schema.json"}


def load_schema(kind: str) -> dict[str, Any]:
    """The JSON schema of ``kind``'s output, as shipped with the package."""
    text = resources.files("netmodel").joinpath("schemas", SCHEMAS[kind]).read_text(encoding="utf-8")
    return json.loads(text)


def validate(payload: Mapping[str, Any], kind: str) -> None:
    """Raise ``jsonschema.ValidationError`` when ``payload`` breaks its schema (jsonschema is a test extra)."""
    import jsonschema
    from referencing import Registry, Resource

    registry: Registry = Registry().with_resources(
        (load_schema(k)["$id"], Resource.from_contents(load_schema(k))) for k in SCHEMAS)
    # diff.schema.json refers to check.schema.json by a relative URI resolved against its $id.
    jsonschema.Draft202012Validator(load_schema(kind), registry=registry).validate(payload)


__all__ = ["SCHEMAS", "load_schema", "validate"]
