"""The Cloudflare comparison on IR objects: normalisation, ownership, classification."""

import dataclasses

from conftest import ROOT
from edgec.layers.aws.model import AwsLoadBalancer
from edgec.layers.base import LiveLayer
from edgec.layers.cloudflare.compare import compare_cloudflare
from edgec.layers.cloudflare.model import CfDnsRecord, CfRuleset
from edgec.layers.cloudflare.read import owned_addresses
from edgec.spec.validate import validate

IR = validate(str(ROOT / "examples" / "public-api" / "edge.yaml")).ir
DESIRED = IR.in_layer("cloudflare")
NLB = {"public": "acme-prod-public-123.elb.eu-west-1.amazonaws.com",
       "partners": "acme-prod-partners-456.elb.eu-west-1.amazonaws.com"}
AWS = LiveLayer(IR.of(AwsLoadBalancer), {lb.address: {"dns_name": NLB[lb.gateway]} for lb in IR.of(AwsLoadBalancer)})


def diff_cloudflare(live: list) -> list:
    owned = owned_addresses(IR.estate.name, live)  # as the reader decides it
    return compare_cloudflare(IR, {"aws": AWS, "cloudflare": LiveLayer(live, owned=owned)})


def as_live(resource):
    """What a reader would return for a resource that is exactly as desired (cosmetic noise added)."""
    if isinstance(resource, CfDnsRecord):
        content = NLB[resource.gateway] if resource.gateway else resource.content
        if resource.type == "CNAME" and content:
            content = content.upper() + "."  # case and trailing dot must not matter
        return dataclasses.replace(resource, content=content, gateway=None,
                                   ttl=300 if resource.proxied else resource.ttl)  # proxied: TTL is automatic
    return resource


def test_a_live_estate_as_desired_has_no_changes():
    assert diff_cloudflare([as_live(r) for r in DESIRED]) == []


def test_changes_are_classified():
    live = [as_live(r) for r in DESIRED]
    mx = next(r for r in live if isinstance(r, CfDnsRecord) and r.type == "MX")
    sip = next(r for r in live if isinstance(r, CfDnsRecord) and r.fqdn == "sip.acme.com")
    live.remove(sip)  # deleted out of band
    live[live.index(mx)] = dataclasses.replace(mx, content="evil.example.net")  # changed out of band
    live.append(CfDnsRecord("x", (), "acme.com", "legacy.acme.com", "A", 300, False, "192.0.2.9",
                            comment="hand-made"))  # someone else's record
    live.append(CfDnsRecord("y", (), "acme.com", "old.acme.com", "A", 300, False, "192.0.2.8",
                            comment="edgec:acme-prod"))  # edgec's record, no longer in the spec
    changes = {(c.action, c.key): c for c in diff_cloudflare(live)}
    assert set(changes) == {("update", "acme.com MX"), ("create", "sip.acme.com A"),
                            ("unmanaged", "legacy.acme.com A"), ("delete", "old.acme.com A")}
    (attribute,) = changes[("update", "acme.com MX")].attributes
    assert (attribute.name, attribute.desired, attribute.live) == ("content", "mx1.mail.acme-mail.net",
                                                                   "evil.example.net")


def test_rule_changes_show_by_ref_and_foreign_rulesets_are_not_deleted():
    live = [as_live(r) for r in DESIRED]
    custom = next(r for r in live if isinstance(r, CfRuleset) and r.phase == "http_request_firewall_custom")
    edited = dataclasses.replace(custom.rules[0], action="log")
    live[live.index(custom)] = dataclasses.replace(custom, rules=(edited, *custom.rules[1:]))
    live.append(CfRuleset("z", (), "acme.com", "http_request_sbfm", "made by hand", ()))
    changes = diff_cloudflare(live)
    assert [(c.action, c.kind) for c in changes] == [("update", "ruleset"), ("unmanaged", "ruleset")]
    assert changes[0].attributes[0].name == "rules[block-admin]"
