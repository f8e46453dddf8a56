"""Resolve a validated spec into the IR: every provider-level resource it implies, sorted."""

from __future__ import annotations

from edgec.cloudflare_facts import MANAGED_RULESET_IDS, OWASP_ANOMALY_RULE_ID
from edgec.cloudflare_ips import cloudflare_cidrs
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
    CfDnsRecord,
    CfOriginCaCertificate,
    CfOriginPulls,
    CfRuleset,
    CfZoneSetting,
    Resource,
    WafRule,
)
from edgec.ir.names import aws_name, short_hash, slug
from edgec.spec.lookup import gateway_certificates, record_fqdn, zone_of
from edgec.spec.model import DnsRecord, Gateway, ManagedRuleset, Spec, ZoneTls, ZoneWaf

# NLB TLS policies by minimum version (TLS 1.3 is always offered).
NLB_SSL_POLICIES = {version: f"ELBSecurityPolicy-TLS13-{version.replace('.', '-')}-2021-06"
                    for version in ("1.0", "1.1", "1.2", "1.3")}
DEFAULT_MITIGATION_TIMEOUT = 60  # seconds a rate-limit block lasts, unless the spec says otherwise
ROUTE53_AUTOMATIC_TTL = 300  # what "ttl: 1" (automatic) becomes in Route 53, which has no automatic TTL
READINESS_PATH = "/ready"  # Envoy's readiness endpoint on the health port


def build_ir(spec: Spec) -> IR:
    resources: IR = []
    resources += _zone_settings(spec)
    resources += _rulesets(spec)
    resources += _origin_pulls(spec)
    resources += _certificates(spec)
    resources += _route53_zones(spec)
    resources += _host_records(spec)
    resources += _extra_records(spec)
    for name, gateway in spec.gateways.items():
        resources += _gateway(spec, name, gateway)
    _check_unique_names(resources)
    return sorted(resources, key=lambda r: (r.provider, type(r).__name__, r.name))


def ownership_comment(spec: Spec, comment: str | None) -> str:
    """The marker that tells the differ a record, ruleset or zone is edgec's (Cloudflare has no tags on
    Free plans; Route 53 zones have no tags in the list call): `edgec:<spec>`, then any comment."""
    marker = f"edgec:{spec.name}"
    return f"{marker} {comment}" if comment else marker


def is_owned(spec: Spec, text: str | None) -> bool:
    """Does a comment or description carry this spec's ownership marker?"""
    marker = ownership_comment(spec, None)
    return bool(text) and (text == marker or text.startswith(marker + " "))


# --- Cloudflare zones --------------------------------------------------------------------------

def _cloudflare_zones(spec: Spec) -> list[str]:
    return sorted(name for name, zone in spec.zones.items() if zone.provider == "cloudflare")


def _zone_settings(spec: Spec) -> IR:
    out: IR = []
    for zone_name in _cloudflare_zones(spec):
        tls = spec.zones[zone_name].tls or ZoneTls()
        hsts = tls.hsts
        values = {
            "ssl": tls.mode,
            "min_tls_version": tls.min_version,
            "always_use_https": "on" if tls.always_use_https else "off",
            "tls_1_3": "on" if tls.tls_1_3 else "off",
            "security_header": {"strict_transport_security": {
                "enabled": bool(hsts and hsts.enabled),
                "max_age": hsts.max_age if hsts else 0,
                "include_subdomains": bool(hsts and hsts.include_subdomains),
                "preload": bool(hsts and hsts.preload),
                "nosniff": bool(hsts and hsts.nosniff),
            }},
        }
        for setting, value in values.items():
            out.append(CfZoneSetting(slug(zone_name, setting), f"zones[{zone_name}].tls", zone_name, setting, value))
    return out


def _origin_pulls(spec: Spec) -> IR:
    zones = set()
    for ingress in spec.ingresses:
        gateway = spec.gateways[ingress.gateway]
        zone = zone_of(spec, ingress.host)
        if gateway.tls.client_auth == "cloudflare-origin-pull" and spec.zones[zone].provider == "cloudflare":
            zones.add(zone)
    return [CfOriginPulls(slug(z), f"zones[{z}]", z, True) for z in sorted(zones)]


# --- WAF ---------------------------------------------------------------------------------------

