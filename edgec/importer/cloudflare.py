"""The Cloudflare side of an imported spec: zones with their TLS settings, records (a proxied CNAME to
a gateway's NLB is an ingress host), WAF rulesets, and authenticated origin pulls with each zone's
client certificate."""

from __future__ import annotations

from dataclasses import dataclass, field

from edgec.importer.aws import (
    ACM_VALIDATION_SUFFIX,
    SPEC_RECORD_TYPES,
    Gateways,
    relative_name,
)
from edgec.importer.draft import Draft, identifier
from edgec.ir.names import slug
from edgec.layers.base import LiveLayer
from edgec.layers.cloudflare.build import DEFAULT_MITIGATION_TIMEOUT
from edgec.layers.cloudflare.facts import MANAGED_RULESET_IDS, OWASP_ANOMALY_RULE_ID
from edgec.layers.cloudflare.model import (
    CfDnsRecord,
    CfOriginPullCertificate,
    CfOriginPulls,
    CfRuleset,
    CfZoneSetting,
    WafRule,
)

CUSTOM_ACTIONS = frozenset({"block", "challenge", "managed_challenge", "js_challenge", "log", "skip"})
RATE_LIMIT_ACTIONS = frozenset({"block", "challenge", "managed_challenge", "js_challenge", "log"})
RATE_LIMIT_KEYS = frozenset({"characteristics", "period", "requests_per_period", "mitigation_timeout"})
SKIP_KEYS = frozenset({"ruleset", "phases", "products"})


@dataclass
class OriginPulls:
    """What the gateways' client authentication follows from: the zones with origin pulls on, and the
    spec name of each zone's own client certificate."""

    zones: set[str] = field(default_factory=set)
    certificates: dict[str, str] = field(default_factory=dict)


def import_cloudflare(draft: Draft, live: LiveLayer, gateways: Gateways, accounts: set[str]) -> OriginPulls:
    if len(accounts) == 1:
        draft.root["cloudflare"] = {"account_id": next(iter(accounts))}
    zones = sorted({r.zone for r in live.resources if hasattr(r, "zone")}
                   | {a.removeprefix("cloudflare_zone.") for a in live.facts if a.startswith("cloudflare_zone.")})
    for zone in zones:
        draft.section("zones")[zone] = {"provider": "cloudflare"}
    settings: dict[str, dict] = {}
    client_certificates: dict[str, str] = {}
    for resource in sorted(live.resources, key=lambda r: r.address):
        if isinstance(resource, CfZoneSetting):
            settings.setdefault(resource.zone, {})[resource.setting_id] = resource.value
        elif isinstance(resource, CfRuleset):
            _ruleset(draft, resource)
        elif isinstance(resource, CfOriginPullCertificate):
            _client_certificate(draft, resource, client_certificates)
    for zone, values in sorted(settings.items()):
        draft.section("zones")[zone]["tls"] = _zone_tls(draft, zone, values)
    _records(draft, [r for r in live.resources if isinstance(r, CfDnsRecord)], gateways)
    pulls = {r.zone for r in live.resources if isinstance(r, CfOriginPulls) and r.enabled}
    return OriginPulls(pulls, client_certificates)


# --- zone settings -----------------------------------------------------------------------------

def _zone_tls(draft: Draft, zone: str, values: dict) -> dict:
    tls: dict = {"mode": values.get("ssl"), "min_version": values.get("min_tls_version"),
                 "always_use_https": values.get("always_use_https") == "on", "tls_1_3": values.get("tls_1_3") != "off"}
    if values.get("tls_1_3") not in ("on", "off"):
        draft.notes.append(f"zone {zone}: tls_1_3 is '{values.get('tls_1_3')}'; the spec writes on or off")
    hsts = (values.get("security_header") or {}).get("strict_transport_security") or {}
    if any(hsts.get(k) for k in ("enabled", "max_age", "include_subdomains", "preload", "nosniff")):
        tls["hsts"] = {"enabled": bool(hsts.get("enabled")), "max_age": hsts.get("max_age", 0),
                       "include_subdomains": bool(hsts.get("include_subdomains")),
                       "preload": bool(hsts.get("preload")), "nosniff": bool(hsts.get("nosniff"))}
    return tls


# --- DNS ---------------------------------------------------------------------------------------

