"""Diff the AWS layer: security groups and rules, NLBs, target groups, listeners, Route 53.

Identity is by name (edgec names AWS resources `<spec>-<gateway>[-purpose]`) and, for rules, by
direction, source and port. Only resources carrying edgec's tags are candidates for delete; others in
the spec's VPC are reported as unmanaged. Rules belong to their group: extra rules in an edgec group
are deletes (someone opened a port by hand), rules in other groups are not edgec's business.
"""

from __future__ import annotations

from edgec.diff.plan import Change, compare_keyed
from edgec.ir.model import (
    IR,
    AwsAcmCertificate,
    AwsListener,
    AwsLoadBalancer,
    AwsRoute53Record,
    AwsRoute53Zone,
    AwsSecurityGroup,
    AwsSecurityGroupRule,
    AwsTargetGroup,
)
from edgec.read.aws import AwsLive

LAYER = "aws"


def diff_aws(desired: IR, live: AwsLive) -> list[Change]:
    wanted_groups = {r.group_name for r in desired if isinstance(r, AwsSecurityGroup)}
    owned_groups = {name for kind, name in live.owned if kind == "security_group"} | wanted_groups
    live_groups = {r.gateway for r in live.resources if isinstance(r, AwsSecurityGroup) and r.group_name in owned_groups}
    changes = _keyed(desired, live, AwsSecurityGroup, "security_group", lambda r: r.group_name,
                     lambda r: {"description": r.description}, live.owned)
    changes += _rules(desired, live, live_groups)
    changes += _keyed(desired, live, AwsLoadBalancer, "load_balancer", lambda r: r.lb_name,
                      lambda r: {"internal": r.internal, "subnets": sorted(r.subnets)}, live.owned,
                      replace_on=frozenset({"internal", "subnets"}))
    changes += _keyed(desired, live, AwsTargetGroup, "target_group", lambda r: r.group_name,
                      lambda r: {"port": r.port, "protocol": r.protocol, "health_port": r.health_port,
                                 "health_path": r.health_path}, live.owned, replace_on=frozenset({"port", "protocol"}))
    changes += _keyed(desired, live, AwsListener, "listener", lambda r: f"{r.gateway}:{r.port}",
                      lambda r: {"protocol": r.protocol, "target_group": r.target_group,
                                 # only TLS listeners have a policy (some APIs echo a default for TCP)
                                 "ssl_policy": r.ssl_policy if r.protocol == "TLS" else None},
                      live.owned)
    changes += _keyed(desired, live, AwsRoute53Zone, "route53_zone", lambda r: r.zone,
                      lambda r: {"private": r.private}, live.owned, replace_on=frozenset({"private"}))
    changes += _keyed(desired, live, AwsRoute53Record, "route53_record", lambda r: f"{r.fqdn} {r.type}",
                      lambda r: _record_view(r, live), live.owned)
    changes += _certificates(desired, live)
    return changes


def _certificates(desired: IR, live: AwsLive) -> list[Change]:
    """A certificate is there when one covers exactly its names; other certificates in the account are
    not the spec's business (accounts hold many)."""
    found = {tuple(sorted(r.domains)) for r in live.resources if isinstance(r, AwsAcmCertificate)}
    return [Change("create", LAYER, "acm_certificate", f"{r.certificate} ({', '.join(r.domains)})", None)
            for r in desired if isinstance(r, AwsAcmCertificate) and tuple(sorted(r.domains)) not in found]


def _record_view(record: AwsRoute53Record, live: AwsLive) -> dict:
    if record.origin == "live":
        return {"alias": record.alias_gateway, "records": list(record.records) or None, "ttl": record.ttl}
    alias = live.nlb_dns_names.get(record.alias_gateway, f"(the NLB of {record.alias_gateway})") \
        if record.alias_gateway else None
    return {"alias": alias.lower() if alias else None, "records": list(record.records) or None, "ttl": record.ttl}


def _rules(desired: IR, live: AwsLive, live_groups: set[str]) -> list[Change]:
    def key(rule: AwsSecurityGroupRule) -> tuple:
        return rule.gateway, rule.direction, rule.cidr, rule.port, rule.protocol

    wanted = {key(r): r for r in desired if isinstance(r, AwsSecurityGroupRule)}
    found = {key(r): r for r in live.resources if isinstance(r, AwsSecurityGroupRule) and r.gateway in live_groups}
    changes = []
    for k in sorted(set(wanted) | set(found), key=str):
        gateway, direction, cidr, port, protocol = k
        label = f"{gateway} {direction} {protocol}/{port} {cidr}"
        if k not in found:
            changes.append(Change("create", LAYER, "security_group_rule", label, None, gateway=gateway))
        elif k not in wanted:
            changes.append(Change("delete", LAYER, "security_group_rule", label, None, (),
                                  "not in the spec: opened out of band?", gateway=gateway))
    return changes


def _keyed(desired: IR, live: AwsLive, kind: type, label: str, identity, view, owned: set[tuple[str, str]],
           replace_on: frozenset[str] = frozenset()) -> list[Change]:
    return compare_keyed(LAYER, label, {identity(r): r for r in desired if isinstance(r, kind)},
                         {identity(r): r for r in live.resources if isinstance(r, kind)}, view,
                         lambda r: (label, identity(r)) in owned, replace_on,
                         gateway=lambda r: getattr(r, "gateway", None))
