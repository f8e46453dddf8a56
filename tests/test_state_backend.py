"""Terraform state where teams keep it: the spec's backend in each layer's versions.tf, and `edgec apply`
under CI refusing a layer whose state would be local (issue 18 item 4)."""

import os
import shutil
import subprocess

import hcl2
import pytest
from conftest import ROOT, run_cli

from edgec.apply.state import layer_states, state_problems, under_ci
from edgec.emit.compile import render_files
from edgec.spec.validate import validate

OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, with_comments=False)
EXAMPLE = ROOT / "examples" / "public-api"
TERRAFORM = shutil.which("terraform")
PLUGINS = "/opt/tf-plugins"

S3 = """
terraform:
  backend:
    s3: {bucket: acme-terraform-state, region: eu-west-1, use_lockfile: true}
"""
PER_LAYER = """
terraform:
  backend:
    s3: {bucket: acme-terraform-state, region: eu-west-1, key_prefix: edge/prod, dynamodb_table: tf-locks}
  layers:
    cloudflare:
      backend:
        type: gcs
        config: {bucket: acme-tf, prefix: "edge/{layer}", impersonate_service_account: "tf@acme.iam.gserviceaccount.com"}
"""


def spec_with(tmp_path, extra: str = "") -> str:
    """The public-api example (with its certificate files) in tmp_path, `extra` appended to its spec."""
    folder = tmp_path / "spec"
    shutil.copytree(EXAMPLE, folder)
    spec = folder / "edge.yaml"
    spec.write_text(spec.read_text() + extra)
    return str(spec)


def compiled(tmp_path, extra: str) -> dict[str, dict]:
    validation = validate(spec_with(tmp_path, extra))
    assert validation.ok, validation.diagnostics
    files = render_files(validation.ir)
    return {layer: hcl2.loads(files[f"terraform/{layer}/versions.tf"], serialization_options=OPTIONS) for layer in ("aws", "cloudflare")}


def backend_of(versions: dict) -> dict:
    [terraform] = versions["terraform"]
    [backend] = terraform["backend"]
    return {name: {k: v for k, v in body.items() if k != "__is_block__"} for name, body in backend.items()}


def test_s3_backend_gives_each_layer_its_own_key_with_locking(tmp_path):
    parsed = compiled(tmp_path, S3)
    for layer, versions in parsed.items():
        assert backend_of(versions) == {"s3": {"bucket": "acme-terraform-state",
                                               "key": f"edgec/acme-prod/{layer}.tfstate",
                                               "region": "eu-west-1", "encrypt": True, "use_lockfile": True}}


def test_a_layer_can_have_its_own_backend_and_layer_in_settings_is_replaced(tmp_path):
    parsed = compiled(tmp_path, PER_LAYER)
    assert backend_of(parsed["aws"])["s3"]["key"] == "edge/prod/aws.tfstate"
    assert backend_of(parsed["aws"])["s3"]["dynamodb_table"] == "tf-locks"
    assert backend_of(parsed["cloudflare"]) == {"gcs": {
        "bucket": "acme-tf", "prefix": "edge/cloudflare",
        "impersonate_service_account": "tf@acme.iam.gserviceaccount.com"}}


def test_without_a_backend_versions_tf_has_none(tmp_path):
    for versions in compiled(tmp_path, "").values():
        [terraform] = versions["terraform"]
        assert "backend" not in terraform


@pytest.mark.parametrize("extra, where, message", [
    ("terraform:\n  backend:\n    s3: {bucket: acme-terraform-state, region: eu-west-1}\n",
     "terraform.backend.s3", "set use_lockfile: true"),
    ("terraform:\n  backend:\n    s3: {bucket: acme-terraform-state, region: eu-west-1, use_lockfile: true, "
     "key: a/b.tfstate}\n", "terraform.backend.s3.key", "use key_prefix"),
    ("terraform:\n  backend:\n    type: gcs\n    config: {bucket: b, prefix: edge}\n",
     "terraform.backend.config", "put {layer} in the setting"),
    ("terraform:\n  backend: {type: gcs, s3: {bucket: abc, region: eu-west-1, use_lockfile: true}}\n",
     "terraform.backend", "exactly one of s3"),
    ("terraform:\n  layers:\n    envoy: {backend: {type: gcs}}\n",
     "terraform.layers.envoy", "allowed: aws, cloudflare"),
])
def test_backend_mistakes_are_located_with_the_fix(tmp_path, extra, where, message):
    spec = spec_with(tmp_path, "\n" + extra)
    result = run_cli("validate", spec)
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == 1, result.output
    line = len(open(spec).read().splitlines()) - extra.count("\n")  # the line before `terraform:`
    assert errors[0].startswith(f"{spec}:"), errors
    assert int(errors[0].split(":")[1]) > line
    assert f"{where}: " in errors[0] and message in errors[0]


