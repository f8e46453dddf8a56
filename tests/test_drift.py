"""`edgec drift` against the sandbox: differences by owner, in JSON, Markdown and self-contained HTML."""

import json
import sys

import pytest

from conftest import ROOT, run_cli

pytestmark = pytest.mark.real_tool("moto_server")


def test_drift_reports_by_owner_in_every_format(tmp_path):
    """The HTML page also opens with its summary and the findings, most urgent first, and charts drift over
    the JSON reports before it (here: an earlier one with no drift, and a file that is no report)."""
    history = tmp_path / "reports"
    history.mkdir()
    (history / "2026-11-20.json").write_text(json.dumps({"kind": "drift", "by_owner": {}}))
    (history / "notes.json").write_text("not a report")
    outputs = {fmt: tmp_path / f"drift.{fmt}" for fmt in ("json", "markdown", "html")}
    flags = {"json": "", "markdown": "", "html": f"--history {history}"}
    commands = " && ".join(f"{{ {sys.executable} -m edgec drift --format {fmt} {flags[fmt]} -o {path} {{spec}}; "
                           f"test $? -eq 2; }}" for fmt, path in outputs.items())
    result = run_cli("sandbox", str(ROOT / "examples" / "public-api" / "edge.yaml"), "--dir", str(tmp_path / "s"),
                     "--", "sh", "-c", commands)
    assert result.exit_code == 0, result.output
    report = json.loads(outputs["json"].read_text())
    assert report["kind"] == "drift" and report["has_changes"] is True
    assert set(report["by_owner"]) == {"partnerships-team", "platform-team"}  # the SG rule; the records
    assert report["api_calls"]["cloudflare"] == 1 + 7  # the zone list, then acme.com: 6 calls and 1 for its client certificate
    html = outputs["html"].read_text()
    assert html.startswith("<!doctype html>") and "<script" not in html and "http" not in html.split("<body>")[0]
    assert "partnerships-team" in html and "tcp/22" in html
    markdown = outputs["markdown"].read_text()
    assert "### edgec drift:" in markdown and "to create" not in markdown and "→ `null`" not in markdown
    assert "**Drift: 1 changed out of band, 1 stray (edgec's, not in the spec); 1 live only (never deleted).**" in markdown
    assert "→ null" not in html and '<td class="unmanaged">live only</td>' in html
    assert "Drift: 1 changed out of band" in html
    summary, findings = html.split("<h2>Summary</h2>")[1].split("<h2>Findings, most urgent first</h2>")
    assert "<td>partnerships-team</td>" in summary and "<td>platform-team</td>" in summary
    first = findings.split("</tr>")[1]  # after the header: the port opened to the world, in red
    assert '<td class="critical">critical</td>' in first and "0.0.0.0/0" in first
    assert "1 earlier report(s)" in html and "left out: notes.json" in html
    assert html.count("<polyline") == 2  # one chart per owner
    live_only = [c for c in report["changes"] if c["live_only"]]
    assert [(c["action"], c["key"]) for c in live_only] == [("unmanaged", "legacy.acme.com A")]


def test_history_is_for_the_html_page_only():
    result = run_cli("drift", "--format", "json", "--history", str(ROOT), str(ROOT / "examples" / "public-api"))
    assert result.exit_code == 64 and "use it with --format html" in result.output


def test_drift_text_has_its_own_heading_and_summary(tmp_path):
    result = run_cli("sandbox", str(ROOT / "examples" / "public-api" / "edge.yaml"), "--dir", str(tmp_path / "s"),
                     "--", "sh", "-c", f"{sys.executable} -m edgec drift {{spec}} > {tmp_path / 'drift.txt'}")
    assert result.exit_code == 2, result.output
    text = (tmp_path / "drift.txt").read_text()
    assert text.startswith("edgec drift: acme-prod\n") and "Plan:" not in text
    assert ("Drift: 1 changed out of band, 1 stray (edgec's, not in the spec); 1 live only (never deleted).\n"
            in text)
    assert text.endswith("By owner:\n  partnerships-team: 1 difference(s)\n  platform-team: 2 difference(s)\n")
