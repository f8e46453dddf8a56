"""The committed schemas and field reference are exactly what the models produce (`make golden`)."""

import json

import pydantic
import pytest

from conftest import ROOT
from edgec.spec.docs import _example, render_markdown
from edgec.spec.model import Spec
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


@pytest.mark.parametrize(("field", "value", "valid"), [
    ("endpoints", ["noport"], False), ("endpoints", ["app:http"], False), ("endpoints", ["App.svc:80"], False),
    ("endpoints", ["app:80", "10.0.0.1:8080", "[2001:db8::1]:443", "payments.payments.svc.cluster.local:8080"], True),
    ("host", "API.acme.com", False), ("host", "api.acme.com.", False), ("host", "*.acme.com", True),
    ("path", "v1", False), ("path", "/v1", True)])
def test_schema_carries_the_patterns_edgec_enforces(field, value, valid):
    """An editor flags what edgec would refuse, with the same rules (and edgec agrees with each case)."""
    import jsonschema

    service = {"endpoints": value if field == "endpoints" else ["app:80"]}
    route = {"service": "app", **({"path": value} if field == "path" else {})}
    ingress = {"host": value if field == "host" else "api.acme.com", "gateway": "g", "routes": [route]}
    spec = {"apiVersion": "edgec/v1", "name": "x", "zones": {"acme.com": {"provider": "cloudflare"}},
            "services": {"app": service}, "ingresses": [ingress]}
    errors = list(jsonschema.Draft202012Validator(spec_schema()).iter_errors(spec))
    assert (errors == []) == valid, [e.message for e in errors]
    try:
        Spec.model_validate(spec)
        accepted = True
    except pydantic.ValidationError:
        accepted = False
    assert accepted == valid


def test_every_example_in_the_field_reference_fits_its_field():
    """Each row's example (the value after `field: `) is valid for that field under the JSON Schema."""
    import jsonschema

    schema = spec_schema()
    defs = schema["$defs"]
    for name, definition in [("Spec", schema)] + sorted(defs.items()):
        for field, prop in definition.get("properties", {}).items():
            example = json.loads(_example(prop, defs))
            errors = [e.message for e in jsonschema.Draft202012Validator({**prop, "$defs": defs}).iter_errors(example)]
            assert not errors, f"{name}.{field}: {example!r}: {errors}"


def test_what_edgec_always_needs_is_required_in_the_reference():
    """A gateway's TLS certificate is optional in the model only so that the checker words its absence."""
    reference = (ROOT / "docs" / "spec-reference.md").read_text()
    assert "| `tls` | [GatewayTls](#gatewaytls) | **required** |" in reference
    assert "| `certificate` | string | **required** |" in reference
