"""`edgec apply` end to end: the real terraform binary and AWS provider against moto in server mode.

The private-ingress example (with eight more A records and two awkward TXT records, so its main zone
holds 22) is applied to an empty moto; the TXT records must reach Route 53 as a DNS server serves them,
edgec's plan and Terraform's own plan must both find nothing to do, an out-of-band security group
change is reported and restored, a reviewed plan file goes stale when the spec is edited, and
deleting a third of the zone needs --force. The provider is pointed at moto by an override
file written next to the generated files, never by changing them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import boto3
import pytest
import yaml
from conftest import ROOT, run_cli

from edgec.layers.aws.txt import txt_strings
from edgec.sandbox.run import moto_provider_override as provider_override
from edgec.sandbox.run import spec_for_moto, start_moto
from edgec.spec.loader import load_spec

TERRAFORM = shutil.which("terraform")
PLUGINS = "/opt/tf-plugins"
EXTRA = [f"batch{n}" for n in range(1, 9)]  # eight A records, deleted again by one test
ZONE = "initech.internal"
DKIM = "v=DKIM1; k=rsa; p=" + "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 9  # 414 bytes: two DNS strings
QUOTED = 'say "hi" \\ to caf\u00e9'  # a quote, a backslash and a byte outside ASCII
TEXTS = [{"name": "mail._domainkey", "type": "TXT", "content": DKIM, "ttl": 300},
         {"name": "greeting", "type": "TXT", "content": QUOTED, "ttl": 300}]

pytestmark = [
    pytest.mark.real_tool("terraform"),
    pytest.mark.skipif(TERRAFORM is None, reason="terraform binary not found on PATH"),
    pytest.mark.skipif(not os.path.isdir(PLUGINS), reason=f"AWS provider mirror {PLUGINS} not found"),
]


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    """moto with the network, the spec naming it, and the provider override; nothing applied yet."""
    server, url = start_moto()
    work = tmp_path_factory.mktemp("apply")
    data = load_spec(str(ROOT / "examples" / "private-internal" / "edge.yaml")).data
    data["dns"][ZONE] += [{"name": name, "type": "A", "content": f"10.9.0.{n}", "ttl": 300}
                          for n, name in enumerate(EXTRA, start=1)] + TEXTS
    region = data["aws"]["region"]
    env = {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": region, "EDGEC_PLUGIN_DIR": PLUGINS, "CHECKPOINT_DISABLE": "1"}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    session = boto3.Session(region_name=region)
    spec = work / "spec" / "edge.yaml"
    spec_for_moto(session, url, data, spec)
    out = work / "out"
    (out / "terraform" / "aws").mkdir(parents=True)
    (out / "terraform" / "aws" / "moto_override.tf").write_text(provider_override(url))
    yield {"spec": spec, "out": out, "session": session, "work": work}
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def edgec(*args):
    return run_cli(*args)


def zone_records(session) -> set[str]:
    route53 = session.client("route53")
    zone = next(z for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == f"{ZONE}.")
    sets = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    return {s["Name"].rstrip(".") for s in sets if s["Type"] not in ("NS", "SOA")}


def zone_texts(session) -> dict[str, list[str]]:
    """Each TXT record's character-strings, unescaped the way a DNS server serves them."""
    route53 = session.client("route53")
    zone = next(z for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == f"{ZONE}.")
    sets = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    return {s["Name"].rstrip("."): [_unescaped(part) for part in txt_strings(s["ResourceRecords"][0]["Value"])]
            for s in sets if s["Type"] == "TXT"}


def _unescaped(text: str) -> str:
    escape = re.compile(rb"\\([0-7]{3}|.)")  # \ddd is a byte in octal, \x is x
    return escape.sub(lambda m: bytes([int(m[1], 8)]) if len(m[1]) == 3 else m[1], text.encode()).decode()


def refreshed_in(output: str) -> tuple[str, str] | None:
    """How many of the state's resources an apply refreshed, and why."""
    found = re.search(r"aws layer: (\d+) of \d+ resource\(s\) in Terraform's state are refreshed \(([^)]*)\)", output)
    return (found[1], found[2]) if found else None


def apply_edited(estate, data: dict):
    """`edgec apply` of the spec edited as `data`; the spec file is as it was afterwards."""
    spec = estate["spec"]
    original = spec.read_text()
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    try:
        return edgec("apply", "--auto-approve", "-o", str(estate["out"]), str(spec))
    finally:
        spec.write_text(original)


