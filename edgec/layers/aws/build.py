"""Spec -> the AWS layer's IR: per gateway a security group with its rules, an NLB, target groups and
listeners; Route 53 zones, their host records (aliases to the NLB) and extra record sets; ACM
certificates with the zone that validates each name."""

from __future__ import annotations

from edgec.diagnostics import Path
from edgec.ir.model import Resource
from edgec.ir.names import SECURITY_GROUP_NAME_LIMIT, aws_name, record_label, slug
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
from edgec.layers.aws.txt import txt_value
from edgec.layers.cloudflare.ips import cloudflare_cidrs
from edgec.spec.lookup import gateway_certificates, record_fqdn, zone_of
from edgec.spec.model import DnsRecord, Gateway, Spec

# NLB TLS policies by minimum version (TLS 1.3 is always offered).
NLB_SSL_POLICIES = {version: f"ELBSecurityPolicy-TLS13-{version.replace('.', '-')}-2021-06"
                    for version in ("1.0", "1.1", "1.2", "1.3")}
ROUTE53_AUTOMATIC_TTL = 300  # what "ttl: 1" (automatic) becomes in Route 53, which has no automatic TTL
READINESS_PATH = "/ready"  # Envoy's readiness endpoint on the health port


def build_aws(spec: Spec) -> list[Resource]:
    resources: list[Resource] = []
    resources += _certificates(spec)
    resources += _route53_zones(spec)
    resources += _host_records(spec)
    for zone, records in sorted(spec.dns.items()):
        if spec.zones[zone].provider == "route53":
            resources += _record_sets(spec, zone, records)
    for name, gateway in spec.gateways.items():
        resources += _gateway(spec, name, gateway)
    return resources


def _certificates(spec: Spec) -> list[Resource]:
    out: list[Resource] = []
    for name, cert in sorted(spec.certificates.items()):
        if cert.source == "acm":
            zones = tuple((domain, zone, spec.zones[zone].provider) for domain in cert.domains
                          if (zone := zone_of(spec, domain)))
            out.append(AwsAcmCertificate(slug(name), ("certificates", name), name, tuple(cert.domains), zones))
    return out


# --- Route 53 ----------------------------------------------------------------------------------

def _route53_zones(spec: Spec) -> list[Resource]:
    out: list[Resource] = []
    for name, zone in sorted(spec.zones.items()):
        if zone.provider == "route53":
            vpcs = (spec.aws.vpc_id, *zone.vpc_ids) if zone.private and spec.aws else ()
            out.append(AwsRoute53Zone(slug(name), ("zones", name), name, zone.private, tuple(vpcs)))
    return out


def _host_records(spec: Spec) -> list[Resource]:
    return [AwsRoute53Record(slug("host", ingress.host), ("ingresses", i, "host"), zone, ingress.host, "A",
                             alias_gateway=ingress.gateway)
            for i, ingress in enumerate(spec.ingresses)
            if (zone := zone_of(spec, ingress.host)) and spec.zones[zone].provider == "route53"]


def _record_sets(spec: Spec, zone: str, records: list[DnsRecord]) -> list[Resource]:
    """Route 53 holds one record set per name and type, with all its values (and one TTL)."""
    sets: dict[tuple[str, str], list[tuple[int, DnsRecord]]] = {}
    for i, record in enumerate(records):
        sets.setdefault((record_fqdn(record.name, zone), record.type), []).append((i, record))
    out: list[Resource] = []
    for (fqdn, rtype), members in sorted(sets.items()):
        first, record = members[0]
        origin: Path = ("dns", zone, first, "name")
        ttl = ROUTE53_AUTOMATIC_TTL if record.ttl == 1 else record.ttl
        values = tuple(sorted(route53_value(r) for _, r in members))
        name = record_label(fqdn, rtype, zone, zone_of(spec, fqdn))
        out.append(AwsRoute53Record(name, origin, zone, fqdn, rtype, ttl=ttl, records=values))
    return out


def route53_value(record: DnsRecord) -> str:
    """Route 53's text form: MX and SRV lead with the priority; TXT is quoted (txt.py)."""
    if record.type in ("MX", "SRV"):
        return f"{record.priority} {record.content}"
    if record.type == "TXT":
        return txt_value(record.content)
    return record.content


# --- gateways ----------------------------------------------------------------------------------

def _gateway(spec: Spec, name: str, gateway: Gateway) -> list[Resource]:
    origin: Path = ("gateways", name)
    subnets = spec.aws.subnets.public if gateway.exposure == "public" else spec.aws.subnets.private
    out: list[Resource] = [
        AwsSecurityGroup(slug(name), origin, name, aws_name(spec.name, name, limit=SECURITY_GROUP_NAME_LIMIT),
                         f"edgec {spec.name}: {gateway.exposure} gateway {name} NLB"),
        AwsLoadBalancer(slug(name), origin, name, aws_name(spec.name, name), gateway.exposure == "private",
                        tuple(subnets), gateway.nlb.cross_zone, gateway.nlb.deletion_protection),
    ]
    # The NLB is IPv4-only, so Cloudflare's IPv6 ranges could never match a rule.
    cloudflare_v4 = [cidr for cidr in cloudflare_cidrs() if ":" not in cidr]
    sources = gateway.allow or (cloudflare_v4 if gateway.exposure == "public" else [])
    listener_ports = {"https": gateway.ports.https}
    if gateway.ports.http is not None:
        listener_ports["http"] = gateway.ports.http
    for purpose, port in listener_ports.items():
        out += [AwsSecurityGroupRule(slug(name, purpose, cidr), origin, name, "ingress", cidr, port, "tcp",
                                     f"{purpose} from {cidr}") for cidr in sources]
        out += _listener(spec, name, gateway, purpose, port, origin)
    egress = dict(listener_ports, health=gateway.ports.health)
    out += [AwsSecurityGroupRule(slug(name, "egress", purpose), origin, name, "egress", "vpc", port, "tcp",
                                 f"{purpose} to the Envoy targets") for purpose, port in egress.items()]
    return out


def _listener(spec: Spec, name: str, gateway: Gateway, purpose: str, port: int, origin: Path) -> list[Resource]:
    tls_at_nlb = purpose == "https" and gateway.tls.terminate == "nlb"
    group = AwsTargetGroup(slug(name, purpose), origin, name, aws_name(spec.name, name, purpose), port, "TCP",
                           gateway.ports.health, READINESS_PATH)
    if not tls_at_nlb:
        return [group, AwsListener(slug(name, purpose), origin, name, port, "TCP", group.name)]
    default, *more = [slug(c) for c in gateway_certificates(gateway)]
    return [group, AwsListener(slug(name, purpose), origin, name, port, "TLS", group.name,
                               certificate=default, sni_certificates=tuple(more),
                               ssl_policy=NLB_SSL_POLICIES[gateway.tls.min_version],
                               alpn_policy="HTTP2Preferred")]
