"""The AWS side of an imported spec: the estate's name, region, VPC and subnets; a gateway per network
load balancer (exposure, ports, who may connect, TLS at the NLB); Route 53 zones and records; hosts
whose alias points at a gateway's NLB."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from edgec.importer.draft import Draft, identifier, is_identifier
from edgec.ir.names import SECURITY_GROUP_NAME_LIMIT, aws_name
from edgec.layers.aws.build import NLB_SSL_POLICIES, READINESS_PATH
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
from edgec.layers.aws.read import TARGET_GROUP_PURPOSES
from edgec.layers.aws.txt import txt_strings
from edgec.layers.base import LiveLayer
from edgec.layers.cloudflare.ips import cloudflare_cidrs

SPEC_RECORD_TYPES = frozenset({"A", "AAAA", "CNAME", "MX", "TXT", "CAA", "SRV"})
ACM_VALIDATION_SUFFIX = ".acm-validations.aws"
OWN_TAGS = ("managed-by", "edgec:")  # edgec's ownership tags (emit.ownership_tags): not the spec's


@dataclass
class Gateways:
    """Live load balancers by the gateway name chosen for each, and the hosts their aliases name."""

    name: str  # the estate's name
    by_lb_name: dict[str, str] = field(default_factory=dict)  # NLB name -> gateway
    dns_names: dict[str, str] = field(default_factory=dict)  # NLB DNS name (lower case) -> gateway
    hosts: dict[str, str] = field(default_factory=dict)  # hostname -> gateway, from DNS


def estate_name(live: LiveLayer | None, given: str | None, zones: list[str]) -> str:
    """--name; else the `edgec:spec` tag of an NLB edgec once built; else what the NLB names share before
    their last part (edgec names them <estate>-<gateway>); else the first zone's name."""
    if given:
        return given
    lbs = [r for r in (live.resources if live else []) if isinstance(r, AwsLoadBalancer)]
    for lb in lbs:
        tag = next((t["Value"] for t in live.facts[lb.address].get("tags", []) if t["Key"] == "edgec:spec"), None)
        if tag and is_identifier(tag):
            return tag
    names = sorted(lb.lb_name for lb in lbs)
    if names:
        prefix = os.path.commonprefix(names) if len(names) > 1 else names[0].rsplit("-", 1)[0] + "-"
        prefix = prefix[: prefix.rfind("-")] if "-" in prefix else ""
        if prefix and all(len(n) > len(prefix) + 1 for n in names) and is_identifier(prefix):
            return prefix
    return identifier(zones[0] if zones else "imported")


def import_aws(draft: Draft, live: LiveLayer, name: str, region: str, vpc_id: str,
               zones: tuple[str, ...] = (), known_gateways: tuple[str, ...] = ()) -> Gateways:
    """`zones`: only these Route 53 zones (default: all). A load balancer is the gateway of
    `known_gateways` (those given Envoy configurations) whose NLB edgec would name so; else the
    gateway is named after the rest of its name."""
    gateways = Gateways(name)
    by_type = _by_type(live)
    lbs = sorted(by_type.get(AwsLoadBalancer, []), key=lambda lb: lb.lb_name)
    known = {aws_name(name, gateway): gateway for gateway in known_gateways}
    subnets: dict[str, set[tuple[str, ...]]] = {"public": set(), "private": set()}
    for lb in lbs:
        gateway = known.get(lb.lb_name) or identifier(lb.lb_name.removeprefix(f"{name}-"),
                                                      set(gateways.by_lb_name.values()) | set(known.values()))
        if lb.lb_name != aws_name(name, gateway):
            draft.notes.append(f"load balancer {lb.lb_name}: edgec would name gateway {gateway}'s NLB "
                               f"{aws_name(name, gateway)}, so the plan replaces it (its DNS name changes); rename "
                               "the estate (--name) or the gateway so the names agree")
        gateways.by_lb_name[lb.lb_name] = gateway
        gateways.dns_names[live.facts[lb.address]["dns_name"].rstrip(".").lower()] = gateway
        exposure = "private" if lb.internal else "public"
        subnets[exposure].add(lb.subnets)
        draft.section("gateways")[gateway] = {"exposure": exposure}
        draft.invent(f"gateways.{gateway}.nlb", "cross_zone and deletion_protection left at edgec's defaults (on)",
                     "edgec plan does not read them (one call per NLB); check them before the first apply")
    aws: dict = {"region": region, "vpc_id": vpc_id}
    for exposure, found in subnets.items():
        if len(found) > 1:
            draft.notes.append(f"{exposure} NLBs sit in different subnets; the spec has one list per exposure, so "
                               "the first is written and the others' load balancers would be replaced")
        if found:
            aws.setdefault("subnets", {})[exposure] = list(sorted(found)[0])
    tags = _shared_tags(live, lbs)
    if tags:
        aws["tags"] = tags
    draft.root["aws"] = aws
    _listeners(draft, live, by_type, gateways)
    _security_groups(draft, by_type, gateways, name)
    _route53(draft, by_type, gateways, zones)
    return gateways


