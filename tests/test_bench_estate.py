"""bench/estate.py makes the estates the scale benchmarks run on (docs/performance.md): they must be
valid and clean, shaped as documented, and, once seeded in the sandbox, exactly what a plan reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest
import yaml

from bench.estate import write_estate, write_octodns
from edgec.layers.aws.model import AwsRoute53Record
from edgec.layers.cloudflare.model import CfDnsRecord
from edgec.policy.check import check_policies
from edgec.spec.loader import load_spec
from edgec.spec.validate import validate

HOSTS = 300


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("estate")
    return folder, write_estate(HOSTS, folder)


def test_the_estate_is_a_valid_multi_team_spec_with_no_finding(estate):
    folder, layout = estate
    result = validate(str(folder))
    assert result.ok and result.diagnostics == []
    assert len(result.files) == 1 + layout.teams == 4  # the root file and one file per team
    assert [r for r in check_policies(result) if not r.suppressed] == []


def test_the_estate_has_the_documented_shape(estate):
    folder, layout = estate
    spec = validate(str(folder)).spec
    assert len(spec.ingresses) == HOSTS and len(spec.services) == HOSTS // 10
    assert sum(len(i.routes) for i in spec.ingresses) / HOSTS == 3  # 2, 3 and 4 routes in turn
    assert Counter(i.gateway for i in spec.ingresses) == {"public": 210, "internal": 90}
    providers = Counter(zone.provider for zone in spec.zones.values())
    assert providers == {"cloudflare": 1, "route53": 1}
    assert set(spec.waf) == set(layout.public_zones) and spec.waf[layout.public_zones[0]].custom


def test_the_octodns_zone_files_hold_every_record(estate, tmp_path):
    folder, _ = estate
    count = write_octodns(folder, tmp_path)
    ir = validate(str(folder)).ir
    records = [*ir.of(CfDnsRecord), *ir.of(AwsRoute53Record)]
    assert count == len(records) > HOSTS
    written = 0
    for zone_file in (tmp_path / "zones").glob("*.yaml"):
        for entries in yaml.safe_load(zone_file.read_text()).values():
            for entry in entries if isinstance(entries, list) else [entries]:
                written += len(entry.get("values", [entry.get("value")]))
    assert written == count
    config = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert len(config["zones"]) == 2


@pytest.mark.real_tool("octodns")
def test_octodns_validate_accepts_the_zone_files(estate, tmp_path):
    octodns = os.path.join(os.path.dirname(sys.executable), "octodns-validate")
    if not os.path.exists(octodns):
        pytest.skip("octodns-validate is not installed (pip install -e '.[bench]')")
    write_octodns(estate[0], tmp_path)
    result = subprocess.run([octodns, "--config-file", "config.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.real_tool("moto_server")
def test_a_plan_against_the_seeded_estate_finds_no_change(estate, tmp_path):
    pytest.importorskip("moto", reason="the sandbox needs moto (the sandbox extra)")
    from edgec.sandbox.run import start_sandbox

    sandbox = start_sandbox(load_spec(str(estate[0])), tmp_path, drift=False)
    try:
        result = subprocess.run([sys.executable, "-m", "edgec", "plan", "--format", "json", str(sandbox.spec_path)],
                                env={**os.environ, **sandbox.env}, capture_output=True, text=True, timeout=300)
    finally:
        sandbox.stop()
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["changes"] == [] and report["errors"] == [], result.stderr
    assert report["layers_read"] == ["aws", "cloudflare"]
