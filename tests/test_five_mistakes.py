"""Acceptance: five distinct mistakes give five located diagnostics, exit 1, no traceback."""

import json

from conftest import ROOT, run_cli

SPEC = "tests/fixtures/five-mistakes.yaml"


def test_five_mistakes_give_five_located_errors(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run_cli("validate", SPEC)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    located = [line.split(": error: ")[0] + " " + line.split(": error: ")[1].split(":")[0] for line in errors]
    assert located == [
        f"{SPEC}:18:25 gateways.internal.allow[1]",  # invalid CIDR (host bits set)
        f"{SPEC}:25:39 ingresses[0].routes[0].service",  # unknown service reference
        f"{SPEC}:26:11 ingresses[1].host",  # duplicate host
        f"{SPEC}:30:11 ingresses[2].host",  # host outside every zone
        f'{SPEC}:38:82 waf["acme.com"].custom[0].expression',  # broken WAF expression, column inside it
    ]
    assert "did you mean 'payments'?" in errors[1]
    assert "did you mean '172.16.0.0/12'?" in errors[0]
    assert "5 errors" in result.output


def test_five_mistakes_as_json(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run_cli("validate", "--format", "json", SPEC)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    diagnostics = report["results"][0]["diagnostics"]
    assert [(d["line"], d["column"], d["severity"]) for d in diagnostics] == [
        (18, 25, "error"), (25, 39, "error"), (26, 11, "error"), (30, 11, "error"), (38, 82, "error")]
    assert report["results"][0]["valid"] is False
