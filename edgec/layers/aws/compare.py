"""Compare the AWS layer: what is compared of each resource, and what edgec owns.

Ownership is by tags (`managed-by: edgec`, `edgec:spec: <spec>`, on security groups and NLBs): only
tagged resources are candidates for delete; others in the spec's VPC and zones are reported as
unmanaged. Rules belong to their group: extra rules in an edgec group are deletes (someone opened a
port by hand); rules in other groups, and certificates the spec does not name, are not edgec's business.
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
    ours = {r.gateway for r in desired if isinstance(r, AwsSecurityGroup)} | {
        r.gateway for r in state.resources if isinstance(r, AwsSecurityGroup) and r.address in state.owned}
    paired = {r.address for r in desired}
    found = [r for r in state.resources if _relevant(r, ours, paired)]
    owned = lambda r: r.address in state.owned  # noqa: E731
    rules = {
        AwsSecurityGroup: Comparison(lambda r: {"description": r.description}, owned),
        AwsSecurityGroupRule: Comparison(lambda r: {}, lambda r: r.gateway in ours,
                                         delete_note="not in the spec: opened out of band?"),
        AwsLoadBalancer: Comparison(lambda r: {"internal": r.internal, "subnets": sorted(r.subnets)}, owned,
                                    frozenset({"internal", "subnets"})),
        AwsTargetGroup: Comparison(lambda r: {"port": r.port, "protocol": r.protocol, "health_port": r.health_port,
                                              "health_path": r.health_path}, owned, frozenset({"port", "protocol"})),
        AwsListener: Comparison(_listener_view, owned),
        AwsRoute53Zone: Comparison(lambda r: {"private": r.private}, owned, frozenset({"private"})),
        AwsRoute53Record: Comparison(_record_view, owned),
        AwsAcmCertificate: Comparison(lambda r: {}),
    }
    return compare(desired, found, lambda r: rules[type(r)])


def _relevant(resource: Resource, ours: set[str], paired: set[str]) -> bool:
    """Rules of groups that are not edgec's, and certificates the spec does not name, are left out."""
    if isinstance(resource, AwsSecurityGroupRule):
        return resource.gateway in ours
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
