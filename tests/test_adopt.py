"""Adoption in the plan: over a foreign sandbox (the estate built without edgec: moto and the fake
Cloudflare with no ownership markers), every example plans adopt actions and nothing else; the IDs
`edgec apply` imports each resource by are the providers' own; the sandbox writes the gateways'
Envoy bootstraps and names them in EDGEC_ENVOY_CONFIG."""

from __future__ import annotations

import json
import sys

import boto3
import hcl2
import pytest

from conftest import EXAMPLES, run_cli
from edgec.diff.make_plan import plan_and_live
from edgec.diff.plan import ADOPT_NOTE, ADOPTED_TOO_NOTE, Action, Comparison, PlanOptions, compare
from edgec.layers import layer_named
from edgec.layers.aws.model import (
    AwsListener,
    AwsLoadBalancer,
    AwsRoute53Record,
    AwsRoute53Zone,
    AwsSecurityGroup,
    AwsSecurityGroupRule,
)
from edgec.layers.cloudflare.model import CfDnsRecord, CfOriginPulls, CfRuleset, CfZoneSetting
from edgec.layers.envoy import LAYER as ENVOY
from edgec.sandbox.run import ENVOY_CONFIG_ENV, start_sandbox
from edgec.spec.loader import load_spec
from edgec.spec.validate import validate

pytestmark = pytest.mark.real_tool("moto_server")
MARKED = (AwsSecurityGroup, AwsLoadBalancer, AwsRoute53Zone, CfDnsRecord, CfRuleset)


@pytest.fixture()
def foreign(tmp_path, monkeypatch):
    """Start a foreign sandbox of an example; edgec's environment points at it."""
    started = []

    def start(example):
        sandbox = start_sandbox(load_spec(str(example / "edge.yaml")), tmp_path / "sandbox", drift=False, foreign=True)
        started.append(sandbox)
        for key, value in sandbox.env.items():
            monkeypatch.setenv(key, value)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_an_estate_built_without_edgec_plans_adopt_actions_only(foreign, example):
    sandbox = foreign(example)
    result = run_cli("plan", "--format", "json", str(sandbox.spec_path))
    assert result.exit_code == 0, result.output  # adoptions are not changes
    report = json.loads(result.stdout)
    assert report["has_changes"] is False and not report["errors"]
    assert {"create", "update", "replace", "delete"}.isdisjoint(report["counts"])
    ir = validate(str(sandbox.spec_path)).ir
    marked = {r.address for r in ir.resources if isinstance(r, MARKED)}
    adopted = {c["address"] for c in report["changes"] if c["action"] == "adopt"}
    assert adopted == marked and report["counts"]["adopt"] == len(marked)
    assert all(c["note"] == ADOPT_NOTE for c in report["changes"] if c["action"] == "adopt")

    text = run_cli("plan", str(sandbox.spec_path)).output
    assert f"No changes. {len(marked)} to adopt." in text and "<= " in text


def test_the_import_ids_are_the_providers_own(foreign):
    example = next(e for e in EXAMPLES if e.name == "multi-team")  # both Terraform layers, a client certificate
    sandbox = foreign(example)
    ir = validate(str(sandbox.spec_path)).ir
    plan, live = plan_and_live(ir, [], PlanOptions())
    assert not plan.errors
    aws, cloudflare = live["aws"], live["cloudflare"]
    aws_ids = layer_named("aws").import_ids(aws)
    cloudflare_ids = layer_named("cloudflare").import_ids(cloudflare)

    session = boto3.Session(region_name=ir.estate.aws.region)
    ec2, elb, route53 = (session.client(s) for s in ("ec2", "elbv2", "route53"))
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["globex-prod-public"]}])
    assert aws_ids["aws_security_group.public"] == group["SecurityGroups"][0]["GroupId"]
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [
        group["SecurityGroups"][0]["GroupId"]]}])["SecurityGroupRules"]
    rule_ids = {aws_ids[r.address] for r in aws.resources
                if isinstance(r, AwsSecurityGroupRule) and r.gateway == "public"}
    assert rule_ids == {r["SecurityGroupRuleId"] for r in rules} and all(i.startswith("sgr-") for i in rule_ids)
    balancer = elb.describe_load_balancers(Names=["globex-prod-public"])["LoadBalancers"][0]
    assert aws_ids["aws_lb.public"] == balancer["LoadBalancerArn"]
    listener = next(r for r in aws.resources if isinstance(r, AwsListener) and r.gateway == "public")
    assert aws_ids[listener.address] in {l["ListenerArn"] for l in elb.describe_listeners(
        LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]}
    zone = route53.list_hosted_zones_by_name(DNSName="globex.internal")["HostedZones"][0]
    bare = zone["Id"].removeprefix("/hostedzone/")
    assert aws_ids["aws_route53_zone.globex_internal"] == bare and "/" not in bare
    record = next(r for r in aws.resources if isinstance(r, AwsRoute53Record))
    assert aws_ids[record.address] == f"{bare}_{record.fqdn}_{record.type}"

    zone_id = cloudflare.facts["cloudflare_zone.globex.com"]["id"]
    for r in cloudflare.resources:
        facts = cloudflare.facts.get(r.address, {})
        expected = {CfDnsRecord: f"{zone_id}/{facts.get('id')}", CfRuleset: f"zones/{zone_id}/{facts.get('id')}",
                    CfOriginPulls: zone_id}.get(type(r))
        if isinstance(r, CfZoneSetting):
            expected = f"{zone_id}/{r.setting_id}"
        if expected is not None:
            assert cloudflare_ids[r.address] == expected
    assert cloudflare_ids["cloudflare_authenticated_origin_pulls_certificate.globex_com"].startswith(f"{zone_id}/")