def _records(draft: Draft, records: list[CfDnsRecord], gateways: Gateways) -> None:
    hosts = set()
    for record in records:
        gateway = gateways.dns_names.get((record.content or "").rstrip(".").lower())
        if record.type == "CNAME" and gateway is not None:
            gateways.hosts[record.fqdn] = gateway
            hosts.add(record.fqdn)
            if not record.proxied:
                draft.notes.append(f"{record.fqdn} points at gateway {gateway} without Cloudflare's proxy; "
                                   "as an ingress it is proxied, so the plan updates it")
    for record in sorted(records, key=lambda r: (r.zone, r.fqdn, r.type, r.content or "", repr(r.data))):
        if record.fqdn in hosts and record.type == "CNAME":
            continue
        reason = _why_not(record, hosts)
        if reason:
            draft.gap("cloudflare", "dns_record", record.label, reason)
        else:
            draft.zone_part(record.zone, "dns", []).append(_record_entry(record))


def _why_not(record: CfDnsRecord, hosts: set[str]) -> str | None:
    if record.type not in SPEC_RECORD_TYPES:
        return f"record type {record.type} is not one edgec writes"
    # at the apex, Cloudflare flattens the CNAME: other records may stand beside it
    if record.fqdn in hosts and (record.type in ("A", "AAAA", "CNAME") or record.fqdn != record.zone):
        return "beside the CNAME of an ingress host, where a CNAME cannot share its name"
    if (record.content or "").rstrip(".").endswith(ACM_VALIDATION_SUFFIX):
        return "an ACM validation record: edgec writes these for the certificates it requests"
    if record.proxied and record.type not in ("A", "AAAA", "CNAME"):
        return "proxied, which only A, AAAA and CNAME records can be"
    return None


def _record_entry(record: CfDnsRecord) -> dict:
    data = dict(record.data or ())
    entry: dict = {"name": relative_name(record.fqdn, record.zone), "type": record.type}
    if record.type == "SRV":
        entry["priority"] = int(data.get("priority") or 0)
        entry["content"] = f"{data.get('weight')} {data.get('port')} {data.get('target')}"
    elif record.type == "CAA":
        entry["content"] = f'{data.get("flags")} {data.get("tag")} "{data.get("value")}"'
    else:
        entry["content"] = record.content
    if record.type == "MX" and record.priority is not None:
        entry["priority"] = int(record.priority)
    entry["ttl"] = 1 if record.proxied else record.ttl
    if record.proxied:
        entry["proxied"] = True
    comment = _without_marker(record.comment)
    if comment:
        entry["comment"] = comment
    return entry


def _without_marker(comment: str | None) -> str | None:
    """A comment without the ownership marker of an edgec estate ('edgec:acme-prod mail' -> 'mail')."""
    if comment and comment.startswith("edgec:"):
        return comment.partition(" ")[2] or None
    return comment


# --- WAF ---------------------------------------------------------------------------------------

def _ruleset(draft: Draft, ruleset: CfRuleset) -> None:
    """A phase's rules, or a gap for the whole ruleset when one rule cannot be written: the ruleset is one
    resource, so applying the rules edgec can express would delete the others."""
    convert = {"http_request_firewall_custom": _custom_rule, "http_request_firewall_managed": _managed_rule,
               "http_ratelimit": _rate_limit_rule}[ruleset.phase]
    section = {"http_request_firewall_custom": "custom", "http_request_firewall_managed": "managed",
               "http_ratelimit": "rate_limits"}[ruleset.phase]
    waf = draft.zone_part(ruleset.zone, "waf", {})
    taken: set[str] = set()  # rule names are unique within a section (custom, rate_limits), not across
    entries = []
    for rule in ruleset.rules:
        try:
            entry = convert(rule, taken)
        except CannotWrite as exc:
            draft.gap("cloudflare", "ruleset", ruleset.label, f"rule '{rule.description or rule.ref}' {exc}; the "
                      "whole ruleset stays outside the spec (applying the rest would delete it)")
            return
        if isinstance(entry, dict) and "name" in entry:
            taken.add(entry["name"])
            if entry["name"] != rule.description:
                draft.invent(f"waf.{ruleset.zone}.{section}[{len(entries)}].name", entry["name"],
                             "the rule's description is empty, too long or another rule's")
            if slug(entry["name"]) != rule.ref:
                draft.notes.append(f"{ruleset.label}: rule '{entry['name']}' has ref '{rule.ref}'; edgec refers to "
                                   f"it as '{slug(entry['name'])}', so the plan rewrites the rule")
        entries.append(entry)
    if entries:
        waf[section] = entries


def _rule_name(rule: WafRule, taken: set[str]) -> str:
    return identifier(rule.description, taken) if not rule.description or rule.description in taken \
        else rule.description[:100]


class CannotWrite(Exception):
    """A rule the spec cannot express; the message says why."""


