"""Semantic checks of the WAF (expressions, rule names, managed rulesets, rate-limit characteristics)
and of DNS records (names, contents, TTLs, clashes with host records, CAA against ACM)."""

from __future__ import annotations

import ipaddress
import re

from edgec.diagnostics import Path, did_you_mean
from edgec.layers.cloudflare.facts import OWASP_ANOMALY_RULE_ID
from edgec.spec.checker import Checker
from edgec.spec.expressions import check_expression
from edgec.spec.lookup import record_fqdn, zone_of

# --- WAF ---------------------------------------------------------------------------------------

def check_waf(c: Checker) -> None:
    for zone_name, waf in c.spec.waf.items():
        path: Path = ("waf", zone_name)
        zone = c.spec.zones.get(zone_name)
        if zone is None and not c.is_broken("zones", zone_name):
            c.error(path, f"WAF rules for undeclared zone '{zone_name}'{did_you_mean(zone_name, c.spec.zones)}",
                    at=c.key_loc(path))
        elif zone is not None and zone.provider != "cloudflare":
            c.error(path, f"zone '{zone_name}' is served by Route 53; WAF rules apply to Cloudflare zones only",
                    at=c.key_loc(path))
        _check_unique_names(c, path + ("custom",), [r.name for r in waf.custom])
        _check_unique_names(c, path + ("rate_limits",), [r.name for r in waf.rate_limits])
        for i, rule in enumerate(waf.custom):
            _check_expression(c, path + ("custom", i, "expression"), rule.expression)
            if rule.skip is not None and rule.action != "skip":
                c.error(path + ("custom", i, "skip"), f"'skip' options need action: skip (this rule's "
                                                      f"action is {rule.action})")
        for i, rule in enumerate(waf.rate_limits):
            _check_expression(c, path + ("rate_limits", i, "expression"), rule.expression)
            if "challenge" in rule.action and rule.mitigation_timeout:
                c.error(path + ("rate_limits", i, "mitigation_timeout"),
                        f"{rule.action} has no duration in Cloudflare (outside an Enterprise add-on); "
                        "remove mitigation_timeout or set it to 0")
            if "cf.colo.id" not in rule.characteristics:
                c.error(path + ("rate_limits", i, "characteristics"),
                        "Cloudflare requires 'cf.colo.id' among the characteristics; add it")
            for j, characteristic in enumerate(rule.characteristics):
                if characteristic not in RATE_LIMIT_CHARACTERISTICS and not _KEYED_CHARACTERISTIC.match(characteristic):
                    c.warn(path + ("rate_limits", i, "characteristics", j),
                           f"'{characteristic}' is not a rate-limit characteristic edgec knows"
                           f"{did_you_mean(characteristic, RATE_LIMIT_CHARACTERISTICS)}")
        _check_managed(c, path + ("managed",), waf.managed)


# Cloudflare's rate-limiting characteristics (its documentation), besides the keyed forms below.
RATE_LIMIT_CHARACTERISTICS = ("ip.src", "cf.colo.id", "ip.src.asnum", "ip.geoip.country", "ip.src.country",
                              "http.host", "http.request.uri.path", "cf.unique_visitor_id", "ip.geoip.asnum",
                              "cf.bot_management.ja3_hash", "cf.bot_management.ja4")
_KEYED_CHARACTERISTIC = re.compile(
    r'^(http\.request\.(headers|cookies|uri\.args|body\.json|body\.form)\["[^"]+"\]'
    r'|lookup_json_string\(http\.request\.body\.raw, "[^"]+"\))\Z')


