"""`edgec sandbox`: a seeded local estate with drift, and a command run against it."""

import json
import sys

import pytest

from conftest import ROOT, run_cli

pytestmark = pytest.mark.real_tool("moto_server")


def sandboxed(tmp_path, example: str, edgec_args: str, out_name: str, *flags: str):
    """Run `python -m edgec EDGEC_ARGS > OUT` in a sandbox of the example; `{spec}` is the sandbox's spec."""
    out = tmp_path / out_name
    command = f"{sys.executable} -m edgec {edgec_args} > {out}"
    result = run_cli("sandbox", *flags, str(ROOT / "examples" / example / "edge.yaml"), "--dir", str(tmp_path / "s"),
                     "--", "sh", "-c", command)
    return result, out


def test_sandbox_runs_a_plan_that_finds_the_drift(tmp_path):
    result, out = sandboxed(tmp_path, "public-api", "plan --format json {spec}", "plan.json")
    assert result.exit_code == 2, result.output  # the plan's own exit code: changes found
    assert "drift: opened tcp/22" in result.output
    report = json.loads(out.read_text())
    found = {(c["action"], c["kind"]) for c in report["changes"]}
    assert found == {("delete", "security_group_rule"), ("update", "dns_record"), ("unmanaged", "dns_record")}
    assert report["layers_read"] == ["aws", "cloudflare"]
    assert report["api_calls"]["cloudflare"] == 1 + 7  # the zone list, then acme.com: 6 calls and 1 for its client certificate


def test_a_live_only_record_never_reads_as_a_deletion_in_the_markdown_plan(tmp_path):
    """The sandbox's stray record (added by hand, not edgec's): its live values, said to be live only."""
    result, out = sandboxed(tmp_path, "public-api", "plan --format markdown {spec}", "plan.md")
    assert result.exit_code == 2, result.output
    row = next(line for line in out.read_text().splitlines() if "legacy.acme.com" in line)
    assert row.startswith("| ❔ live only | dns_record |") and "→" not in row and "null" not in row
    assert '`content`: `"192.0.2.10"`' in row and "live only (not managed by edgec, never deleted)" in row
    assert "; 1 live only (never deleted).**" in out.read_text()


def test_sandbox_without_drift_plans_clean(tmp_path):
    result, out = sandboxed(tmp_path, "private-internal", "plan --format json {spec}", "plan.json", "--no-drift")
    assert result.exit_code == 0, out.read_text()


def test_the_pr_comment_is_one_line_when_neither_spec_nor_live_state_changes(tmp_path):
    result, out = sandboxed(tmp_path, "public-api", "diff {spec} {spec} --live --format markdown", "comment.md",
                            "--no-drift")
    assert result.exit_code == 0, out.read_text()
    assert out.read_text() == "edgec: no changes.\n"


def test_the_pr_comment_shows_the_live_drift_beside_the_spec_change(tmp_path):
    result, out = sandboxed(tmp_path, "public-api", "diff {spec} {spec} --live --format markdown", "comment.md")
    assert result.exit_code == 2, out.read_text()
    comment = out.read_text()
    assert "No spec changes" in comment and "sip.acme.com" in comment and "legacy.acme.com" in comment


@pytest.mark.parametrize("command", ["edgecc", "{tmp}/notes.txt"])
def test_a_command_that_cannot_run_is_said_before_the_sandbox_starts(tmp_path, command):
    command = command.format(tmp=tmp_path)
    (tmp_path / "notes.txt").write_text("not a program\n")
    result = run_cli("sandbox", str(ROOT / "examples" / "public-api" / "edge.yaml"), "--dir", str(tmp_path / "s"),
                     "--", command, "plan", "{spec}")
    assert result.exit_code == 1
    assert f"cannot run '{command}': no such command on PATH, or it is not executable" in result.output
    assert "sandbox for" not in result.output and not (tmp_path / "s").exists()


@pytest.mark.parametrize("example", ["public-api", "private-internal", "multi-team"])
def test_the_readme_demo_works_with_a_relative_spec_path(tmp_path, monkeypatch, example):
    """`make demo` names the spec relative to the repository; the sandbox's copy of it lives elsewhere, so
    the files it names (an origin-pull certificate) must still be found from there."""
    monkeypatch.chdir(ROOT)
    result = run_cli("sandbox", f"examples/{example}/edge.yaml", "--dir", str(tmp_path / "s"),
                     "--", sys.executable, "-m", "edgec", "validate", "{spec}")
    assert result.exit_code == 0, result.output
