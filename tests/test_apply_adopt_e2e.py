"""Adopting an estate built without edgec, end to end: the real terraform binary and AWS provider
against moto in server mode, the AWS layer of the multi-team example (a public and an internal
gateway, a private Route 53 zone with its records, three more added) seeded as a foreign sandbox seeds it: no ownership
tags, no marker in the zone's comment, no Terraform state.

`edgec apply` refuses and creates nothing; `edgec apply --adopt` imports everything and adds nothing
(Terraform only sets the ownership tags and the zone's comment); then edgec's plan is clean and a
second apply is a no-op. With the state lost afterwards, the resources carry edgec's markers, so
apply imports them again without --adopt.
"""

from __future__ import annotations

import os

import boto3
import pytest
from conftest import ROOT, run_cli
from test_apply_e2e import PLUGINS, TERRAFORM

from edgec.apply.adopt import IMPORTS_FILE
from edgec.apply.terraform import PLAN_FILE
from edgec.sandbox.run import apply_to_moto, start_moto
from edgec.sandbox.run import moto_provider_override as provider_override
from edgec.spec.loader import load_spec

# plain record sets beside the gateways' aliases: an underscore name (the import ID is ZONE_name_TYPE) and TXT
RECORDS = [{"name": "db", "type": "A", "content": "10.20.0.5", "ttl": 300},
           {"name": "_ldap._tcp", "type": "SRV", "content": "100 389 dc1.globex.internal", "priority": 0, "ttl": 300},
           {"name": "@", "type": "TXT", "content": "owner=platform-team", "ttl": 3600}]

pytestmark = [
    pytest.mark.real_tool("terraform"),
    pytest.mark.skipif(TERRAFORM is None, reason="terraform binary not found on PATH"),
    pytest.mark.skipif(not os.path.isdir(PLUGINS), reason=f"AWS provider mirror {PLUGINS} not found"),
]


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    """moto seeded with the example's AWS layer as if built without edgec; the provider override."""
    server, url = start_moto()
    work = tmp_path_factory.mktemp("adopt")
    data = load_spec(str(ROOT / "examples" / "multi-team" / "edge.yaml")).data
    data.setdefault("dns", {})["globex.internal"] = RECORDS
    region = data["aws"]["region"]
    env = {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": region, "EDGEC_PLUGIN_DIR": PLUGINS, "CHECKPOINT_DISABLE": "1"}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    session = boto3.Session(region_name=region)
    applied = apply_to_moto(session, url, data, work / "spec" / "edge.yaml", foreign=True)
    out = work / "out"
    (out / "terraform" / "aws").mkdir(parents=True)
    (out / "terraform" / "aws" / "moto_override.tf").write_text(provider_override(url))
    yield {"spec": str(applied.spec_path), "out": out, "session": session, "before": inventory(session)}
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def inventory(session) -> dict[str, int]:
    """How many of each kind of object moto holds."""
    ec2, elb, route53 = (session.client(s) for s in ("ec2", "elbv2", "route53"))
    zones = route53.list_hosted_zones()["HostedZones"]
    return {
        "load balancers": len(elb.describe_load_balancers()["LoadBalancers"]),
        "target groups": len(elb.describe_target_groups()["TargetGroups"]),
        "security groups": len([g for g in ec2.describe_security_groups()["SecurityGroups"]
                                if g["GroupName"] != "default"]),
        "security group rules": len(ec2.describe_security_group_rules()["SecurityGroupRules"]),
        "zones": len(zones),
        "record sets": sum(len(route53.list_resource_record_sets(HostedZoneId=z["Id"])["ResourceRecordSets"])
                           for z in zones),
    }


def apply(estate, *flags):
    return run_cli("apply", "--auto-approve", "--layer", "aws", *flags, "-o", str(estate["out"]), estate["spec"])


def left_behind(estate) -> list[str]:
    layer = estate["out"] / "terraform" / "aws"
    return [name for name in (IMPORTS_FILE, PLAN_FILE, "terraform.tfstate") if (layer / name).exists()]


@pytest.fixture(scope="module")
def refused(estate):
    return apply(estate)


@pytest.fixture(scope="module")
def adopted(estate, refused):
    return apply(estate, "--adopt", "--verify")


def test_without_adopt_apply_refuses_names_what_exists_and_creates_nothing(estate, refused):
    assert refused.exit_code == 1, refused.output
    assert "without edgec's ownership marker" in refused.output and "edgec apply --adopt" in refused.output
    assert "exists, not edgec's: aws_lb.public (globex-prod-public)" in refused.output
    assert "exists, not edgec's: aws_route53_zone.globex_internal (globex.internal)" in refused.output
    assert "Applying" not in refused.output
    assert inventory(estate["session"]) == estate["before"]
    assert left_behind(estate) == []  # no state, no plan, no import blocks


def test_with_adopt_terraform_imports_everything_and_adds_nothing(estate, adopted):
    assert adopted.exit_code == 0, adopted.output
    assert "imports" in adopted.output and "existing resource(s) into Terraform's state" in adopted.output
    summary = next(line for line in adopted.output.splitlines() if "Apply complete!" in line)
    assert " imported, 0 added, " in summary and summary.rstrip().endswith("0 destroyed.")
    assert "Applied; live state now matches the spec." in adopted.output
    assert inventory(estate["session"]) == estate["before"]
    assert left_behind(estate) == ["terraform.tfstate"]  # the import blocks did their work and are gone


def test_after_adoption_the_plan_is_clean_and_a_second_apply_is_a_no_op(estate, adopted):
    assert adopted.exit_code == 0, adopted.output
    plan = run_cli("plan", "--layer", "aws", estate["spec"])
    assert plan.exit_code == 0, plan.output
    assert "No changes." in plan.output and "to adopt" not in plan.output  # the markers are set
    again = apply(estate)
    assert again.exit_code == 0, again.output
    assert "Terraform: no changes to apply." in again.output and "to import" not in again.output
    assert inventory(estate["session"]) == estate["before"]


def test_a_lost_state_is_imported_again_without_adopt_as_the_markers_say_whose_it_is(estate, adopted):
    assert adopted.exit_code == 0, adopted.output
    (estate["out"] / "terraform" / "aws" / "terraform.tfstate").rename(estate["out"] / "lost.tfstate")
    recovered = apply(estate)
    assert recovered.exit_code == 0, recovered.output
    summary = next(line for line in recovered.output.splitlines() if "Apply complete!" in line)
    assert " imported, 0 added, 0 changed, 0 destroyed." in summary
    assert inventory(estate["session"]) == estate["before"]
