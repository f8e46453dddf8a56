"""Compare the Cloudflare layer: what is compared of each resource, and what edgec owns.

Both sides are normalised first, so cosmetic differences never show: names are lower case without a
trailing dot, proxied records have TTL 1 (automatic), CNAME and MX targets compare without a
trailing dot or case, rules compare by their `ref`, unset optional values equal their defaults, client
certificates by their SHA-256 fingerprint. A host record's target is its gateway's NLB, whose DNS name
the AWS layer's live state gives; without it, only the record's type, proxying and TTL are compared. What edgec owns the reader decides.
Records and rulesets carry the marker (in a comment, a description): one that matches without it is
adopted, so a comment compares without the marker.
"""

from __future__ import annotations

from typing import Any

from edgec.diff.plan import Change, Comparison, compare
from edgec.ir.model import IR, Resource
from edgec.ir.ownership import unmarked
from edgec.layers.aws.model import AwsLoadBalancer
from edgec.layers.base import LiveLayer
from edgec.layers.cloudflare.model import (
    CfDnsRecord,
    CfOriginPullCertificate,
    CfOriginPulls,
    CfRuleset,
    CfZoneSetting,
    record_content,
)


def compare_cloudflare(ir: IR, live: dict[str, LiveLayer]) -> list[Change]:
    nlb_dns_names = _nlb_dns_names(ir, live.get("aws"))
    spec = ir.estate.name
    rules = {
        CfDnsRecord: Comparison(lambda r: _record_view(r, nlb_dns_names, spec), marked=True),
        CfZoneSetting: Comparison(lambda r: {"value": r.value}),
        CfRuleset: Comparison(_ruleset_view, marked=True),
        CfOriginPulls: Comparison(lambda r: {"enabled": r.enabled}),
        # uploaded certificates cannot be changed, only replaced by another
        CfOriginPullCertificate: Comparison(lambda r: {"certificate": f"sha256 {r.fingerprint}"},
                                            replace_on=frozenset({"certificate"})),
    }
    # Origin CA certificates are not read (the API lists them per hostname only): they are not compared
    desired = [r for r in ir.in_layer("cloudflare") if type(r) in rules]
    found = [r for r in live["cloudflare"].resources if type(r) in rules]
    return compare(desired, found, live["cloudflare"].owned, lambda r: rules[type(r)])


def _nlb_dns_names(ir: IR, aws: LiveLayer | None) -> dict[str, str]:
    """Gateway -> the DNS name of its live NLB, from the AWS layer's live state (if it was read)."""
    if aws is None:
        return {}
    return {lb.gateway: aws.facts[lb.address]["dns_name"] for lb in aws.resources
            if isinstance(lb, AwsLoadBalancer) and "dns_name" in aws.facts.get(lb.address, {})}


def _record_view(record: Resource, nlb_dns_names: dict[str, str], spec: str) -> dict[str, Any]:
    assert isinstance(record, CfDnsRecord)
    if record.gateway:
        target = nlb_dns_names.get(record.gateway)
        content = target.rstrip(".").lower() if target else None
    else:
        content = record_content(record)
    attributes = {"proxied": record.proxied, "ttl": 1 if record.proxied else record.ttl,
                  # SRV carries its priority inside `data`; the API echoes it at the top level too
                  "priority": record.priority if record.type == "MX" else None,
                  "data": dict(record.data) if record.data else None,
                  "comment": unmarked(spec, record.comment)}
    if content is not None or not record.gateway:
        attributes["content"] = content
    return attributes


def _rule_view(rule) -> dict[str, Any]:
    return {"description": rule.description, "expression": " ".join(rule.expression.split()),
            "action": rule.action, "enabled": rule.enabled, "action_parameters": rule.action_parameters or None,
            "ratelimit": rule.ratelimit or None}


def _ruleset_view(ruleset: Resource) -> dict[str, Any]:
    assert isinstance(ruleset, CfRuleset)
    return {f"rules[{rule.ref}]": _rule_view(rule) for rule in ruleset.rules} | {
        "rule order": [rule.ref for rule in ruleset.rules]}