def test_nothing_foreign_is_claimed_but_zone_settings(foreign):
    """Without --adopt, apply imports only what carries edgec's marker or belongs to what does: in an
    estate built without edgec, only the settings every zone has."""
    sandbox = foreign(next(e for e in EXAMPLES if e.name == "multi-team"))
    _, live = plan_and_live(validate(str(sandbox.spec_path)).ir, [], PlanOptions())
    assert live["aws"].claimed == set() and live["aws"].owned - _rules(live["aws"]) == set()
    assert {type(r) for r in live["cloudflare"].resources if r.address in live["cloudflare"].claimed} == {
        CfZoneSetting, CfOriginPulls}


def _rules(state) -> set[str]:
    # a rule of a group the spec names counts as edgec's for deletion (a rule opened by hand), not for adoption
    return {r.address for r in state.resources if isinstance(r, AwsSecurityGroupRule)}


def test_the_foreign_sandbox_writes_each_gateways_envoy_bootstrap(foreign):
    example = next(e for e in EXAMPLES if e.name == "public-api")
    sandbox = foreign(example)
    ir = validate(str(sandbox.spec_path)).ir
    compiled = ENVOY.emit(ir)
    pairs = dict(pair.split("=", 1) for pair in sandbox.env[ENVOY_CONFIG_ENV].split(","))
    assert sorted(pairs) == ["partners", "public"]
    for gateway, path in pairs.items():
        assert path == str((sandbox.spec_path.parent / "envoy" / f"{gateway}.yaml").resolve())
        with open(path, encoding="utf-8") as fh:
            assert fh.read() == compiled[f"envoy/{gateway}.yaml"]


def test_the_cli_sandbox_is_foreign_without_drift(tmp_path):
    example = next(e for e in EXAMPLES if e.name == "private-internal")
    out = tmp_path / "plan.json"
    command = (f"{sys.executable} -m edgec plan --format json {{spec}} > {out} && "
               f'echo "$EDGEC_ENVOY_CONFIG" > {tmp_path / "envoy.txt"}')
    result = run_cli("sandbox", "--foreign", str(example / "edge.yaml"), "--dir", str(tmp_path / "s"), "--",
                     "sh", "-c", command)
    assert result.exit_code == 0, result.output
    assert "built without edgec" in result.output and "drift:" not in result.output
    report = json.loads(out.read_text())
    assert report["counts"].get("adopt") and set(report["counts"]) == {"adopt"}
    assert (tmp_path / "envoy.txt").read_text().strip().startswith("data=")


def owned_or_not(owned: bool) -> set[str]:
    return {"aws_lb.public"} if owned else set()


@pytest.mark.parametrize("live_subnets, owned, action, note", [
    (("subnet-a",), False, Action.ADOPT, ADOPT_NOTE),
    (("subnet-a",), True, None, None),
    (("subnet-b",), False, Action.REPLACE, ADOPTED_TOO_NOTE),
    (("subnet-b",), True, Action.REPLACE, None),
], ids=["same-foreign", "same-owned", "differs-foreign", "differs-owned"])
def test_a_marked_type_is_adopted_only_when_the_live_one_lacks_the_marker(live_subnets, owned, action, note):
    def lb(subnets):
        return AwsLoadBalancer("public", (), "public", "acme-public", False, subnets, None, None)

    rules = Comparison(lambda r: {"subnets": list(r.subnets)}, frozenset({"subnets"}), marked=True)
    changes = compare([lb(("subnet-a",))], [lb(live_subnets)], owned_or_not(owned), lambda r: rules)
    assert [(c.action, c.note) for c in changes] == ([(action, note)] if action else [])


def test_a_type_without_a_marker_is_never_adopted():
    record = AwsRoute53Record("api", (), "corp.internal", "api.corp.internal", "A", 300, ("10.0.0.1",))
    assert compare([record], [record], set(), lambda r: Comparison(lambda r: {"ttl": r.ttl})) == []


