"""`edgec plan` for the AWS layer against moto in server mode, over HTTP, with boto3 as the client."""

import json

import boto3
import pytest

from aws_support import applied_example
from conftest import run_cli
from edgec.spec.validate import validate

pytestmark = pytest.mark.real_tool("moto_server")


@pytest.fixture()
def estate(tmp_path, monkeypatch, moto_url):
    applied, session = applied_example("private-internal", tmp_path, monkeypatch, moto_url)
    return applied.spec_path, session.client("ec2", endpoint_url=moto_url), applied.spec


def plan_json(path):
    result = run_cli("plan", "--format", "json", str(path))
    return result.exit_code, json.loads(result.stdout)


def test_an_applied_estate_has_no_aws_changes(estate):
    path, _, _ = estate
    code, report = plan_json(path)
    assert report["errors"] == [] and report["layers_read"] == ["aws"]
    assert [c for c in report["changes"] if c["action"] != "unmanaged"] == []
    assert code == 0
    assert report["api_calls"]["aws"] > 0


def test_a_rule_opened_by_hand_is_drift(estate):
    path, ec2, spec = estate
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"{spec.name}-internal"]}])
    ec2.authorize_security_group_ingress(GroupId=group["SecurityGroups"][0]["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    code, report = plan_json(path)
    assert code == 2
    changes = [(c["action"], c["kind"], c["key"]) for c in report["changes"] if c["action"] != "unmanaged"]
    assert changes == [("delete", "security_group_rule", "internal ingress tcp/22 0.0.0.0/0")]


def test_a_deleted_rule_is_planned_for_creation(estate):
    path, ec2, spec = estate
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"{spec.name}-internal"]}])
    ec2.revoke_security_group_ingress(GroupId=group["SecurityGroups"][0]["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    code, report = plan_json(path)
    assert code == 2
    assert ("create", "internal ingress tcp/443 10.0.0.0/8") in {(c["action"], c["key"]) for c in report["changes"]}


def test_edited_rule_descriptions_and_aliases_not_evaluating_target_health_are_drift(estate, moto_url):
    """Attributes Terraform's configuration sets are compared, so `edgec apply` can trust the state where
    edgec finds none (docs/apply.md, refresh by list): a rule's description, an alias's target health."""
    path, ec2, spec = estate
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"{spec.name}-internal"]}])
    group_id = group["SecurityGroups"][0]["GroupId"]
    ec2.update_security_group_rule_descriptions_ingress(GroupId=group_id, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "edited by hand"}]}])
    route53 = boto3.client("route53", endpoint_url=moto_url, region_name="us-east-1")
    zone = next(z for z in route53.list_hosted_zones()["HostedZones"] if z["Config"].get("PrivateZone"))
    alias = next(r for r in route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
                 if r.get("AliasTarget"))
    alias["AliasTarget"]["EvaluateTargetHealth"] = False
    route53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": alias}]})
    code, report = plan_json(path)
    assert code == 2
    updates = {c["key"]: {a["name"]: a["live"] for a in c["attributes"]} for c in report["changes"]
               if c["action"] == "update"}
    assert updates["internal ingress tcp/443 10.0.0.0/8"] == {"description": "edited by hand"}
    assert updates[f"{alias['Name'].rstrip('.')} A"]["alias"].endswith("(not evaluating target health)")


def test_a_failed_aws_read_fails_the_plan(estate, monkeypatch):
    path, _, _ = estate
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    code, report = plan_json(path)
    assert code == 1 and report["errors"] and "could not read" in report["errors"][0]
    assert report["changes"] == []


def test_10000_route53_records_are_read_within_the_call_budget(estate, moto_url):
    import math

    import boto3

    from edgec.layers.aws.read import read_aws

    path, _, spec = estate
    session = boto3.Session(region_name=spec.aws.region)
    route53 = session.client("route53", endpoint_url=moto_url)
    zone_id = next(z["Id"] for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == "initech.internal.")
    for start in range(0, 10_000, 1000):  # ChangeResourceRecordSets takes at most 1,000 changes
        route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": {"Name": f"h{i}.initech.internal", "Type": "A", "TTL": 300,
                                                       "ResourceRecords": [{"Value": "10.1.2.3"}]}}
            for i in range(start, start + 1000)]})
    calls = []
    session.events.register("before-send.route53.ListResourceRecordSets", lambda **_: calls.append(1))
    live = read_aws(validate(str(path)).ir, session)
    records = [r for r in live.resources if type(r).__name__ == "AwsRoute53Record" and r.zone == "initech.internal"]
    assert len(records) >= 10_000
    assert len(calls) <= math.ceil(10_000 / 300) + 2, len(calls)
