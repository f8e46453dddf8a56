"""Property: no input makes edgec raise; `edgec validate` always exits 0 or 1.

Four generators, 2,150 specs per run in all: random YAML documents, the examples with random
mutations (deleted fields, wrong types, renamed keys, duplicated items), random text, and random bytes.
"""

import copy
import pathlib
import tempfile

import yaml

DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, run_cli
from edgec.spec.loader import load_spec

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SEEDS = [load_spec(str(example / "edge.yaml")).data for example in EXAMPLES]

leaves = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True)
          | st.text(max_size=30) | st.sampled_from(["3s", "10.0.0.0/8", "api.acme.com", "public", "edgec/v1",
                                                   "cloudflare", "strict", "/v1", "block", "1.2", "*.acme.com"]))
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=12) | st.sampled_from(["host", "routes", "service"]),
                                        inner, max_size=4), max_leaves=12)


def check(content: bytes | str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "edge.yaml"
        path.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
        result = run_cli("validate", "--format", "json", str(path))
        assert result.exit_code in (0, 1), result.output
        assert "Traceback" not in result.output


def paths_of(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths_of(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths_of(value, prefix + (i,))


def mutate(data, draw):
    paths = list(paths_of(data))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        try:  # an earlier mutation may have removed or replaced part of the path
            parent = data
            for part in path[:-1]:
                parent = parent[part]
            key = path[-1]
            target = parent[key]
        except (KeyError, IndexError, TypeError):
            continue
        action = draw(st.sampled_from(["replace", "delete", "rename", "duplicate"]))
        if action == "replace":
            parent[key] = draw(values)
        elif action == "delete":
            del parent[key]
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = parent.pop(key)
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(target))
    return data


@settings(max_examples=1000, **SETTINGS)
@given(st.data())
def test_mutated_examples_never_crash(data):
    spec = mutate(copy.deepcopy(data.draw(st.sampled_from(SEEDS))), data.draw)
    check(yaml.dump(spec, Dumper=DUMPER, sort_keys=False, allow_unicode=True))


@settings(max_examples=600, **SETTINGS)
@given(st.dictionaries(st.sampled_from(["apiVersion", "name", "zones", "gateways", "services", "ingresses",
                                        "waf", "dns", "certificates", "aws", "include"]) | st.text(max_size=8),
                       values, max_size=8))
def test_random_yaml_documents_never_crash(doc):
    check(yaml.dump(doc, Dumper=DUMPER, allow_unicode=True))


@settings(max_examples=300, **SETTINGS)
@given(st.text(max_size=300))
def test_random_text_never_crashes(text):
    check(text)


@settings(max_examples=250, **SETTINGS)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(raw):
    check(raw)
