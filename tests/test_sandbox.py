"""`edgec sandbox`: a seeded local estate with drift, and a command run against it."""

import json
import sys

import pytest

from conftest import ROOT, run_cli

pytestmark = pytest.mark.real_tool("moto_server")


def test_sandbox_runs_a_plan_that_finds_the_drift(tmp_path):
    out = tmp_path / "plan.json"
    command = f"{sys.executable} -m edgec plan --format json {{spec}} > {out}"
    result = run_cli("sandbox", str(ROOT / "examples" / "public-api" / "edge.yaml"), "--dir", str(tmp_path / "s"),
                     "--", "sh", "-c", command)
    assert result.exit_code == 2, result.output  # the plan's own exit code: changes found
    assert "drift: opened tcp/22" in result.output
    report = json.loads(out.read_text())
    found = {(c["action"], c["kind"]) for c in report["changes"]}
    assert found == {("delete", "security_group_rule"), ("update", "dns_record"), ("unmanaged", "dns_record")}
    assert report["layers_read"] == ["aws", "cloudflare"]


def test_sandbox_without_drift_plans_clean(tmp_path):
    out = tmp_path / "plan.json"
    command = f"{sys.executable} -m edgec plan --format json {{spec}} > {out}"
    result = run_cli("sandbox", "--no-drift", str(ROOT / "examples" / "private-internal" / "edge.yaml"),
                     "--dir", str(tmp_path / "s"), "--", "sh", "-c", command)
    assert result.exit_code == 0, out.read_text()