def _custom_rule(rule: WafRule, taken: set[str]) -> dict:
    if rule.action not in CUSTOM_ACTIONS:
        raise CannotWrite(f"has action '{rule.action}', which edgec does not write")
    entry: dict = {"name": _rule_name(rule, taken), "expression": rule.expression, "action": rule.action}
    parameters = rule.action_parameters or {}
    if rule.action == "skip":
        if set(parameters) - SKIP_KEYS:
            raise CannotWrite("skips something edgec does not write")
        skip: dict = {"rest_of_ruleset": parameters.get("ruleset") == "current"}
        for key in ("phases", "products"):
            if parameters.get(key):
                skip[key] = list(parameters[key])
        entry["skip"] = skip
    elif parameters:
        raise CannotWrite("has action parameters edgec does not write")
    if not rule.enabled:
        entry["enabled"] = False
    return entry


def _managed_rule(rule: WafRule, taken: set[str]) -> dict | str:
    """A managed ruleset: its name, or its name and overrides."""
    names = {ruleset_id: name for name, ruleset_id in MANAGED_RULESET_IDS.items()}
    parameters = rule.action_parameters or {}
    name = names.get(parameters.get("id", ""))
    if rule.action != "execute" or name is None or set(parameters) - {"id", "overrides"} or not rule.enabled:
        raise CannotWrite("is not a managed ruleset edgec deploys "
                          "(cloudflare-managed, owasp-core, exposed-credentials)")
    overrides = dict(parameters.get("overrides") or {})
    entry: dict = {"ruleset": name}
    if "action" in overrides:
        entry["action"] = overrides.pop("action")
    rules = list(overrides.pop("rules", []))
    categories = list(overrides.pop("categories", []))
    if overrides:
        raise CannotWrite("overrides something edgec does not write")
    if name == "owasp-core":
        anomaly = next((r for r in rules if r.get("id") == OWASP_ANOMALY_RULE_ID), None)
        if anomaly is not None:
            rules.remove(anomaly)
            if "action" in anomaly:
                entry["action"] = anomaly["action"]
            if "score_threshold" in anomaly:
                entry["score_threshold"] = anomaly["score_threshold"]
        levels = {c["category"] for c in categories if c.get("category", "").startswith("paranoia-level-")
                  and c.get("enabled") is False and len(c) == 2}
        for level in (1, 2, 3):
            if levels == {f"paranoia-level-{n}" for n in range(level + 1, 5)}:
                entry["paranoia_level"] = f"PL{level}"
                categories = [c for c in categories if c.get("category") not in levels]
    if rules:
        entry["rules"] = rules
    if categories:
        entry["categories"] = categories
    return entry if len(entry) > 1 else name


def _rate_limit_rule(rule: WafRule, taken: set[str]) -> dict:
    limit = rule.ratelimit or {}
    if rule.action not in RATE_LIMIT_ACTIONS or set(limit) - RATE_LIMIT_KEYS or rule.action_parameters:
        raise CannotWrite("counts or acts in a way edgec does not write")
    entry: dict = {"name": _rule_name(rule, taken), "expression": rule.expression,
                   "characteristics": list(limit.get("characteristics", [])),
                   "requests": limit.get("requests_per_period"), "period": limit.get("period"), "action": rule.action}
    timeout = limit.get("mitigation_timeout")
    default = 0 if "challenge" in rule.action else DEFAULT_MITIGATION_TIMEOUT
    if timeout is not None and timeout != default:
        entry["mitigation_timeout"] = timeout
    if not rule.enabled:
        raise CannotWrite("is switched off, which edgec does not write for rate limits")
    return entry


# --- origin pulls ------------------------------------------------------------------------------

def certificate_path(name: str) -> str:
    """Where import writes a client certificate's PEM, relative to the spec."""
    return f"certs/{name}.pem"


def _client_certificate(draft: Draft, cert: CfOriginPullCertificate, found: dict[str, str]) -> None:
    """The newest client certificate of a zone is the one its gateways expect; older ones are shown, never
    deleted, by plans."""
    if cert.zone in found:
        draft.gap("cloudflare", "origin_pull_certificate", cert.label,
                  "an older client certificate of the zone (edgec manages the newest)")
        return
    name = identifier(f"{cert.zone}-origin-pull", set(draft.section("certificates")))
    path = certificate_path(name)
    draft.files[path] = cert.pem
    draft.section("certificates")[name] = {
        "source": "origin-pull", "certificate_file": path,
        "key_file": draft.invent(f"certificates.{name}.key_file", f"/run/secrets/{name}.key",
                                 "Cloudflare never returns the private key: point key_file (or key_secret) at it"),
        "ca_file": f"/etc/envoy/certs/{name}-ca.pem"}
    found[cert.zone] = name
