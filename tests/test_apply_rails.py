"""The safety rails of `edgec apply`, on plans in the shape `terraform show -json` gives (the same
parser reads the real ones in test_apply_e2e.py), for the public-api example: a Cloudflare zone,
two public gateways, an origin CA certificate and an ACM certificate; and the rail that holds
Terraform's plan against what edgec's own plan saw."""

from __future__ import annotations

import pytest
import yaml

from conftest import ROOT
from edgec.apply.crosscheck import EdgecView
from edgec.apply.rails import check_rails
from edgec.apply.tfplan import read_plan
from edgec.diff.plan import Action
from edgec.spec.loader import load_spec
from edgec.spec.validate import validate

SPEC = validate(str(ROOT / "examples" / "public-api" / "edge.yaml")).spec
ACTIONS = {"create": ["create"], "update": ["update"], "delete": ["delete"], "no-op": ["no-op"],
           "replace": ["delete", "create"], "replace-cbd": ["create", "delete"]}


def resource(address: str, action: str, importing: str | None = None, **values) -> dict:
    kind, name = address.split(".")
    before = None if action == "create" else dict(values)
    after = None if action == "delete" else dict(values)
    change = {"actions": ACTIONS[action], "before": before, "after": after}
    if importing is not None:
        change["importing"] = {"id": importing}
    return {"address": address, "mode": "managed", "type": kind, "name": name, "change": change}


def record(name: str, action: str, type_: str = "TXT") -> dict:
    return resource(f"cloudflare_dns_record.{name.replace('.', '_')}_{type_.lower()}", action, name=name, type=type_)


def rails(*resources, spec=SPEC, layer="cloudflare", view=EdgecView()) -> dict[str, list[str]]:
    found = {}
    plan = read_plan(layer, f"terraform/{layer}", {"resource_changes": list(resources)})
    for refusal in check_rails(spec, [plan], view):
        found.setdefault(refusal.rail, []).append(refusal.message)
    return found


def zone_records(count: int, changed: int, action: str = "update") -> list[dict]:
    return [record(f"r{n}.acme.com", action if n < changed else "no-op") for n in range(count)]


def test_changing_more_than_30_percent_of_a_zone_is_refused():
    found = rails(*zone_records(10, 4))
    assert found["change-share"] == [
        "zone acme.com: 4 of its 10 owned resources would be updated or deleted (40%, more than 30%); if that is "
        "intended, use --force, or raise zones.acme.com.apply_limits.max_change_percent"]


@pytest.mark.parametrize("count, changed", [(10, 3), (9, 9)], ids=["exactly-30-percent", "below-min-resources"])
def test_the_share_rail_allows_30_percent_and_small_zones(count, changed):
    assert "change-share" not in rails(*zone_records(count, changed))


def test_creates_count_toward_the_share_but_not_as_owned():
    found = rails(*zone_records(10, 2), *[record(f"new{n}.acme.com", "create") for n in range(2)])
    assert found["change-share"] == [
        "zone acme.com: 2 of its 10 owned resources would be updated or deleted and 2 created (40%, more than 30%); "
        "if that is intended, use --force, or raise zones.acme.com.apply_limits.max_change_percent"]
    assert "change-share" not in rails(*zone_records(10, 2), record("new.acme.com", "create"))  # 30%


def test_a_first_apply_is_never_refused_by_the_share():
    assert "change-share" not in rails(*[record(f"new{n}.acme.com", "create") for n in range(50)])


def test_imports_are_neither_owned_nor_changes():
    imported = [resource(f"cloudflare_dns_record.r{n}_acme_com_txt", "update", importing=f"zone/{n}",
                         name=f"r{n}.acme.com", type="TXT") for n in range(30)]
    assert "change-share" not in rails(*zone_records(10, 3), *imported)


def test_the_share_limit_is_tuned_per_zone_in_the_spec(tmp_path):
    data = load_spec(str(ROOT / "examples" / "public-api" / "edge.yaml")).data  # files it names made absolute
    data["zones"]["acme.com"]["apply_limits"] = {"max_change_percent": 50}
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(data))
    tuned = validate(str(path)).spec
    assert "change-share" not in rails(*zone_records(10, 4), spec=tuned)
    assert "change-share" in rails(*zone_records(10, 6), spec=tuned)


def test_gateway_resources_are_counted_per_gateway():
    rules = [resource(f"aws_vpc_security_group_ingress_rule.public_https_10_0_{n}_0_24", "delete" if n < 5 else "no-op",
                      cidr_ipv4=f"10.0.{n}.0/24") for n in range(12)]
    found = rails(*rules, layer="aws")
    assert found["change-share"][0].startswith("gateway public: 5 of its 12 owned resources")


def test_a_public_hostname_losing_its_address_record_is_refused():
    found = rails(record("api.acme.com", "delete", "CNAME"))
    assert found["dns-loss"] == ["public hostname api.acme.com would lose its DNS record (its last address record "
                                 "is deleted); use --force if it is meant to go offline"]


def test_moving_a_hostname_to_a_new_record_is_not_a_loss():
    moved = [record("api.acme.com", "delete", "CNAME"), record("api.acme.com", "create", "A")]
    assert "dns-loss" not in rails(*moved)
    assert "dns-loss" not in rails(record("old.acme.com", "delete", "TXT"))