def _rulesets(spec: Spec) -> IR:
    out: IR = []
    for zone_name, waf in sorted(spec.waf.items()):
        origin = f"waf[{zone_name}]"
        phases = {
            "http_request_firewall_custom": _custom_rules(waf),
            "http_request_firewall_managed": tuple(_managed_rule(m) for m in waf.managed),
            "http_ratelimit": _rate_limit_rules(waf),
        }
        for phase, rules in phases.items():
            if rules:
                short = phase.rsplit("_", 1)[-1]
                out.append(CfRuleset(slug(zone_name, short), origin, zone_name, phase,
                                     ownership_comment(spec, f"{short} rules for {zone_name}"), rules))
    return out


def _custom_rules(waf: ZoneWaf) -> tuple[WafRule, ...]:
    rules = []
    for rule in waf.custom:
        parameters = None
        if rule.action == "skip":
            skip = rule.skip
            parameters = {"ruleset": "current"} if skip is None or skip.rest_of_ruleset else {}
            if skip and skip.phases:
                parameters["phases"] = list(skip.phases)
            if skip and skip.products:
                parameters["products"] = list(skip.products)
        rules.append(WafRule(slug(rule.name), rule.name, rule.expression, rule.action, rule.enabled, parameters))
    return tuple(rules)


def _managed_rule(entry: str | ManagedRuleset) -> WafRule:
    managed = ManagedRuleset(ruleset=entry) if isinstance(entry, str) else entry
    overrides: dict = {}
    rule_overrides = [{k: v for k, v in r.model_dump().items() if v is not None} for r in managed.rules]
    categories = [{k: v for k, v in c.model_dump().items() if v is not None} for c in managed.categories]
    if managed.ruleset == "owasp-core":
        if managed.paranoia_level:
            level = int(managed.paranoia_level[-1])
            categories += [{"category": f"paranoia-level-{n}", "enabled": False} for n in range(level + 1, 5)]
        anomaly = {"id": OWASP_ANOMALY_RULE_ID, "action": managed.action, "score_threshold": managed.score_threshold}
        anomaly = {k: v for k, v in anomaly.items() if v is not None}
        if len(anomaly) > 1:
            rule_overrides.append(anomaly)
    elif managed.action:
        overrides["action"] = managed.action
    if categories:
        overrides["categories"] = categories
    if rule_overrides:
        overrides["rules"] = rule_overrides
    parameters: dict = {"id": MANAGED_RULESET_IDS[managed.ruleset]}
    if overrides:
        parameters["overrides"] = overrides
    return WafRule(slug("managed", managed.ruleset), f"managed ruleset {managed.ruleset}", "true", "execute",
                   True, parameters)


def _rate_limit_rules(waf: ZoneWaf) -> tuple[WafRule, ...]:
    return tuple(
        WafRule(slug(rule.name), rule.name, rule.expression, rule.action, True, None, {
            "characteristics": list(rule.characteristics),
            "period": rule.period,
            "requests_per_period": rule.requests,
            "mitigation_timeout": _mitigation_timeout(rule),
        })
        for rule in waf.rate_limits)


def _mitigation_timeout(rule) -> int:
    if rule.mitigation_timeout is not None:
        return rule.mitigation_timeout
    return 0 if "challenge" in rule.action else DEFAULT_MITIGATION_TIMEOUT


# --- certificates ------------------------------------------------------------------------------

def _certificates(spec: Spec) -> IR:
    out: IR = []
    for name, cert in sorted(spec.certificates.items()):
        origin = f"certificates[{name}]"
        if cert.source == "acm":
            zones = []
            for domain in cert.domains:
                zone = zone_of(spec, domain)
                if zone:
                    zones.append((domain, zone, spec.zones[zone].provider))
            out.append(AwsAcmCertificate(slug(name), origin, name, tuple(cert.domains), tuple(zones)))
        elif cert.source == "cloudflare-origin-ca":
            out.append(CfOriginCaCertificate(slug(name), origin, name, tuple(cert.domains),
                                             f"origin-{cert.key_type}", cert.validity_days))
    return out


# --- DNS ---------------------------------------------------------------------------------------

def _route53_zones(spec: Spec) -> IR:
    out: IR = []
    for name, zone in sorted(spec.zones.items()):
        if zone.provider == "route53":
            vpcs = (spec.aws.vpc_id, *zone.vpc_ids) if zone.private and spec.aws else ()
            out.append(AwsRoute53Zone(slug(name), f"zones[{name}]", name, zone.private, tuple(vpcs)))
    return out


