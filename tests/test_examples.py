"""Every example validates with edgec and against the committed JSON Schema."""

import json
import shutil

import jsonschema
import pytest

from conftest import EXAMPLES, ROOT, run_cli
from edgec.spec.loader import load_spec, spec_files_in
from edgec.spec.validate import validate


def _root_file(example):
    return example / "edge.yaml"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_is_valid_without_warnings(example):
    result = run_cli("validate", "--strict", str(_root_file(example)))
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_matches_committed_schema(example):
    schema = json.loads((ROOT / "schemas" / "edge.schema.json").read_text())
    loaded = load_spec(str(_root_file(example)))
    assert not loaded.diagnostics
    jsonschema.validate(loaded.data | {"include": []}, schema)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_file_has_an_editor_modeline(example):
    for file in spec_files_in(str(example)):
        first = open(file).readline()
        assert first.startswith("# yaml-language-server: $schema="), file
        target = first.split("$schema=", 1)[1].strip()
        assert (ROOT / "schemas" / target.rsplit("/", 1)[-1]).exists()


def test_team_files_match_the_fragment_schema():
    schema = json.loads((ROOT / "schemas" / "edge-fragment.schema.json").read_text())
    teams = ROOT / "examples" / "multi-team" / "teams"
    files = sorted(teams.glob("*.yaml"))
    assert len(files) >= 3
    for file in files:
        jsonschema.validate(load_spec(str(file)).data, schema)


def test_multi_team_example_is_big_enough():
    spec = validate(str(ROOT / "examples" / "multi-team" / "edge.yaml")).spec
    assert spec is not None and len(spec.services) >= 20
    routes = {name: 0 for name in spec.gateways}
    for ingress in spec.ingresses:
        routes[ingress.gateway] += len(ingress.routes)
    assert len(routes) >= 2 and min(routes.values()) >= 50, routes


def test_directory_and_include_load_the_same_estate():
    by_include = validate(str(ROOT / "examples" / "multi-team" / "edge.yaml"))
    by_directory = validate(str(ROOT / "examples" / "multi-team"))
    assert by_include.ok and by_directory.ok
    assert sorted(by_include.files) == sorted(by_directory.files)
    assert {i.host for i in by_include.spec.ingresses} == {i.host for i in by_directory.spec.ingresses}


def test_the_spec_guide_opens_with_a_valid_spec(tmp_path):
    guide = (ROOT / "docs" / "spec.md").read_text()
    first_block = guide.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "edge.yaml"
    path.write_text(first_block)
    (tmp_path / "certs").mkdir()  # the client certificate it names, beside it
    shutil.copy(ROOT / "tests" / "testdata" / "origin-pull.pem", tmp_path / "certs" / "origin-pull.pem")
    result = validate(str(path))
    assert result.ok and not result.diagnostics, result.diagnostics