def test_one_key_per_layer_is_fine_when_every_layer_has_its_own_backend(tmp_path):
    extra = ("\nterraform:\n  layers:\n" + "".join(
        f"    {layer}:\n      backend:\n        s3: {{bucket: acme-terraform-state, region: eu-west-1, "
        f"use_lockfile: true, key: edge/{layer}.tfstate}}\n" for layer in ("aws", "cloudflare")))
    parsed = compiled(tmp_path, extra)
    assert backend_of(parsed["cloudflare"])["s3"]["key"] == "edge/cloudflare.tfstate"


# --- apply under CI ------------------------------------------------------------------------------

@pytest.fixture()
def fake_terraform(tmp_path):
    """A terraform binary that only records that it ran."""
    ran = tmp_path / "terraform-ran"
    binary = tmp_path / "terraform"
    binary.write_text(f"#!/bin/sh\necho \"$@\" >> {ran}\nexit 1\n")
    binary.chmod(0o755)
    return binary, ran


def test_apply_under_ci_refuses_local_state_before_anything_runs(tmp_path, monkeypatch, fake_terraform):
    binary, ran = fake_terraform
    monkeypatch.setenv("CI", "true")
    out = tmp_path / "out"
    result = run_cli("apply", "--auto-approve", "--terraform-bin", str(binary), "-o", str(out), spec_with(tmp_path))
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "under CI (CI=true) a local Terraform state is lost with the runner" in text
    assert "layer aws: terraform.tfstate in" in text and "layer cloudflare: terraform.tfstate in" in text
    assert "s3: {bucket: BUCKET, region: REGION, use_lockfile: true}" in text  # the fix
    assert not ran.exists() and not out.exists()  # no terraform command, not even compile


def test_apply_without_ci_does_not_refuse_local_state(tmp_path):
    validation = validate(spec_with(tmp_path))
    states = layer_states(validation.ir, render_files(validation.ir), str(tmp_path / "out"), ["aws", "cloudflare"])
    assert [s.backend for s in states] == [None, None]
    assert state_problems(states, ci=False) == []
    assert len(state_problems(states, ci=True)) == 1


@pytest.mark.parametrize("value, ci", [("true", True), ("1", True), ("TRUE", True), ("", False), ("false", False)])
def test_under_ci(value, ci):
    assert under_ci({"CI": value}) is ci


def user_file(tmp_path, layer: str, text: str, name: str = "backend.tf") -> None:
    folder = tmp_path / "out" / "terraform" / layer
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def states_of(tmp_path, extra: str = ""):
    validation = validate(spec_with(tmp_path, extra))
    return layer_states(validation.ir, render_files(validation.ir), str(tmp_path / "out"), ["aws", "cloudflare"])


def test_a_users_backend_tf_keeps_the_layer_off_local_state(tmp_path):
    user_file(tmp_path, "aws", 'terraform {\n  backend "s3" {}\n}\n')
    user_file(tmp_path, "cloudflare", 'terraform {\n  cloud {\n    organization = "acme"\n  }\n}\n',
              name="cloud_override.tf")
    states = states_of(tmp_path)
    assert [s.backend for s in states] == ["s3", "cloud"]
    assert state_problems(states, ci=True) == []


def test_a_commented_out_or_local_backend_is_local_state(tmp_path):
    user_file(tmp_path, "aws", '# terraform {\n#  backend "s3" {}\n# }\n')
    user_file(tmp_path, "cloudflare", 'terraform {\n  backend "local" {\n    path = "x.tfstate"\n  }\n}\n')
    [problem] = state_problems(states_of(tmp_path), ci=True)
    assert "layer aws: terraform.tfstate in" in problem
    assert "('local' backend in" in problem and "cloudflare/backend.tf" in problem