def _by_type(live: LiveLayer) -> dict[type, list]:
    out: dict[type, list] = {}
    for resource in live.resources:
        out.setdefault(type(resource), []).append(resource)
    return out


def _shared_tags(live: LiveLayer, lbs: list[AwsLoadBalancer]) -> dict[str, str]:
    """The tags every NLB carries (besides edgec's own): the spec's aws.tags, put on every resource."""
    shared: dict[str, str] | None = None
    for lb in lbs:
        tags = {t["Key"]: t["Value"] for t in live.facts[lb.address].get("tags", [])
                if not t["Key"].startswith(OWN_TAGS)}
        shared = tags if shared is None else {k: v for k, v in shared.items() if tags.get(k) == v}
    return dict(sorted((shared or {}).items()))


def _listeners(draft: Draft, live: LiveLayer, by_type: dict, gateways: Gateways) -> None:
    groups = {g.name: g for g in by_type.get(AwsTargetGroup, [])}
    certificates = {live.facts[c.address]["arn"]: c for c in by_type.get(AwsAcmCertificate, [])}
    for listener in sorted(by_type.get(AwsListener, []), key=lambda r: (r.gateway, r.port)):
        gateway = gateways.by_lb_name.get(listener.gateway)
        if gateway is None:
            continue
        spec = draft.section("gateways")[gateway]
        group = groups.get(listener.target_group)
        named = {aws_name(gateways.name, gateway, p): p for p in TARGET_GROUP_PURPOSES}
        purpose = named.get(group.group_name if group else "",
                            "https" if listener.protocol == "TLS" or listener.port == 443 else "http")
        ports = spec.setdefault("ports", {})
        if purpose in ports:
            draft.gap("aws", "listener", f"{gateway}:{listener.port}",
                      f"a second {purpose} listener on the NLB (edgec makes one https and one http listener)")
            continue
        ports[purpose] = listener.port
        if group is not None and group.health_port:
            ports["health"] = group.health_port
            if group.health_path != READINESS_PATH:
                draft.notes.append(f"target group {group.group_name} checks {group.health_path}; edgec checks "
                                   f"Envoy's {READINESS_PATH}, so the plan updates it")
        if listener.protocol == "TLS":
            _tls_at_nlb(draft, live, spec, gateway, listener, certificates)


def _tls_at_nlb(draft: Draft, live: LiveLayer, spec: dict, gateway: str, listener: AwsListener,
                certificates: dict[str, AwsAcmCertificate]) -> None:
    tls = spec.setdefault("tls", {})
    tls["terminate"] = "nlb"
    versions = {policy: version for version, policy in NLB_SSL_POLICIES.items()}
    if listener.ssl_policy in versions:
        tls["min_version"] = versions[listener.ssl_policy]
    elif listener.ssl_policy:
        draft.notes.append(f"gateway {gateway}: TLS policy {listener.ssl_policy} is not one edgec writes; "
                           "the plan updates it to the policy of min_version")
    names = []
    for arn in live.facts[listener.address].get("certificate_arns", []):
        certificate = certificates.get(arn)
        if certificate is None:
            draft.gap("aws", "listener", f"{gateway}:{listener.port}",
                      f"its certificate {arn} is not an ACM certificate of this region")
            return
        names.append(_acm_certificate(draft, certificate))
    if names:
        tls["certificate"] = names[0]
        if names[1:]:
            tls["sni_certificates"] = names[1:]


def _acm_certificate(draft: Draft, certificate: AwsAcmCertificate) -> str:
    """The spec name of an ACM certificate, from its first name ('*.acme.com' -> 'wildcard-acme-com')."""
    certificates = draft.section("certificates")
    domains = list(certificate.domains)
    same = next((name for name, c in certificates.items() if c.get("source") == "acm" and c["domains"] == domains),
                None)
    if same is not None:
        return same
    name = identifier(certificate.domains[0].replace("*", "wildcard"), set(certificates))
    certificates[name] = {"source": "acm", "domains": domains}
    return name


def _security_groups(draft: Draft, by_type: dict, gateways: Gateways, name: str) -> None:
    """A gateway's group is the one named as its NLB; its ingress rules on the listener ports are the
    gateway's `allow` (left out when they are Cloudflare's IPv4 ranges, a public gateway's default);
    edgec's egress rules (listener and health ports to the VPC) are implied. Any other rule is a gap."""
    groups = {g.group_name: g for g in by_type.get(AwsSecurityGroup, [])}
    own = {}
    for gateway in gateways.by_lb_name.values():
        group_name = aws_name(name, gateway, limit=SECURITY_GROUP_NAME_LIMIT)
        if group_name in groups:
            own[group_name] = gateway
        else:
            draft.notes.append(f"gateway {gateway}: no security group named {group_name}; the plan creates one")
    rules: dict[str, list[AwsSecurityGroupRule]] = {}
    for rule in by_type.get(AwsSecurityGroupRule, []):
        if rule.gateway in own:
            rules.setdefault(own[rule.gateway], []).append(rule)
    for gateway, found in sorted(rules.items()):
        _rules(draft, gateway, found)