@pytest.fixture(scope="module")
def applied(estate):
    result = edgec("apply", "--auto-approve", "--verify", "-o", str(estate["out"]), str(estate["spec"]))
    assert result.exit_code == 0, result.output
    return estate, result


def test_apply_creates_the_estate_and_both_plans_then_find_nothing_to_do(applied):
    estate, result = applied
    assert "Terraform plan, aws layer" in result.output and "to add" in result.output
    assert "Applied; live state now matches the spec." in result.output
    assert {f"{name}.{ZONE}" for name in EXTRA} <= zone_records(estate["session"])
    texts = zone_texts(estate["session"])
    assert texts[f"mail._domainkey.{ZONE}"] == [DKIM[:255], DKIM[255:]]  # split into 255-byte strings
    assert texts[f"greeting.{ZONE}"] == [QUOTED]

    plan = edgec("plan", str(estate["spec"]))
    assert plan.exit_code == 0, plan.output
    assert "No changes." in plan.output

    layer = estate["out"] / "terraform" / "aws"
    terraform = subprocess.run([TERRAFORM, "plan", "-detailed-exitcode", "-input=false", "-no-color"], cwd=layer,
                               capture_output=True, text=True, timeout=600)
    assert terraform.returncode == 0, terraform.stdout + terraform.stderr


def test_a_rule_and_a_record_changed_out_of_band_are_reported_and_restored_refreshing_only_them(applied):
    """The fast path (refresh by list) still corrects out-of-band changes: Terraform refreshes what edgec's
    read found differing, not the whole zone."""
    estate, _ = applied
    route53 = estate["session"].client("route53")
    zone_id = next(z["Id"] for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == f"{ZONE}.")
    edited = f"{EXTRA[0]}.{ZONE}"
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {"Name": edited, "Type": "A", "TTL": 300,
                                                  "ResourceRecords": [{"Value": "10.9.9.9"}]}}]})
    ec2 = estate["session"].client("ec2")
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["initech-internal-data"]}])
    group_id = group["SecurityGroups"][0]["GroupId"]
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])
    rule = next(r for r in rules["SecurityGroupRules"] if r.get("CidrIpv4") == "10.41.0.0/16")
    ec2.modify_security_group_rules(GroupId=group_id, SecurityGroupRules=[{
        "SecurityGroupRuleId": rule["SecurityGroupRuleId"],
        "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443, "CidrIpv4": "0.0.0.0/0"}}])

    drift = edgec("drift", str(estate["spec"]))
    assert drift.exit_code == 2, drift.output
    assert "0.0.0.0/0" in drift.output and "10.41.0.0/16" in drift.output and "10.9.9.9" in drift.output

    reviewed = estate["work"] / "restore.plan"
    assert edgec("plan", "--out", str(reviewed), str(estate["spec"])).exit_code == 2
    unattended = edgec("apply", "-o", str(estate["out"]), str(reviewed))  # no terminal, no --auto-approve
    assert unattended.exit_code == 1, unattended.output
    assert "no terminal to ask for confirmation" in unattended.output
    assert edgec("drift", str(estate["spec"])).exit_code == 2  # nothing was applied

    restore = edgec("apply", "--auto-approve", "-o", str(estate["out"]), str(reviewed))
    assert restore.exit_code == 0, restore.output
    assert "as reviewed" in restore.output
    assert "aws_vpc_security_group_ingress_rule.data_https_10_41_0_0_16" in restore.output
    assert f"aws_route53_record.{EXTRA[0]}_initech_internal_a" in restore.output
    # the first (refused) run refreshed the record (edited) and the rule (its port moved, so it is no longer
    # found as itself), and nothing else: not the zone's other records one by one, nor the gateways'
    # resources (their state is checked live). A refresh writes only the state: the second run finds the
    # record's state as it is live, and Terraform plans its correction from it.
    assert refreshed_in(unattended.output) == ("2", "1 differ live from Terraform's state, 1 not found live")
    assert refreshed_in(restore.output) == ("1", "1 not found live")

    after = edgec("drift", str(estate["spec"]))
    assert after.exit_code == 0, after.output
    assert route53.list_resource_record_sets(HostedZoneId=zone_id, StartRecordName=edited, StartRecordType="A",
                                             MaxItems="1")["ResourceRecordSets"][0]["ResourceRecords"] == [
        {"Value": "10.9.0.1"}]


def test_attributes_edgec_plan_does_not_compare_are_checked_against_the_state_and_restored(applied):
    """Tags, NLB and target group attributes are not in edgec's plan, but Terraform would correct them: the
    fast path reads them at apply, refreshes exactly the resources whose state no longer holds what is
    live, and Terraform restores them."""
    estate, _ = applied
    elb = estate["session"].client("elbv2")
    balancer = elb.describe_load_balancers(Names=["initech-internal-data"])["LoadBalancers"][0]["LoadBalancerArn"]
    group = elb.describe_target_groups(Names=["initech-internal-data-https"])["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_load_balancer_attributes(LoadBalancerArn=balancer, Attributes=[
        {"Key": "deletion_protection.enabled", "Value": "false"}])
    elb.add_tags(ResourceArns=[group], Tags=[{"Key": "owner", "Value": "someone-else"}])
    elb.modify_target_group_attributes(TargetGroupArn=group, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "300"}])

    result = edgec("apply", "--auto-approve", "-o", str(estate["out"]), str(estate["spec"]))
    assert result.exit_code == 0, result.output
    assert refreshed_in(result.output) == ("2", "2 differ live from Terraform's state"), result.output
    attributes = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(
        LoadBalancerArn=balancer)["Attributes"]}
    assert attributes["deletion_protection.enabled"] == "true"
    tags = {t["Key"] for t in elb.describe_tags(ResourceArns=[group])["TagDescriptions"][0]["Tags"]}
    assert "owner" not in tags and "managed-by" in tags
    delay = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(TargetGroupArn=group)["Attributes"]}
    assert delay["deregistration_delay.timeout_seconds"] == "60"


