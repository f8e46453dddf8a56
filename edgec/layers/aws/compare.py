"""Compare the AWS layer: what is compared of each resource.

What edgec owns the reader decides (tags; a rule belongs to its group; a Route 53 zone's comment).
Security groups, NLBs and Route 53 zones carry the marker: one that matches without it is adopted. Rules
of groups that are not edgec's, and certificates the spec does not name, are not edgec's business and
are left out.
"""

from __future__ import annotations

from edgec.diff.plan import Change, Comparison, compare
from edgec.ir.model import IR, Resource
from edgec.layers.aws.model import (
    AwsAcmCertificate,
    AwsListener,
    AwsLoadBalancer,
    AwsRoute53Record,
    AwsRoute53Zone,
    AwsSecurityGroup,
    AwsSecurityGroupRule,
    AwsTargetGroup,
)
from edgec.layers.base import LiveLayer


def compare_aws(ir: IR, live: dict[str, LiveLayer]) -> list[Change]:
    state = live["aws"]
    desired = ir.in_layer("aws")
    paired = {r.address for r in desired}
    found = [r for r in state.resources if _relevant(r, state.owned, paired)]
    rules = {
        # a group's description cannot change in place
        AwsSecurityGroup: Comparison(lambda r: {"description": r.description}, frozenset({"description"}),
                                     marked=True),
        AwsSecurityGroupRule: Comparison(lambda r: {"description": r.description},
                                         delete_note="not in the spec: opened out of band?"),
        AwsLoadBalancer: Comparison(lambda r: {"internal": r.internal, "subnets": sorted(r.subnets)},
                                    frozenset({"internal", "subnets"}), marked=True),
        AwsTargetGroup: Comparison(lambda r: {"port": r.port, "protocol": r.protocol, "health_port": r.health_port,
                                              "health_path": r.health_path}, frozenset({"port", "protocol"})),
        AwsListener: Comparison(_listener_view),
        AwsRoute53Zone: Comparison(lambda r: {"private": r.private}, frozenset({"private"}), marked=True),
        AwsRoute53Record: Comparison(_record_view),
        AwsAcmCertificate: Comparison(lambda r: {}),
    }
    return compare(desired, found, state.owned, lambda r: rules[type(r)])


def _relevant(resource: Resource, owned: set[str], paired: set[str]) -> bool:
    """Rules of groups that are not edgec's, and certificates the spec does not name, are left out."""
    if isinstance(resource, AwsSecurityGroupRule):
        return resource.address in owned or resource.address in paired
    if isinstance(resource, AwsAcmCertificate):
        return resource.address in paired
    return True


def _listener_view(r: Resource) -> dict:
    assert isinstance(r, AwsListener)
    # only TLS listeners have a policy (some APIs echo a default for TCP)
    return {"protocol": r.protocol, "target_group": r.target_group,
            "ssl_policy": r.ssl_policy if r.protocol == "TLS" else None}


def _record_view(r: Resource) -> dict:
    assert isinstance(r, AwsRoute53Record)
    alias = f"the NLB of gateway {r.alias_gateway}" if r.alias_gateway else r.alias_target
    return {"alias": alias, "records": list(r.records) or None, "ttl": r.ttl}
