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


def test_the_pr_comment_is_one_line_when_neither_spec_nor_live_state_changes(tmp_path):
    out = tmp_path / "comment.md"
    command = f"{sys.executable} -m edgec diff {{spec}} {{spec}} --live --format markdown > {out}"
    result = run_cli("sandbox", "--no-drift", str(ROOT / "examples" / "public-api" / "edge.yaml"),
                     "--dir", str(tmp_path / "s"), "--", "sh", "-c", command)
    assert result.exit_code == 0, out.read_text()
    assert out.read_text() == "edgec: no changes.\n"


def test_the_pr_comment_shows_the_live_drift_beside_the_spec_change(tmp_path):
    out = tmp_path / "comment.md"
    command = f"{sys.executable} -m edgec diff {{spec}} {{spec}} --live --format markdown > {out}"
    result = run_cli("sandbox", str(ROOT / "examples" / "public-api" / "edge.yaml"),
                     "--dir", str(tmp_path / "s"), "--", "sh", "-c", command)
    assert result.exit_code == 2, out.read_text()
    comment = out.read_text()
    assert "No spec changes" in comment and "sip.acme.com" in comment and "legacy.acme.com" in comment