def test_a_spec_change_refreshes_nothing_and_is_applied(applied):
    """The common case: the spec changes, live and Terraform's state agree (the old value): nothing needs
    refreshing, and Terraform plans the change from its state."""
    estate, _ = applied
    data = yaml.safe_load(estate["spec"].read_text())
    next(r for r in data["dns"][ZONE] if r["name"] == EXTRA[2])["content"] = "10.9.7.7"
    result = apply_edited(estate, data)
    assert result.exit_code == 0, result.output
    assert re.search(r"aws layer: all \d+ resource\(s\) in Terraform's state match edgec's live read", result.output)
    assert "refreshed" not in result.output
    assert f"aws_route53_record.{EXTRA[2]}_initech_internal_a" in result.output  # planned, and applied:
    route53 = estate["session"].client("route53")
    zone_id = next(z["Id"] for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == f"{ZONE}.")
    answer = route53.list_resource_record_sets(HostedZoneId=zone_id, StartRecordName=f"{EXTRA[2]}.{ZONE}",
                                               StartRecordType="A", MaxItems="1")["ResourceRecordSets"][0]
    assert answer["ResourceRecords"] == [{"Value": "10.9.7.7"}]
    assert edgec("apply", "--auto-approve", "-o", str(estate["out"]), str(estate["spec"])).exit_code == 0


@pytest.mark.parametrize("name, rtype, new, found", [
    # an A record's state is checked against live before planning: refreshed in the first pass
    (EXTRA[1], "A", "10.9.8.8",
     r"aws layer: 1 of \d+ resource\(s\) in Terraform's state are refreshed \(1 differ live from Terraform's state\)"),
    # a TXT record's is not (the provider unquotes TXT values its own way): found by the refresh-less plan
    ("greeting", "TXT", "hello again", r"aws layer: 1 more resource\(s\) are refreshed"),
])
def test_a_change_made_by_hand_to_match_a_new_spec_is_found_in_the_state_and_nothing_is_written(
        applied, name, rtype, new, found):
    """Live already as the edited spec says, Terraform's state not: the refresh-less plan would rewrite the
    record from its stale state; edgec refreshes it first, and Terraform finds nothing to do."""
    estate, _ = applied
    spec = estate["spec"]
    data = yaml.safe_load(spec.read_text())
    next(r for r in data["dns"][ZONE] if r["name"] == name)["content"] = new
    route53 = estate["session"].client("route53")
    zone_id = next(z["Id"] for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == f"{ZONE}.")

    value = f'"{new}"' if rtype == "TXT" else new
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {"Name": f"{name}.{ZONE}", "Type": rtype, "TTL": 300,
                                                  "ResourceRecords": [{"Value": value}]}}]})
    result = apply_edited(estate, data)
    assert result.exit_code == 0, result.output
    assert re.search(found, result.output), result.output
    assert "Terraform: no changes to apply." in result.output
    assert edgec("apply", "--auto-approve", "-o", str(estate["out"]), str(spec)).exit_code == 0
    assert edgec("plan", str(spec)).exit_code == 0


