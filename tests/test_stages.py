"""Per-stage golden tests, in the style of Envoy Gateway's testdata: a small input for one stage and
the output it must give, byte for byte. `make golden` rewrites the outputs (review the diff).

- spec-to-ir/<case>.in.yaml (a spec)           -> <case>.out.yaml (the IR, as edgec.ir.serial writes it)
- ir-to-envoy/<case>.in.yaml (an IR)           -> <case>.out/ (the Envoy layer's files)
- ir-to-hcl/<case>.in.yaml (an IR)             -> <case>.out/ (the Terraform layers' files)
- live-to-ir/envoy/<case>.in.json (a /config_dump of a real Envoy) -> <case>.out.yaml (the IR)
The live answers of the AWS and Cloudflare readers have their own golden tests (test_live_stages.py).
"""

from __future__ import annotations

import json
import pathlib

import pytest
import yaml

from edgec.emit import yaml_text
from edgec.ir.serial import dump_ir, dump_resources, load_ir
from edgec.layers import LAYERS
from edgec.layers.envoy.read import parse_config_dump
from edgec.spec.validate import validate

DATA = pathlib.Path(__file__).parent / "testdata"


def cases(stage: str, suffix: str = ".in.yaml") -> list[pathlib.Path]:
    return sorted((DATA / stage).glob(f"*{suffix}"))


def case_id(path: pathlib.Path) -> str:
    return path.name.split(".")[0]


def as_text(resources_or_ir) -> str:
    return yaml_text.dump(resources_or_ir)


@pytest.mark.parametrize("source", cases("spec-to-ir"), ids=case_id)
def test_spec_to_ir(source, golden):
    validation = validate(str(source))
    assert validation.ir is not None, [str(d) for d in validation.diagnostics]
    golden(source.with_name(f"{case_id(source)}.out.yaml"), as_text(dump_ir(validation.ir)))


def _files_of(ir, terraform: bool) -> dict[str, str]:
    return {path: text for layer in LAYERS if layer.terraform == terraform for path, text in layer.emit(ir).items()}


@pytest.mark.parametrize(("stage", "terraform"), [("ir-to-envoy", False), ("ir-to-hcl", True)])
def test_ir_to_files(stage, terraform, golden, request):
    sources = cases(stage)
    assert sources, f"no cases in testdata/{stage}"
    for source in sources:
        ir = load_ir(read_yaml(source.read_text()))
        files = _files_of(ir, terraform)
        out = source.with_name(f"{case_id(source)}.out")
        assert files
        for path, text in sorted(files.items()):
            golden(out / path, text)
        if not request.config.getoption("--update-golden"):
            written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
            assert written == sorted(files), f"{out} holds files edgec no longer writes: run `make golden`"


@pytest.mark.parametrize("source", cases("live-to-ir/envoy", ".in.json"), ids=case_id)
def test_envoy_config_dump_to_ir(source, golden):
    resources = parse_config_dump("edge", json.loads(source.read_text()))
    golden(source.with_name(f"{case_id(source)}.out.yaml"), as_text(dump_resources(resources)))


def test_the_ir_reads_back_as_it_was_written():
    """The serial form the IR stages take as input loses nothing (every example, every field)."""
    for example in sorted((DATA.parent.parent / "examples").glob("*/edge.yaml")):
        ir = validate(str(example)).ir
        assert ir is not None
        again = load_ir(read_yaml(as_text(dump_ir(ir))))
        assert again.resources == ir.resources and again.estate == ir.estate, example


def read_yaml(text: str):
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def test_a_config_dump_of_the_compiled_config_compares_equal_to_its_ir():
    """What a gateway running the compiled config reports is, once parsed, what the IR holds."""
    from edgec.layers.base import LiveLayer
    from edgec.layers.envoy.compare import compare_envoy

    source = DATA / "live-to-ir" / "envoy" / "envoy-routes.in.json"
    ir = validate(str(DATA / "spec-to-ir" / "envoy-routes.in.yaml")).ir
    live = LiveLayer(parse_config_dump("edge", json.loads(source.read_text())))
    assert compare_envoy(ir, {"envoy": live}) == []


LIVE_CASES = [("aws", "route53-private", "live-to-ir/aws/route53-private.spec.yaml"),
              ("cloudflare", "cloudflare-public", "spec-to-ir/cloudflare-public.in.yaml")]


@pytest.mark.parametrize(("layer", "case", "spec"), LIVE_CASES, ids=[c[0] for c in LIVE_CASES])
def test_live_answers_to_ir(layer, case, spec, golden, monkeypatch):
    """Recorded answers of the provider's API (tests/record_live_answers.py), read with the real SDK by the
    layer's reader: the live resources under the desired addresses, their facts and ownership, what apply
    imports without --adopt, and the IDs it imports them by."""
    from edgec.diff.plan import PlanOptions
    from edgec.layers import layer_named
    from edgec.layers.base import ReadContext
    from edgec.read.budget import ApiCalls
    from replay import ApiReplay

    source = DATA / "live-to-ir" / layer / f"{case}.in.json"
    ir = validate(str(DATA / spec)).ir
    assert ir is not None
    with ApiReplay(json.loads(source.read_text())) as replay:
        monkeypatch.setenv("AWS_ENDPOINT_URL", replay.url)
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.setenv(key, "testing")
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", replay.url + "/client/v4")
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "replayed")
        calls = ApiCalls()
        live = layer_named(layer).read(ir, ReadContext(PlanOptions(), calls))
    assert calls.as_dict()[layer] == len(json.loads(source.read_text())), "every recorded answer read once"
    dump = {"resources": dump_resources(live.resources), "facts": dict(sorted(live.facts.items())),
            "owned": sorted(live.owned), "claimed": sorted(live.claimed),
            "import_ids": dict(sorted(layer_named(layer).import_ids(live).items()))}
    golden(source.with_name(f"{case}.out.yaml"), as_text(dump))
