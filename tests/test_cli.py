"""The command line a user sees: help with examples, version, formats, exit codes."""

import json

import pytest

from conftest import ROOT, run_cli, write
from edgec import __version__


@pytest.mark.parametrize("command", [[], ["validate"], ["schema"]])
def test_every_command_has_help_with_examples(command):
    result = run_cli(*command, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output and "edgec " in result.output


def test_version():
    result = run_cli("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_valid_spec_exits_zero_with_a_summary():
    result = run_cli("validate", str(ROOT / "examples" / "public-api" / "edge.yaml"))
    assert result.exit_code == 0
    assert result.output.strip().endswith("valid (1 file)")


def test_warnings_pass_unless_strict(tmp_path):
    spec = write(tmp_path, """
        apiVersion: edgec/v1
        name: acme
        zones:
          acme.com: {provider: cloudflare, tls: {min_version: "1.0"}}
        """)
    relaxed = run_cli("validate", str(spec))
    assert relaxed.exit_code == 0
    assert f"{spec}:4:55: warning: zones[\"acme.com\"].tls.min_version: TLS 1.0 is deprecated" in relaxed.output
    assert run_cli("validate", "--strict", str(spec)).exit_code == 1


def test_json_format_is_machine_readable(tmp_path):
    good = str(ROOT / "examples" / "public-api" / "edge.yaml")
    bad = write(tmp_path, "apiVersion: edgec/v1\nname: x\nzones: {acme.com: {provider: godaddy}}\n")
    result = run_cli("validate", "--format", "json", good, str(bad))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["schema_version"] == 1
    assert [r["valid"] for r in report["results"]] == [True, False]
    (diagnostic,) = report["results"][1]["diagnostics"]
    assert diagnostic["path"] == 'zones["acme.com"].provider'
    assert (diagnostic["line"], diagnostic["column"], diagnostic["severity"]) == (3, 30, "error")


def test_plain_output_when_not_a_terminal():
    result = run_cli("validate", str(ROOT / "tests" / "fixtures" / "five-mistakes.yaml"))
    assert "\x1b[" not in result.output  # no colour codes in pipes and CI logs


def test_schema_command_prints_the_committed_schema(tmp_path):
    assert run_cli("schema").output == (ROOT / "schemas" / "edge.schema.json").read_text()
    out = tmp_path / "fragment.json"
    assert run_cli("schema", "--fragment", "-o", str(out)).exit_code == 0
    assert "required" not in json.loads(out.read_text())


def test_secrets_are_not_accepted_in_the_spec(tmp_path):
    spec = write(tmp_path, "apiVersion: edgec/v1\nname: x\ncloudflare: {api_token: abc}\n")
    result = run_cli("validate", str(spec))
    assert result.exit_code == 1 and "unknown field 'api_token'" in result.output


def test_readme_tour_shows_real_output(monkeypatch):
    monkeypatch.chdir(ROOT)
    readme = (ROOT / "README.md").read_text()
    shown = [line for line in readme.splitlines() if line.startswith("tests/fixtures/five-mistakes.yaml:")]
    actual = run_cli("validate", "tests/fixtures/five-mistakes.yaml").output.splitlines()
    assert shown and shown == [line for line in actual if line.startswith("tests/fixtures/")]
    assert "✓ examples/multi-team/: valid (9 files)" in readme
    assert run_cli("validate", "examples/multi-team/").output.strip() == "✓ examples/multi-team/: valid (9 files)"


def test_an_internal_error_is_short_and_exits_3(monkeypatch):
    import edgec.cli.offline

    def broken(_):
        raise RuntimeError("boom near '\x1b]8;;https://evil.example\x1b\\host\u202e'")  # data it quotes
    monkeypatch.setattr(edgec.cli.offline, "validate", broken)
    monkeypatch.delenv("EDGEC_DEBUG", raising=False)
    result = run_cli("validate", "x.yaml")
    assert result.exit_code == 3
    assert "internal error: RuntimeError: boom near '\\x1b]8;;https://evil.example" in result.output
    assert "\x1b" not in result.output and "\u202e" not in result.output and "Traceback" not in result.output


def test_an_ascii_console_gets_ascii_marks_not_a_crash():
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONIOENCODING="ascii")
    result = subprocess.run([sys.executable, "-m", "edgec", "validate", "examples/public-api/edge.yaml"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK examples/public-api/edge.yaml: valid")


def test_usage_errors_exit_64_so_that_2_can_mean_changes():
    assert run_cli("validate").exit_code == 64
    assert run_cli("plan", "--format", "yaml", "x.yaml").exit_code == 64
    assert run_cli("--version").exit_code == 0 and run_cli("plan", "--help").exit_code == 0


def test_shell_completion_works_as_the_readme_says():
    """The README's bash line defines a completion function; asked, it completes commands and choices."""
    import os
    import pathlib
    import subprocess
    import sys

    edgec = str(pathlib.Path(sys.executable).parent / "edgec")
    assert "eval \"$(_EDGEC_COMPLETE=bash_source edgec)\"" in (ROOT / "README.md").read_text()

    def complete(words: str, current: int, mode: str = "bash_complete") -> str:
        env = {**os.environ, "_EDGEC_COMPLETE": mode, "COMP_WORDS": words, "COMP_CWORD": str(current)}
        return subprocess.run([edgec], env=env, capture_output=True, text=True, timeout=60).stdout

    assert "complete -o nosort -F _edgec_completion edgec" in complete("", 0, "bash_source")
    assert "plain,plan" in complete("edgec pl", 1).splitlines()
    assert complete("edgec drift --format ", 3).splitlines() == ["plain,text", "plain,json", "plain,markdown",
                                                                  "plain,html"]