def _check_unique_names(c: Checker, path: Path, names: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            c.error(path + (i, "name"), f"rule name '{name}' is already used by {c.field(path + (seen[name],))}; "
                                        "names identify rules and must be unique")
        seen.setdefault(name, i)


def _check_expression(c: Checker, path: Path, expression: str) -> None:
    problem = check_expression(expression)
    if problem:
        c.error(path, problem.message, at=c.inside_loc(path, expression, problem.offset), code="spec.waf")


def _check_managed(c: Checker, path: Path, managed) -> None:
    seen: set[str] = set()
    for i, entry in enumerate(managed):
        name = entry if isinstance(entry, str) else entry.ruleset
        if name in seen:
            c.error(path + (i,), f"managed ruleset '{name}' is listed twice")
        seen.add(name)
        if not isinstance(entry, str) and name != "owasp-core" and any(
                r.id == OWASP_ANOMALY_RULE_ID for r in entry.rules):
            c.error(path + (i, "rules"), f"rule {OWASP_ANOMALY_RULE_ID} belongs to owasp-core, not {name}; "
                                         "overrides must name rules of the ruleset they are under")
        if not isinstance(entry, str) and name != "owasp-core":
            for option in ("paranoia_level", "score_threshold"):
                if getattr(entry, option) is not None:
                    c.error(path + (i, option), f"{option} applies to owasp-core only")
        if not isinstance(entry, str) and entry.paranoia_level:
            _check_paranoia_categories(c, path + (i,), entry)


def _check_paranoia_categories(c: Checker, path: Path, entry) -> None:
    """paranoia_level PLn switches off the categories paranoia-level-(n+1) and up: an override of one of
    those would contradict it (both would be written, one enabled and one not)."""
    level = int(entry.paranoia_level[-1])
    for j, override in enumerate(entry.categories):
        above = re.fullmatch(r"paranoia-level-([1-4])", override.category)
        if above and int(above.group(1)) > level:
            c.error(path + ("categories", j, "category"),
                    f"'{override.category}' is switched off by paranoia_level {entry.paranoia_level}; raise "
                    f"paranoia_level to PL{above.group(1)} instead of overriding the category")


# --- DNS ---------------------------------------------------------------------------------------

_CAA = re.compile(r'^\d{1,3} (issue|issuewild|iodef) "[^"]*"$')
_RECORD_NAME = re.compile(r"^(@|(\*|[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*)\Z")
TTL_RANGES = {"cloudflare": (30, 86400), "route53": (0, 2147483647)}  # plus 1 = automatic
_SRV_NAME = re.compile(r"^_[a-z0-9-]+\._(tcp|udp|tls)(\.|\Z)")
_SRV_CONTENT = re.compile(r"^\d{1,5} \d{1,5} \S+\Z")


def check_dns(c: Checker) -> None:
    hosts = {ingress.host: path for path, ingress in c.ingresses()}
    for zone_name, records in c.spec.dns.items():
        path: Path = ("dns", zone_name)
        zone = c.spec.zones.get(zone_name)
        if zone is None:
            if not c.is_broken("zones", zone_name):
                c.error(path, f"DNS records for undeclared zone '{zone_name}'"
                              f"{did_you_mean(zone_name, c.spec.zones)}", at=c.key_loc(path))
            continue
        seen: dict[tuple, int] = {}
        seen_sets: dict[tuple, tuple[int, int]] = {}
        types_at: dict[str, list[str]] = {}
        for i, record in enumerate(records):
            rpath = path + (i,)
            fqdn = record_fqdn(record.name, zone_name)
            _check_record(c, rpath, record, zone)
            served_by = zone_of(c.spec, fqdn)
            if served_by != zone_name and served_by is not None:
                c.warn(rpath + ("name",), f"'{fqdn}' is in zone '{served_by}', which resolvers ask for it (the "
                                          f"zone is delegated from '{zone_name}'); put the record there")
            key = (fqdn, record.type, record.content)
            if key in seen:
                c.error(rpath, f"same record as {c.field(path + (seen[key],))}; remove one")
            seen.setdefault(key, i)
            types_at.setdefault(fqdn, []).append(record.type)
            if zone.provider == "route53":
                first = seen_sets.setdefault((fqdn, record.type), (i, record.ttl))
                if first[1] != record.ttl:
                    c.error(rpath + ("ttl",), f"Route 53 keeps one TTL per name and type; {c.field(path + (first[0],))} "
                                              f"has {first[1]}, this record {record.ttl}")
            # a proxied CNAME shares no name with another record, except at the apex (Cloudflare flattens it)
            beside_cname = zone.provider == "cloudflare" and fqdn != zone_name
            if fqdn in hosts and (record.type in ("A", "AAAA", "CNAME") or beside_cname):
                _clash_with_host(c, rpath, record.type, fqdn, hosts[fqdn], zone.provider)
            elif "CNAME" in types_at[fqdn] and len(types_at[fqdn]) > 1:
                c.error(rpath + ("name",), f"'{fqdn}' has a CNAME, which cannot coexist with any other record "
                                           "(not even a second CNAME)")


def _clash_with_host(c: Checker, path: Path, rtype: str, fqdn: str, host: Path, provider: str) -> None:
    """An ingress host gets its own record from its gateway: a CNAME to the NLB in Cloudflare (which no
    other record may share a name with), an alias A in Route 53 (which another A, AAAA or CNAME would
    contradict). Reported at the record and at the host."""
    if rtype in ("A", "AAAA", "CNAME"):
        why = "already gets its record from its gateway"
    else:
        why = f"gets a CNAME to its gateway, which cannot share its name with this {rtype} record"
    c.error(path + ("name",), f"'{fqdn}' is an ingress host and {why}; remove this record")
    c.error(host + ("host",), f"{c.field(path)} is a {rtype} record at this host, which "
                              f"{'its CNAME' if provider == 'cloudflare' else 'its alias record'} cannot "
                              "share a name with; remove that record")


AMAZON_CAS = {"amazon.com", "amazontrust.com", "amazonaws.com", "awstrust.com"}


def check_acm_caa(c: Checker) -> None:
    """ACM cannot issue for a name whose zone has CAA `issue` records that leave out Amazon."""
    issuers: dict[str, set[str]] = {}
    for zone, records in c.spec.dns.items():
        for record in records:
            if record.type == "CAA" and record_fqdn(record.name, zone) == zone and _CAA.match(record.content):
                _, tag, value = record.content.split(" ", 2)
                if tag in ("issue", "issuewild"):
                    issuers.setdefault(zone, set()).add(value.strip('"').split(";")[0].strip())
    for name, cert in c.spec.certificates.items():
        if cert.source != "acm":
            continue
        for i, domain in enumerate(cert.domains):
            zone = zone_of(c.spec, domain)
            if zone in issuers and not issuers[zone] & AMAZON_CAS:
                c.error(("certificates", name, "domains", i),
                        f"zone {zone} has CAA records that only allow {', '.join(sorted(issuers[zone]))}, so ACM "
                        f"cannot issue '{domain}'; add a CAA record '0 issue \"amazon.com\"'")


def _check_record(c: Checker, path: Path, record, zone) -> None:
    if not _RECORD_NAME.match(record.name):
        c.error(path + ("name",), f"'{record.name}' is not a record name: lower-case labels of a-z, 0-9, '-' "
                                  "and '_', relative to the zone, or '@' for the apex")
    problem = _record_content_problem(record)
    if problem:
        c.error(path + ("content",), problem)
    if record.type in ("MX", "SRV") and record.priority is None:
        c.error(path, f"{record.type} records need 'priority'")
    if record.proxied:
        if record.type not in ("A", "AAAA", "CNAME"):
            c.error(path + ("proxied",), f"{record.type} records cannot be proxied")
        elif zone.provider != "cloudflare":
            c.error(path + ("proxied",), "only records in Cloudflare zones can be proxied")
        elif record.ttl != 1:
            c.error(path + ("ttl",), "proxied records always have automatic TTL; remove 'ttl'")
    low, high = TTL_RANGES[zone.provider]
    if record.ttl != 1 and not low <= record.ttl <= high:
        c.error(path + ("ttl",), f"TTL {record.ttl} is out of range for {zone.provider}: use 1 (automatic) "
                                 f"or {low} to {high} seconds")
    if record.type == "SRV" and not _SRV_NAME.match(record.name):
        c.error(path + ("name",), "SRV names look like '_service._tcp' (or '_service._tcp.host')")


def _record_content_problem(record) -> str | None:
    content = record.content
    if record.type in ("A", "AAAA"):
        version = 4 if record.type == "A" else 6
        try:
            if ipaddress.ip_address(content).version == version:
                return None
        except ValueError:
            pass
        return f"'{content}' is not an IPv{version} address"
    if record.type == "MX" and content == ".":
        return None  # a null MX (RFC 7505): this domain receives no mail
    if record.type in ("CNAME", "MX"):
        target = content.rstrip(".")
        if re.match(r"^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*\Z", target.lower()):
            return None
        return f"'{content}' is not a host name"
    if record.type == "CAA" and not _CAA.match(content):
        return 'CAA content looks like: 0 issue "letsencrypt.org"'
    if record.type == "SRV" and not _SRV_CONTENT.match(content):
        return "SRV content is '<weight> <port> <target>' (priority goes in 'priority')"
    if record.type == "TXT" and len(content) > 2048:
        return f"TXT content is {len(content)} characters; Cloudflare allows 2,048"
    return None