def test_a_plan_file_goes_stale_when_the_spec_changes_and_deleting_a_third_needs_force(applied):
    estate, _ = applied
    spec = estate["spec"]
    reviewed = estate["work"] / "before-edit.plan"
    assert edgec("plan", "--out", str(reviewed), str(spec)).exit_code == 0

    data = yaml.safe_load(spec.read_text())
    data["dns"][ZONE] = [r for r in data["dns"][ZONE] if r["name"] not in EXTRA]  # 8 of its 22 records
    spec.write_text(yaml.safe_dump(data, sort_keys=False))

    stale = edgec("apply", "--auto-approve", "-o", str(estate["out"]), str(reviewed))
    assert stale.exit_code == 1, stale.output
    assert "the spec changed since the plan was made" in stale.output

    refused = edgec("apply", "--auto-approve", "-o", str(estate["out"]), str(spec))
    assert refused.exit_code == 1, refused.output
    assert "refused [change-share]: zone initech.internal: 8 of its 23 owned resources" in refused.output
    assert {f"{name}.{ZONE}" for name in EXTRA} <= zone_records(estate["session"])  # nothing was deleted

    forced = edgec("apply", "--auto-approve", "--force", "-o", str(estate["out"]), str(spec))
    assert forced.exit_code == 0, forced.output
    assert "8 to destroy" in forced.output
    assert not {f"{name}.{ZONE}" for name in EXTRA} & zone_records(estate["session"])
    assert edgec("plan", str(spec)).exit_code == 0



def test_replacing_the_load_balancers_or_editing_the_apex_is_refused(applied):
    estate, _ = applied
    spec = estate["spec"]
    data = yaml.safe_load(spec.read_text())
    data["aws"]["subnets"]["private"] = data["aws"]["subnets"]["private"][:2]  # an NLB cannot drop a subnet
    apex = next(r for r in data["dns"][ZONE] if r["name"] == "@")
    apex["content"] = "owner=someone-else"
    refused = apply_edited(estate, data)
    assert refused.exit_code == 1, refused.output
    assert refused.output.count("refused [nlb-replace]") == 2
    assert "load balancer initech-internal-data (aws_lb.data) would be replaced" in refused.output
    assert "refused [apex-ns]: apex TXT record initech.internal would be updated" in refused.output
    # the listeners and rules replaced with their NLB are no disagreement between Terraform and edgec
    assert "refused [plan-mismatch]" not in refused.output
    balancers = estate["session"].client("elbv2").describe_load_balancers()["LoadBalancers"]
    assert [len(lb["AvailabilityZones"]) for lb in balancers] == [3, 3]  # nothing was applied
    assert edgec("plan", str(spec)).exit_code == 0


def test_an_acm_certificate_validated_in_cloudflare_stops_the_first_apply_with_the_steps(applied):
    estate, _ = applied
    data = load_spec(str(ROOT / "examples" / "public-api" / "edge.yaml")).data
    spec = estate["work"] / "public-api" / "edge.yaml"
    session = boto3.Session(region_name=data["aws"]["region"])
    spec_for_moto(session, os.environ["AWS_ENDPOINT_URL"], data, spec)
    out = estate["work"] / "public-api-out"
    (out / "terraform" / "aws").mkdir(parents=True)
    (out / "terraform" / "aws" / "moto_override.tf").write_text(provider_override(os.environ["AWS_ENDPOINT_URL"]))

    result = edgec("apply", "--auto-approve", "--layer", "aws", "-o", str(out), str(spec))
    assert result.exit_code == 1, result.output
    assert "ACM certificate(s) partners-acm are validated by records in Cloudflare zones" in result.output
    assert session.client("elbv2").describe_load_balancers()["LoadBalancers"] == []  # nothing was applied
    assert not (out / "terraform" / "aws" / ".edgec.tfplan").exists()