def test_a_replaced_load_balancer_names_the_hosts_that_lose_it():
    nlb = resource("aws_lb.public", "replace", name="acme-prod-public", dns_name="acme-prod-public-1.elb.amazonaws.com")
    message = rails(nlb, layer="aws")["nlb-replace"][0]
    assert "would be replaced (its DNS name changes)" in message
    assert "acme-prod-public-1.elb.amazonaws.com stops answering for api.acme.com, docs.acme.com" in message
    assert "would be destroyed" in rails(resource("aws_lb.public", "delete", name="acme-prod-public"),
                                         layer="aws")["nlb-replace"][0]


def test_a_certificate_destroyed_before_its_replacement_is_refused_only_when_it_covers_a_host():
    origin = dict(hostnames=["acme.com", "*.acme.com"], request_type="origin-ecc")
    found = rails(resource("cloudflare_origin_ca_certificate.acme_origin", "replace", **origin))
    assert "covers api.acme.com, docs.acme.com, partners.acme.com" in found["certificate"][0]
    assert "certificate" not in rails(resource("cloudflare_origin_ca_certificate.acme_origin", "replace-cbd", **origin))
    unused = resource("aws_acm_certificate.old", "delete", domain_name="old.example.org", subject_alternative_names=[])
    assert "certificate" not in rails(unused, layer="aws")


@pytest.mark.parametrize("change, refused", [
    (record("acme.com", "update"), True),  # an apex record edited
    (record("acme.com", "create"), False),  # a new apex record changes nothing that exists
    (record("acme.com", "create", "NS"), True),  # NS records, whatever the change
    (record("team.acme.com", "create", "NS"), True),  # a delegation
    (record("www.acme.com", "update"), False),
], ids=["apex-update", "apex-create", "apex-ns-create", "subdomain-ns", "plain-update"])
def test_apex_and_ns_changes(change, refused):
    assert ("apex-ns" in rails(change)) is refused


SEEN = EdgecView(live={"aws_route53_zone.corp_internal": "corp.internal", "aws_lb.public": "acme-prod-public",
                       "aws_security_group.public": "acme-prod-public"},
                 objects={"Z0123": "aws_route53_zone.corp_internal", "sg-0abc": "aws_security_group.public"},
                 desired=frozenset({"aws_route53_zone.corp_internal", "aws_lb.public", "aws_security_group.public"}),
                 actions={"aws_security_group.public": Action.UPDATE})


def test_creating_what_edgec_found_live_is_refused_with_both_views():
    found = rails(resource("aws_route53_zone.corp_internal", "create", name="corp.internal"), layer="aws", view=SEEN)
    assert found["plan-mismatch"] == [
        "Terraform would create aws_route53_zone.corp_internal, but edgec's live read found it (corp.internal) and it "
        "is not being imported: creating it again duplicates it or fails; use --force only if Terraform is right"]
    imported = resource("aws_route53_zone.corp_internal", "no-op", importing="Z0123", name="corp.internal")
    assert "plan-mismatch" not in rails(imported, layer="aws", view=SEEN)
    assert "plan-mismatch" not in rails(resource("aws_route53_zone.other", "create", name="other"), layer="aws",
                                        view=SEEN)


def test_replacing_what_edgec_updates_in_place_or_keeps_is_refused():
    group = resource("aws_security_group.public", "replace", id="sg-0abc", name="acme-prod-public")
    assert "edgec's plan saw an update in place" in rails(group, layer="aws", view=SEEN)["plan-mismatch"][0]
    zone = resource("aws_route53_zone.corp_internal", "replace", id="Z0123", name="corp.internal")
    assert "edgec's plan saw no difference from the spec" in rails(zone, layer="aws", view=SEEN)["plan-mismatch"][0]
    agreed = EdgecView(desired=SEEN.desired, actions={"aws_security_group.public": Action.REPLACE})
    assert "plan-mismatch" not in rails(group, layer="aws", view=agreed)


def test_destroying_an_object_edgec_keeps_under_another_address_is_refused():
    old = resource("aws_route53_zone.corp_internal_old", "delete", id="Z0123", name="corp.internal")
    [message] = rails(old, layer="aws", view=SEEN)["plan-mismatch"]
    assert message.startswith("Terraform would destroy aws_route53_zone.corp_internal_old, which is the object "
                              "edgec's plan keeps as aws_route53_zone.corp_internal (corp.internal)")
    gone = resource("aws_route53_zone.retired", "delete", id="Z9999", name="retired.internal")
    assert "plan-mismatch" not in rails(gone, layer="aws", view=SEEN)  # the spec dropped it: nothing keeps it


def test_a_replacement_forced_only_by_a_replaced_dependency_is_not_a_mismatch():
    listener = resource("aws_lb_listener.public_https", "replace", load_balancer_arn="arn:old", port=443)
    cascade = dict(listener, change=dict(listener["change"], replace_paths=[["load_balancer_arn"]],
                                         after_unknown={"load_balancer_arn": True}))
    own = dict(listener, change=dict(listener["change"], replace_paths=[["port"]], after_unknown={}))
    view = EdgecView(desired=frozenset({"aws_lb_listener.public_https"}), actions={"aws_lb.public": Action.REPLACE})
    assert "plan-mismatch" not in rails(cascade, layer="aws", view=view)
    assert "plan-mismatch" in rails(own, layer="aws", view=view)