def _rules(draft: Draft, gateway: str, rules: list[AwsSecurityGroupRule]) -> None:
    spec = draft.section("gateways")[gateway]
    ports = spec.get("ports", {})
    listener_ports = {ports[p] for p in ("https", "http") if p in ports}
    egress_ports = listener_ports | {ports.get("health", 8081)}
    sources: dict[int, set[str]] = {port: set() for port in listener_ports}
    for rule in rules:
        if rule.direction == "egress" and rule.cidr == "vpc" and rule.port in egress_ports and rule.protocol == "tcp":
            continue
        if rule.direction == "ingress" and rule.port in listener_ports and rule.protocol == "tcp":
            sources[rule.port].add(rule.cidr)
            continue
        draft.gap("aws", "security_group_rule", dataclasses.replace(rule, gateway=gateway).label,
                  f"a rule edgec does not make ({rule.direction} {rule.protocol}/{rule.port} {rule.cidr}): "
                  "it stays as it is, outside the spec")
    allowed = [sorted(cidrs) for cidrs in sources.values()]
    if allowed and any(cidrs != allowed[0] for cidrs in allowed):
        draft.notes.append(f"gateway {gateway}: its listener ports admit different sources; the spec's `allow` "
                           "covers both, so the plan adds rules")
    cidrs = sorted(set().union(*map(set, allowed))) if allowed else []
    cloudflare_v4 = sorted(c for c in cloudflare_cidrs() if ":" not in c)
    if not (spec["exposure"] == "public" and cidrs == cloudflare_v4):
        spec["allow"] = cidrs


def _route53(draft: Draft, by_type: dict, gateways: Gateways, wanted: tuple[str, ...]) -> None:
    found = [z for z in by_type.get(AwsRoute53Zone, []) if not wanted or z.zone in wanted]
    zones = {z.zone for z in found}
    for zone in sorted(found, key=lambda z: z.zone):
        entry: dict = {"provider": "route53"}
        if zone.private:
            entry["private"] = True
        draft.section("zones")[zone.zone] = entry
    for record in sorted(by_type.get(AwsRoute53Record, []), key=lambda r: (r.zone, r.fqdn, r.type)):
        if record.zone in zones:
            _route53_record(draft, record, gateways)


def _route53_record(draft: Draft, record: AwsRoute53Record, gateways: Gateways) -> None:
    def gap(reason: str) -> None:
        draft.gap("aws", "route53_record", record.label, reason)

    if record.alias_gateway is not None:
        gateway = gateways.by_lb_name.get(record.alias_gateway)
        if record.type == "A" and gateway:
            gateways.hosts[record.fqdn] = gateway
        else:
            gap("an alias edgec does not make")
    elif record.alias_target is not None:
        gap(f"an alias to {record.alias_target}, which is no gateway's load balancer")
    elif record.type not in SPEC_RECORD_TYPES:
        gap(f"record type {record.type} is not one edgec writes")
    elif any(v.rstrip(".").endswith(ACM_VALIDATION_SUFFIX) for v in record.records):
        gap("an ACM validation record: edgec writes these for the certificates it requests")
    else:
        records = draft.zone_part(record.zone, "dns", [])
        records += [_record_entry(record, value) for value in record.records]


def _record_entry(record: AwsRoute53Record, value: str) -> dict:
    entry: dict = {"name": relative_name(record.fqdn, record.zone), "type": record.type}
    if record.type in ("MX", "SRV"):
        priority, value = value.split(" ", 1)
        entry["priority"] = int(priority)
    entry["content"] = txt_text(value) if record.type == "TXT" else value
    if record.ttl is not None:
        entry["ttl"] = record.ttl
    return entry


def relative_name(fqdn: str, zone: str) -> str:
    return "@" if fqdn == zone else fqdn.removesuffix(f".{zone}")


def txt_text(value: str) -> str:
    """Route 53's '"a" "b\\"c"' as the text it holds, 'ab"c' (the inverse of txt.txt_value)."""
    data = bytearray()
    for string in txt_strings(value):
        i = 0
        while i < len(string):
            if string[i] == "\\" and string[i + 1:i + 4].isdigit() and len(string[i + 1:i + 4]) == 3:
                data.append(int(string[i + 1:i + 4], 8))
                i += 4
            elif string[i] == "\\" and i + 1 < len(string):
                data += string[i + 1].encode()
                i += 2
            else:
                data += string[i].encode()
                i += 1
    return data.decode("utf-8", errors="replace")