def test_the_spec_and_a_users_file_naming_a_backend_is_refused_everywhere(tmp_path):
    user_file(tmp_path, "aws", 'terraform {\n  backend "s3" {}\n}\n')
    states = states_of(tmp_path, S3)
    assert [s.backend for s in states] == ["s3", "s3"]
    [problem] = state_problems(states, ci=False)
    assert problem.startswith("layer aws: the spec names its state backend") and "backend.tf" in problem
    assert state_problems(states_of(tmp_path / "other", S3), ci=True) == []


def test_the_versions_tf_edgec_wrote_is_not_a_users_backend(tmp_path):
    """After compile, versions.tf (edgec's, holding the spec's backend) is not mistaken for a user's file."""
    spec = spec_with(tmp_path, S3)
    assert run_cli("compile", spec, "-o", str(tmp_path / "out")).exit_code == 0
    validation = validate(spec)
    states = layer_states(validation.ir, render_files(validation.ir), str(tmp_path / "out"), ["aws", "cloudflare"])
    assert [s.conflict for s in states] == [None, None]


# --- the real terraform ---------------------------------------------------------------------------

def terraform(*args, cwd):
    env = dict(os.environ, TF_IN_AUTOMATION="1", TF_CLI_CONFIG_FILE=os.devnull, CHECKPOINT_DISABLE="1")
    return subprocess.run([TERRAFORM, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.real_tool("terraform")
@pytest.mark.skipif(TERRAFORM is None, reason="terraform binary not found on PATH")
@pytest.mark.skipif(not os.path.isdir(PLUGINS), reason=f"AWS provider mirror {PLUGINS} not found")
def test_aws_layer_with_its_backend_validates_with_the_real_terraform(tmp_path):
    out = tmp_path / "out"
    assert run_cli("compile", spec_with(tmp_path, PER_LAYER), "-o", str(out)).exit_code == 0
    layer = out / "terraform" / "aws"
    assert terraform("fmt", "-check", "-diff", ".", cwd=layer).returncode == 0
    init = terraform("init", "-backend=false", "-input=false", "-no-color", f"-plugin-dir={PLUGINS}", cwd=layer)
    assert init.returncode == 0, init.stdout + init.stderr
    result = terraform("validate", "-no-color", cwd=layer)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.real_tool("terraform")
@pytest.mark.skipif(TERRAFORM is None, reason="terraform binary not found on PATH")
@pytest.mark.skipif(not os.path.isdir(PLUGINS), reason=f"AWS provider mirror {PLUGINS} not found")
def test_terraform_keeps_the_layers_state_in_the_spec_s_s3_bucket(tmp_path, moto_url, monkeypatch):
    """The compiled backend block, given to the real Terraform with the real S3 API (moto): init configures it,
    and a state written under its lock lands at the layer's key in the bucket."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="eu-west-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket="acme-terraform-state", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    extra = f"""
terraform:
  backend:
    type: s3   # the moto endpoint needs settings of its own; a real bucket needs only s3: {{bucket, region, ...}}
    config:
      bucket: acme-terraform-state
      key: "edge/acme-prod/{{layer}}.tfstate"
      region: eu-west-1
      use_lockfile: true
      use_path_style: true
      skip_credentials_validation: true
      skip_requesting_account_id: true
      skip_metadata_api_check: true
      endpoints: {{s3: "{moto_url}"}}
"""
    out = tmp_path / "out"
    assert run_cli("compile", spec_with(tmp_path, extra), "-o", str(out)).exit_code == 0
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    layer = out / "terraform" / "aws"
    init = terraform("init", "-input=false", "-no-color", f"-plugin-dir={PLUGINS}", cwd=layer)
    assert init.returncode == 0, init.stdout + init.stderr
    assert 'Successfully configured the backend "s3"' in init.stdout
    (tmp_path / "state.json").write_text('{"version": 4, "serial": 1, "lineage": "edgec-test", '
                                         '"terraform_version": "1.11.0", "outputs": {}, "resources": []}')
    push = terraform("state", "push", "-no-color", str(tmp_path / "state.json"), cwd=layer)
    assert push.returncode == 0, push.stdout + push.stderr
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="acme-terraform-state").get("Contents", [])]
    assert keys == ["edge/acme-prod/aws.tfstate"]  # the lock file is gone once the push is done
    assert not (layer / "terraform.tfstate").exists()
