"""Spec -> the Cloudflare layer's IR: zone TLS settings, WAF entry-point rulesets (custom, managed,
rate limits), authenticated origin pulls with each zone's client certificate, Origin CA certificates,
host records (proxied CNAMEs to the gateway's NLB) and extra records."""

from __future__ import annotations

from edgec.ir.model import Resource
from edgec.ir.names import record_label, short_hash, slug
from edgec.ir.ownership import marker
from edgec.layers.cloudflare.facts import MANAGED_RULESET_IDS, OWASP_ANOMALY_RULE_ID
from edgec.layers.cloudflare.model import (
    CfDnsRecord,
    CfOriginCaCertificate,
    CfOriginPullCertificate,
    CfOriginPulls,
    CfRuleset,
    CfZoneSetting,
    WafRule,
)
from edgec.spec.lookup import record_fqdn, zone_of
from edgec.spec.model import (
    DnsRecord,
    ManagedRuleset,
    OriginPullCertificate,
    Spec,
    ZoneTls,
    ZoneWaf,
)
from edgec.spec.pem import read_certificate

DEFAULT_MITIGATION_TIMEOUT = 60  # seconds a rate-limit block lasts, unless the spec says otherwise


def build_cloudflare(spec: Spec) -> list[Resource]:
    zones = sorted(name for name, zone in spec.zones.items() if zone.provider == "cloudflare")
    resources: list[Resource] = []
    for zone in zones:
        resources += _zone_settings(zone, spec.zones[zone].tls or ZoneTls())
    for zone, waf in sorted(spec.waf.items()):
        resources += _rulesets(spec, zone, waf)
    resources += _origin_pulls(spec)
    resources += _origin_ca_certificates(spec)
    resources += _host_records(spec)
    for zone in zones:
        resources += _extra_records(spec, zone, spec.dns.get(zone, []))
    return resources


def _zone_settings(zone: str, tls: ZoneTls) -> list[Resource]:
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
    return [CfZoneSetting(slug(zone, setting), ("zones", zone, "tls"), zone, setting, value)
            for setting, value in values.items()]


def _origin_pulls(spec: Spec) -> list[Resource]:
    """Origin pulls on for each zone whose hosts go to a gateway that checks client certificates, with the
    zone's own client certificate unless the gateway takes Cloudflare's shared one (validation made sure
    the gateways of one zone agree)."""
    zones: dict[str, str | None] = {}
    for ingress in spec.ingresses:
        tls = spec.gateways[ingress.gateway].tls
        zone = zone_of(spec, ingress.host)
        if tls.client_auth and zone and spec.zones[zone].provider == "cloudflare":
            zones[zone] = tls.origin_pull_certificate if tls.client_auth == "cloudflare-origin-pull" else None
    out: list[Resource] = []
    for zone, name in sorted(zones.items()):
        out.append(CfOriginPulls(slug(zone), ("zones", zone), zone, True))
        if name is not None:
            cert = spec.certificates[name]
            assert isinstance(cert, OriginPullCertificate)
            pem = read_certificate(cert.certificate_file)
            out.append(CfOriginPullCertificate(slug(zone), ("certificates", name), zone, pem.fingerprint, name,
                                               pem.text, cert.key_file, cert.key_secret))
    return out


def _origin_ca_certificates(spec: Spec) -> list[Resource]:
    return [CfOriginCaCertificate(slug(name), ("certificates", name), name, tuple(cert.domains),
                                  f"origin-{cert.key_type}", cert.validity_days)
            for name, cert in sorted(spec.certificates.items()) if cert.source == "cloudflare-origin-ca"]


# --- WAF ---------------------------------------------------------------------------------------

def _rulesets(spec: Spec, zone: str, waf: ZoneWaf) -> list[Resource]:
    phases = {
        "http_request_firewall_custom": _custom_rules(waf),
        "http_request_firewall_managed": tuple(_managed_rule(m) for m in waf.managed),
        "http_ratelimit": _rate_limit_rules(waf),
    }
    out: list[Resource] = []
    for phase, rules in phases.items():
        if rules:
            short = phase.rsplit("_", 1)[-1]
            out.append(CfRuleset(slug(zone, short), ("waf", zone), zone, phase,
                                 marker(spec.name, f"{short} rules for {zone}"), rules))
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


# --- DNS ---------------------------------------------------------------------------------------

def _host_records(spec: Spec) -> list[Resource]:
    return [CfDnsRecord(slug("host", ingress.host), ("ingresses", i, "host"), zone, ingress.host, "CNAME", 1, True,
                        gateway=ingress.gateway, comment=marker(spec.name))
            for i, ingress in enumerate(spec.ingresses)
            if (zone := zone_of(spec, ingress.host)) and spec.zones[zone].provider == "cloudflare"]


def _extra_records(spec: Spec, zone: str, records: list[DnsRecord]) -> list[Resource]:
    counts: dict[tuple, int] = {}
    for record in records:
        key = (record_fqdn(record.name, zone), record.type)
        counts[key] = counts.get(key, 0) + 1
    out: list[Resource] = []
    for i, record in enumerate(records):
        fqdn = record_fqdn(record.name, zone)
        name = record_label(fqdn, record.type, zone, zone_of(spec, fqdn))
        if counts[(fqdn, record.type)] > 1:  # several values: tell them apart by content
            name = f"{name}_{short_hash(record.content)}"
        out.append(_record(spec, name, ("dns", zone, i, "name"), zone, fqdn, record))
    return out


def _record(spec: Spec, name: str, origin, zone: str, fqdn: str, record: DnsRecord) -> CfDnsRecord:
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
                       priority=priority, comment=marker(spec.name, record.comment), data=data)