def _host_records(spec: Spec) -> IR:
    out: IR = []
    for ingress in spec.ingresses:
        zone = zone_of(spec, ingress.host)
        origin = f"ingresses[{ingress.host}]"
        if spec.zones[zone].provider == "cloudflare":
            out.append(CfDnsRecord(slug("host", ingress.host), origin, zone, ingress.host, "CNAME", 1, True,
                                   gateway=ingress.gateway, comment=ownership_comment(spec, None)))
        else:
            out.append(AwsRoute53Record(slug("host", ingress.host), origin, zone, ingress.host, "A",
                                        alias_gateway=ingress.gateway))
    return out


def _extra_records(spec: Spec) -> IR:
    out: IR = []
    for zone_name, records in sorted(spec.dns.items()):
        if spec.zones[zone_name].provider == "route53":
            out += _route53_record_sets(zone_name, records)
            continue
        counts: dict[tuple, int] = {}
        for record in records:
            key = (record_fqdn(record.name, zone_name), record.type)
            counts[key] = counts.get(key, 0) + 1
        for record in records:
            fqdn = record_fqdn(record.name, zone_name)
            name = slug(fqdn, record.type)
            if counts[(fqdn, record.type)] > 1:  # several values: tell them apart by content
                name = f"{name}_{short_hash(record.content)}"
            origin = f"dns[{zone_name}][{record.name} {record.type}]"
            out.append(_cloudflare_record(spec, name, origin, zone_name, fqdn, record))
    return out


def _route53_record_sets(zone: str, records: list[DnsRecord]) -> IR:
    """Route 53 holds one record set per name and type, with all its values (and one TTL)."""
    sets: dict[tuple[str, str], list[DnsRecord]] = {}
    for record in records:
        sets.setdefault((record_fqdn(record.name, zone), record.type), []).append(record)
    out: IR = []
    for (fqdn, rtype), members in sorted(sets.items()):
        ttl = members[0].ttl
        out.append(AwsRoute53Record(slug(fqdn, rtype), f"dns[{zone}][{members[0].name} {rtype}]", zone, fqdn, rtype,
                                    ttl=ROUTE53_AUTOMATIC_TTL if ttl == 1 else ttl,
                                    records=tuple(sorted(_route53_value(r) for r in members))))
    return out


def _cloudflare_record(spec: Spec, name: str, origin: str, zone: str, fqdn: str, record: DnsRecord) -> CfDnsRecord:
    data = None
    content: str | None = record.content
    if record.type == "SRV":
        weight, port, target = record.content.split()
        data = (("port", int(port)), ("priority", record.priority), ("target", target), ("weight", int(weight)))
        content = None
    elif record.type == "CAA":
        flags, tag, value = record.content.split(" ", 2)
        data = (("flags", int(flags)), ("tag", tag), ("value", value.strip('"')))
        content = None
    priority = record.priority if record.type == "MX" else None
    return CfDnsRecord(name, origin, zone, fqdn, record.type, record.ttl, record.proxied, content,
                       priority=priority, comment=ownership_comment(spec, record.comment), data=data)


def _route53_value(record: DnsRecord) -> str:
    """Route 53's text form: MX and SRV lead with the priority; TXT is quoted."""
    if record.type in ("MX", "SRV"):
        return f"{record.priority} {record.content}"
    if record.type == "TXT":
        return '"' + record.content.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return record.content


# --- gateways ----------------------------------------------------------------------------------

def _gateway(spec: Spec, name: str, gateway: Gateway) -> IR:
    origin = f"gateways[{name}]"
    subnets = spec.aws.subnets.public if gateway.exposure == "public" else spec.aws.subnets.private
    out: IR = [
        AwsSecurityGroup(slug(name), origin, name, aws_name(spec.name, name, limit=255),
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


def _listener(spec: Spec, name: str, gateway: Gateway, purpose: str, port: int, origin: str) -> IR:
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


def _check_unique_names(resources: IR) -> None:
    """Two resources of one kind with one name would collide in Terraform; that is a bug here."""
    seen: dict[tuple[type, str], Resource] = {}
    for resource in resources:
        key = (type(resource), resource.name)
        if key in seen:
            raise AssertionError(f"IR name collision: {resource} and {seen[key]}")
        seen[key] = resource