def test_a_record_comment_differing_only_by_the_marker_is_an_adoption_and_any_other_difference_an_update():
    from edgec.layers.cloudflare.compare import compare_cloudflare
    from edgec.layers.base import LiveLayer
    from edgec.ir.model import IR, Estate

    def record(comment):
        return CfDnsRecord("www", (), "acme.com", "www.acme.com", "A", 300, False, "192.0.2.1", comment=comment)

    ir = IR(Estate("acme-prod", {}), [record("edgec:acme-prod legacy web")])

    def changes(comment, owned=False):
        live = LiveLayer([record(comment)], owned={"cloudflare_dns_record.www"} if owned else set())
        return [(c.action, [(a.name, a.desired, a.live) for a in c.attributes])
                for c in compare_cloudflare(ir, {"cloudflare": live})]

    assert changes("legacy web") == [(Action.ADOPT, [])]
    assert changes("edgec:acme-prod legacy web", owned=True) == []
    assert changes("something else") == [(Action.UPDATE, [("comment", "legacy web", "something else")])]
    assert changes("edgec:other-spec legacy web") == [
        (Action.UPDATE, [("comment", "legacy web", "edgec:other-spec legacy web")])]


def test_apply_and_sandbox_help_say_how_to_adopt():
    apply_help = " ".join(run_cli("apply", "--help").output.split())
    assert "--adopt" in apply_help and "is imported only with --adopt" in apply_help
    sandbox_help = " ".join(run_cli("sandbox", "--help").output.split())
    assert "--foreign" in sandbox_help and "EDGEC_ENVOY_CONFIG as GATEWAY=PATH" in sandbox_help


def test_the_sandbox_of_an_applied_estate_names_the_envoy_bootstraps_too(tmp_path):
    example = next(e for e in EXAMPLES if e.name == "private-internal")
    sandbox = start_sandbox(load_spec(str(example / "edge.yaml")), tmp_path, drift=False)
    sandbox.stop()
    gateways = [pair.split("=", 1)[0] for pair in sandbox.env[ENVOY_CONFIG_ENV].split(",")]
    assert gateways == ["data", "internal"] and (tmp_path / "envoy" / "internal.yaml").is_file()


VALIDATION = 'cloudflare_dns_record.acm_validation["_9f1.partners.acme.com"]'


def test_an_existing_acm_validation_record_written_with_for_each_is_imported_by_name_type_and_content(tmp_path):
    """No live record carries a for_each address: the planned one is found by its values."""
    from edgec.apply.adopt import IMPORTS_FILE, imports_for, write_imports
    from edgec.apply.tfplan import read_plan
    from edgec.layers.base import LiveLayer

    live = LiveLayer([CfDnsRecord("_9f1_partners_acme_com_cname", (), "acme.com", "_9f1.partners.acme.com", "CNAME",
                                  60, False, "_c2.acm-validations.aws", comment="edgec ACM validation")],
                     facts={"cloudflare_zone.acme.com": {"id": "z1"},
                            "cloudflare_dns_record._9f1_partners_acme_com_cname": {"id": "r1"}})

    def planned(address, content):
        return {"address": address, "mode": "managed", "type": "cloudflare_dns_record", "name": address[22:],
                "change": {"actions": ["create"], "before": None,
                           "after": {"name": "_9f1.partners.acme.com", "type": "CNAME", "content": content}}}

    layer = layer_named("cloudflare")
    plan = read_plan("cloudflare", str(tmp_path), {"resource_changes": [
        planned(VALIDATION, "_C2.acm-validations.aws."), planned('cloudflare_dns_record.acm_validation["x"]', "other")]})
    imports = imports_for(plan, live, layer.import_ids(live), lambda kind, values: layer.existing(kind, values, live))
    assert [(i.address, i.id, i.label, i.claimed) for i in imports] == [
        (VALIDATION, "z1/r1", "_9f1.partners.acme.com CNAME", False)]

    own = dict(planned("cloudflare_dns_record._9f1_partners_acme_com_cname", "_c2.acm-validations.aws"),
               change={"actions": ["no-op"], "before": {}, "after": {}})
    plan.resources += read_plan("cloudflare", str(tmp_path), {"resource_changes": [own]}).resources
    assert imports_for(plan, live, layer.import_ids(live), lambda kind, values: layer.existing(kind, values, live)) \
        == [], "an object the configuration holds under its own address is not imported a second time"

    write_imports(str(tmp_path), imports)
    options = hcl2.SerializationOptions(strip_string_quotes=True, with_comments=False, explicit_blocks=False)
    written = hcl2.loads((tmp_path / IMPORTS_FILE).read_text(), serialization_options=options)
    assert written["import"] == [{"to": "${" + VALIDATION + "}", "id": "z1/r1"}]
