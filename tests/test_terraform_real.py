"""The generated Terraform against the real terraform binary and the real AWS provider."""

import os
import shutil
import subprocess

import pytest

from conftest import EXAMPLES, ROOT

TERRAFORM = shutil.which("terraform")
PLUGINS = "/opt/tf-plugins"

pytestmark = [
    pytest.mark.real_tool("terraform"),
    pytest.mark.skipif(TERRAFORM is None, reason="terraform binary not found on PATH"),
]


def terraform(*args, cwd):
    env = dict(os.environ, TF_IN_AUTOMATION="1", TF_CLI_CONFIG_FILE=os.devnull, CHECKPOINT_DISABLE="1")
    return subprocess.run([TERRAFORM, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_generated_output_is_terraform_fmt_clean():
    result = terraform("fmt", "-check", "-recursive", "-diff", ".", cwd=ROOT / "generated")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(not os.path.isdir(PLUGINS), reason=f"AWS provider mirror {PLUGINS} not found")
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_aws_layer_validates_with_the_real_provider(tmp_path, example):
    layer = tmp_path / "aws"
    shutil.copytree(ROOT / "generated" / example.name / "terraform" / "aws", layer)
    init = terraform("init", "-backend=false", "-input=false", "-no-color", f"-plugin-dir={PLUGINS}", cwd=layer)
    assert init.returncode == 0, init.stdout + init.stderr
    result = terraform("validate", "-no-color", cwd=layer)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success! The configuration is valid." in result.stdout
