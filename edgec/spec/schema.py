"""JSON Schema of the spec, generated from the models (schemas/*.json are this output, committed)."""

from __future__ import annotations

import copy
import json

from edgec.spec.structure import spec_json_schema

SCHEMA_URL = "https://json-schema.org/draft/2020-12/schema"


def spec_schema() -> dict:
    """The schema of a whole spec (what `edgec validate` accepts after merging files)."""
    schema = copy.deepcopy(spec_json_schema())
    return {"$schema": SCHEMA_URL, "$id": "edge.schema.json", **schema}


def fragment_schema() -> dict:
    """The schema of one team file of a split estate: the same fields, none of them required."""
    schema = spec_schema()
    schema["$id"] = "edge-fragment.schema.json"
    schema["title"] = "SpecFragment"
    schema["description"] = "One file of an estate split across files; merged with the others before validation."
    schema.pop("required", None)
    return schema


def to_text(schema: dict) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
