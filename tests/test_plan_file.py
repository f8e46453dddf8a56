"""Reviewed plan files are pinned whole: `edgec apply PLANFILE` refuses a file with any byte changed (the
embedded plan, the digests, the spec path, the layers), and a file that is broken or is not a plan file
gets one clear error. The plan is made against moto with the private-internal example applied to it."""

from __future__ import annotations

import json

import pytest
import yaml

from aws_support import applied_example
from conftest import ROOT, run_cli
from edgec.apply.pin import PlanFileError, read_plan_file, seal

AS_REVIEWED = "the spec, compiled output and live state are as reviewed"


@pytest.fixture()
def reviewed(tmp_path, monkeypatch, moto_url):
    """A plan file with one change to review: a record the spec adds."""
    applied, _ = applied_example("private-internal", tmp_path, monkeypatch, moto_url)
    data = yaml.safe_load(applied.spec_path.read_text())
    data["dns"]["initech.internal"].append({"name": "added", "type": "A", "content": "10.9.9.9", "ttl": 300})
    applied.spec_path.write_text(yaml.safe_dump(data, sort_keys=False))
    path = tmp_path / "reviewed.plan"
    made = run_cli("plan", "--layer", "aws", "--out", str(path), str(applied.spec_path))
    assert made.exit_code == 2, made.output
    return path


def apply(path) -> tuple[int, str]:
    """`edgec apply PLANFILE` with a Terraform that is not installed: it gets past the pin checks only when
    the file is accepted, and stops right there."""
    out = path.parent / "out"
    result = run_cli("apply", "--auto-approve", "--terraform-bin", "no-such-terraform", "-o", str(out), str(path))
    return result.exit_code, result.output


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("✗", "FAIL"))]


def test_an_untouched_plan_file_is_applied_as_reviewed(reviewed):
    code, output = apply(reviewed)
    assert AS_REVIEWED in output
    assert "'no-such-terraform' not found on PATH" in output and code == 1


def test_a_change_to_any_byte_of_a_plan_file_is_refused(reviewed, tmp_path):
    original = reviewed.read_bytes()
    doctored = tmp_path / "doctored.plan"
    for offset in range(len(original)):
        replacement = b"#" if original[offset] != ord("#") else b"%"
        doctored.write_bytes(original[:offset] + replacement + original[offset + 1:])
        with pytest.raises(PlanFileError):
            read_plan_file(str(doctored))
    for part in ('"plan"', '"digests"', '"spec"', '"layers"', '"seal"'):
        assert original.index(part.encode()) < len(original)  # each of them was among the bytes changed


@pytest.mark.parametrize("edit, reason", [
    (lambda d: d["plan"].update(has_changes=False, counts={}, changes=[]), "its seal does not match"),
    (lambda d: d["plan"]["layers_read"].append("cloudflare"), "its seal does not match"),
    (lambda d: d["digests"].update(live="sha256:" + "0" * 64), "its seal does not match"),
    (lambda d: d.update(spec=d["spec"].replace("edge.yaml", "other.yaml")), "its seal does not match"),
    (lambda d: d.update(layers=["aws", "cloudflare"]), "its seal does not match"),
])
def test_a_doctored_plan_file_is_refused_with_one_clear_line(reviewed, edit, reason):
    data = json.loads(reviewed.read_text())
    edit(data)
    reviewed.write_text(json.dumps(data, indent=2))
    code, output = apply(reviewed)
    assert code == 1 and AS_REVIEWED not in output
    assert len(error_lines(output)) == 1 and reason in output and "refusing a plan file" in output


def test_a_resealed_plan_that_is_not_the_reviewed_one_is_refused(reviewed):
    """Anyone can compute the seal again; the plan it holds must still be the one its digests pin."""
    data = json.loads(reviewed.read_text())
    data["plan"].update(has_changes=not data["plan"]["has_changes"])
    data["seal"] = seal(data)
    reviewed.write_text(json.dumps(data, indent=2))
    code, output = apply(reviewed)
    assert code == 1 and AS_REVIEWED not in output
    assert "refusing a plan file whose plan is not the one its live digest was made from" in output


def test_a_broken_plan_file_gets_one_clear_error(reviewed):
    reviewed.write_text(reviewed.read_text()[:-200])  # cut short, as by a failed copy
    code, output = apply(reviewed)
    assert code == 1
    assert error_lines(output) == [line for line in output.splitlines() if line.strip()]  # nothing else printed
    assert len(error_lines(output)) == 1 and "not a plan file: its JSON is broken at line" in output


def test_the_json_output_of_edgec_plan_is_not_taken_for_a_plan_file(reviewed, tmp_path):
    shown = tmp_path / "plan.json"
    shown.write_text(json.dumps(json.loads(reviewed.read_text())["plan"]))
    code, output = apply(shown)
    assert code == 1 and len(error_lines(output)) == 1
    assert 'JSON, but not an edgec plan file (no "format": "edgec-plan"' in output


def test_a_yaml_file_is_a_spec_and_any_other_file_a_plan_file(tmp_path):
    spec = tmp_path / "edge.yml"
    spec.write_text('{"format": "edgec-plan"}\n')  # YAML too: read as a spec, whatever it holds
    assert read_plan_file(str(spec)) is None
    assert read_plan_file(str(tmp_path)) is None
    with pytest.raises(PlanFileError, match="cannot read .*missing.plan: No such file"):
        read_plan_file(str(tmp_path / "missing.plan"))


def test_edgec_plan_will_not_save_a_plan_file_that_apply_would_take_for_a_spec(tmp_path):
    spec = ROOT / "examples" / "public-api" / "edge.yaml"
    result = run_cli("plan", "--out", str(tmp_path / "reviewed.yaml"), str(spec))
    assert result.exit_code == 64
    assert "would be taken for a spec by edgec apply" in result.output
    assert not (tmp_path / "reviewed.yaml").exists()
