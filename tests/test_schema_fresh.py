"""The committed schemas and field reference are exactly what the models produce (`make golden`)."""

import pytest

from conftest import ROOT
from edgec.spec.docs import render_markdown
from edgec.spec.schema import fragment_schema, spec_schema, to_text

GENERATED = {
    "schemas/edge.schema.json": lambda: to_text(spec_schema()),
    "schemas/edge-fragment.schema.json": lambda: to_text(fragment_schema()),
    "docs/spec-reference.md": lambda: render_markdown(spec_schema()),
}


@pytest.mark.parametrize("path", sorted(GENERATED))
def test_committed_file_is_fresh(path):
    committed = (ROOT / path).read_text()
    assert committed == GENERATED[path](), f"{path} is stale: run `make golden` and commit the result"


def test_reference_documents_every_field_with_an_example():
    schema = spec_schema()
    reference = (ROOT / "docs" / "spec-reference.md").read_text()
    for name, definition in [("Spec", schema)] + sorted(schema["$defs"].items()):
        assert f"## {name}" in reference
        for field in definition.get("properties", {}):
            rows = [line for line in reference.splitlines() if line.startswith(f"| `{field}` |")]
            assert rows and all(f"`{field}: " in row for row in rows), field


def test_schema_rejects_what_the_models_reject():
    import jsonschema

    schema = spec_schema()
    good = {"apiVersion": "edgec/v1", "name": "x", "zones": {"acme.com": {"provider": "cloudflare"}}}
    jsonschema.validate(good, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(good | {"zones": {"acme.com": {"provider": "godaddy"}}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(good | {"unknown": 1}, schema)
