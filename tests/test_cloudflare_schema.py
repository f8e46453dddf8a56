"""Every Cloudflare resource edgec emits, walked against the provider v5.22.0 schema.

No Cloudflare provider binary can run here, so the schema generated from the provider's source is
the check: resource types and attributes exist, required ones are present, computed-only ones are
not set, nested attributes use attribute syntax (never blocks), and values have the right types
and allowed values.
"""

import json
import pathlib

import hcl2
import pytest

from conftest import EXAMPLES, ROOT

SCHEMA_FILE = ROOT.parent / "shared" / "data" / "cloudflare-provider-5.22.0.schema.json"
META_ARGUMENTS = {"for_each", "count", "depends_on", "lifecycle", "provider"}

pytestmark = pytest.mark.skipif(not SCHEMA_FILE.exists(), reason=f"{SCHEMA_FILE} not found (../shared/data)")


@pytest.fixture(scope="module")
def schema():
    return json.loads(SCHEMA_FILE.read_text())


def parse(path: pathlib.Path) -> dict:
    options = hcl2.SerializationOptions(strip_string_quotes=True, with_comments=False)
    return hcl2.loads(path.read_text(), serialization_options=options)


def cloudflare_resources():
    found = []
    for example in EXAMPLES:
        for path in sorted((ROOT / "generated" / example.name / "terraform" / "cloudflare").glob("*.tf")):
            for entry in parse(path).get("resource", []):
                for rtype, by_name in entry.items():
                    for name, body in by_name.items():
                        found.append((f"{example.name}:{path.name}:{rtype.strip(chr(34))}.{name.strip(chr(34))}",
                                      rtype.strip('"'), body))
    return found


def is_expression(value) -> bool:
    return isinstance(value, str) and value.startswith("${")


def check_attributes(body: dict, attributes: dict, where: str, problems: list) -> None:
    for key, value in body.items():
        if key.startswith("__") or key in META_ARGUMENTS:
            continue
        spec = attributes.get(key)
        if spec is None:
            problems.append(f"{where}.{key}: no such attribute")
            continue
        if spec.get("computed") and not spec.get("optional") and not spec.get("required"):
            problems.append(f"{where}.{key}: computed-only attribute is set")
        check_value(value, spec, f"{where}.{key}", problems)
    for key, spec in attributes.items():
        if spec.get("required") and key not in body:
            problems.append(f"{where}: required attribute {key} is missing")


def check_value(value, spec: dict, where: str, problems: list) -> None:
    if is_expression(value):
        return
    nested = spec.get("nested")
    if nested:
        mode = nested.get("nesting_mode")
        items = [value] if mode == "single" else value
        if mode != "single" and not isinstance(value, list):
            problems.append(f"{where}: expected a list of objects")
            return
        for i, item in enumerate(items):
            if not isinstance(item, dict) or item.get("__is_block__"):
                problems.append(f"{where}[{i}]: must be an attribute object (`x = {{ ... }}`), not a block")
                continue
            check_attributes(item, nested["attributes"], f"{where}[{i}]" if mode != "single" else where, problems)
        return
    kind = spec.get("type")
    expected = {"string": str, "bool": bool, "number": (int, float)}
    if isinstance(kind, str) and kind in expected:
        if not isinstance(value, expected[kind]) or (kind == "number" and isinstance(value, bool)):
            problems.append(f"{where}: {value!r} is not a {kind}")
        elif "enum" in spec and value not in spec["enum"]:
            problems.append(f"{where}: {value!r} is not one of {spec['enum']}")
    elif isinstance(kind, list) and kind[0] in ("list", "set"):
        if not isinstance(value, list) or not all(isinstance(v, str) or is_expression(v) for v in value):
            problems.append(f"{where}: {value!r} is not a {kind[0]} of {kind[1]}")
        elif "enum" in spec and any(v not in spec["enum"] for v in value):
            problems.append(f"{where}: {value!r} has values outside {spec['enum']}")


def test_examples_emit_cloudflare_resources():
    kinds = {rtype for _, rtype, _ in cloudflare_resources()}
    assert {"cloudflare_dns_record", "cloudflare_ruleset", "cloudflare_zone_setting",
            "cloudflare_authenticated_origin_pulls_settings", "cloudflare_origin_ca_certificate"} <= kinds


def test_every_cloudflare_resource_matches_the_provider_schema(schema):
    problems: list[str] = []
    for where, rtype, body in cloudflare_resources():
        if rtype not in schema:
            problems.append(f"{where}: unknown resource type")
            continue
        check_attributes(body, schema[rtype]["attributes"], where, problems)
    assert not problems, "\n".join(problems)


def test_the_checker_catches_what_it_should(schema):
    """The walker itself must fail on a block, an unknown attribute, a bad enum and a missing field."""
    problems: list[str] = []
    bad = {"zone_id": "z", "name": "n", "kind": "zone", "phase": "nope", "color": "red",
           "rules": [{"action": "block", "expression": "true", "__is_block__": True}]}
    check_attributes(bad, schema["cloudflare_ruleset"]["attributes"], "bad", problems)
    text = "\n".join(problems)
    assert "bad.color: no such attribute" in text
    assert "'nope' is not one of" in text
    assert "not a block" in text
    bad_record = {"zone_id": "z", "type": "A", "ttl": "1", "id": "x"}
    check_attributes(bad_record, schema["cloudflare_dns_record"]["attributes"], "rec", problems)
    text = "\n".join(problems)
    assert "required attribute name is missing" in text
    assert "rec.ttl: '1' is not a number" in text
    assert "rec.id: computed-only attribute is set" in text
