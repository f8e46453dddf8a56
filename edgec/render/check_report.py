"""`edgec check` results as text (people), JSON (tools), SARIF 2.1.0 (GitHub code scanning annotates
the pull request at each spec FILE:LINE) and JUnit XML (CI test reports)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

from rich.console import Console
from rich.text import Text

from edgec import __version__
from edgec.about import homepage
from edgec.diagnostics import one_line
from edgec.policy.check import UNREASONED, Result
from edgec.policy.rules import POLICIES
from edgec.render.inert import visible

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
STYLES = {"error": "bold red", "warning": "yellow", "note": "cyan"}
ALL_POLICIES = [UNREASONED, *POLICIES]


def _uri(file: str) -> str:
    """Relative to the working directory (the repository root in CI), with forward slashes."""
    path = os.path.relpath(file) if os.path.isabs(file) or os.path.exists(file) else file
    return path.replace(os.sep, "/")


def print_check(console: Console, target: str, results: list[Result], fail_on: str) -> None:
    for r in results:
        if r.suppressed is not None:
            continue
        line = Text(one_line(f"{r.location}: "))
        line.append(f"{r.policy.severity} {r.policy.id}", style=STYLES[r.policy.severity])
        line.append(one_line(f": {r.field_path}: {r.message}. {r.policy.title}: {r.policy.rationale} "
                             f"Fix: {r.policy.fix}"))
        console.print(line)
    failing = [r for r in results if r.fails(fail_on)]
    open_count = sum(r.suppressed is None for r in results)
    suppressed = len(results) - open_count
    summary = (f"{target}: {len(ALL_POLICIES)} policies, {open_count} open finding{'s' * (open_count != 1)}, "
               f"{suppressed} suppressed with a reason")
    console.print(Text(summary + (f"; {len(failing)} at or above --fail-on {fail_on}" if failing else ""),
                       style="bold red" if failing else "green"))


def check_json(target: str, results: list[Result], fail_on: str) -> dict:
    return {"schema_version": 1, "target": target, "fail_on": fail_on,
            "failed": any(r.fails(fail_on) for r in results),
            "policies": [{"id": p.id, "severity": p.severity, "title": p.title, "rationale": p.rationale,
                          "fix": p.fix} for p in ALL_POLICIES],
            "findings": [{"policy": r.policy.id, "severity": r.policy.severity, "file": r.location.file,
                          "line": r.location.line, "column": r.location.column, "path": r.field_path,
                          "message": r.message, "suppressed": r.suppressed is not None,
                          "justification": r.suppressed} for r in results]}


def check_sarif(results: list[Result]) -> dict:
    index = {p.id: i for i, p in enumerate(ALL_POLICIES)}
    rules = [{"id": p.id, "name": "".join(w.capitalize() for w in p.title.replace("'", "").split() if w.isalnum()),
              "shortDescription": {"text": p.title}, "fullDescription": {"text": p.rationale},
              "help": {"text": p.fix}, "defaultConfiguration": {"level": p.severity},
              "properties": {"tags": ["security", "edge"]}} for p in ALL_POLICIES]
    out = []
    for r in results:
        result = {"ruleId": r.policy.id, "ruleIndex": index[r.policy.id], "level": r.policy.severity,
                  "message": {"text": visible(f"{r.field_path}: {r.message}. {r.policy.fix}")},
                  "locations": [{"physicalLocation": {
                      "artifactLocation": {"uri": _uri(r.location.file), "uriBaseId": "%SRCROOT%"},
                      "region": {"startLine": r.location.line, "startColumn": r.location.column}}}]}
        if r.suppressed is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": visible(r.suppressed)}]
        out.append(result)
    # the project's address comes from the installed metadata (edgec/about.py); none from a bare source tree
    driver = {"name": "edgec", "version": __version__, **({"informationUri": homepage()} if homepage() else {}),
              "rules": rules}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": driver},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": "file://" + os.getcwd().rstrip("/") + "/"}},
        "results": out}]}


def check_junit(target: str, results: list[Result], fail_on: str) -> str:
    """One test case per policy: it fails when a finding at or above --fail-on is open."""
    suite = ET.Element("testsuite", name=visible(f"edgec check {target}"), tests=str(len(ALL_POLICIES)))
    failures = 0
    for p in ALL_POLICIES:
        case = ET.SubElement(suite, "testcase", classname="edgec.policies", name=f"{p.id} {p.title}")
        mine = [r for r in results if r.policy.id == p.id]
        failing = [r for r in mine if r.fails(fail_on)]
        if failing:
            failures += 1
            failure = ET.SubElement(case, "failure", message=f"{len(failing)} finding(s): {p.title}", type=p.severity)
            # XML cannot hold most control characters at all: data's are shown as escapes
            failure.text = visible("\n".join(f"{r.location}: {r.field_path}: {r.message}" for r in failing)
                                   + f"\nFix: {p.fix}")
        others = [r for r in mine if r not in failing]
        if others:
            ET.SubElement(case, "system-out").text = visible("\n".join(
                f"{r.location}: {r.field_path}: {r.message}"
                + (f" (suppressed: {r.suppressed})" if r.suppressed is not None else "") for r in others))
    suite.set("failures", str(failures))
    return ET.tostring(ET.ElementTree(suite).getroot(), encoding="unicode", xml_declaration=True) + "\n"
