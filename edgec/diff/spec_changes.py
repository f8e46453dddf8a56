"""What a change to the spec means, for pull-request review (`edgec diff BASE HEAD`).

Two versions of a spec are compared entity by entity, never line by line, so moving an ingress to
another team file or reformatting YAML shows nothing. Each change is listed under every hostname it
reaches, because reviewers approve hosts:
- per host: the host added or removed; its ingress (gateway, exposure, zone, owner); its routes by
  name (added, removed, changed fields, reordered: the first match wins); its TLS (zone settings,
  gateway TLS, the certificate it is served with and its domains); the WAF rules and extra DNS records
  of its zone;
- under no single host: zones, gateways, services, certificates and top-level settings (added,
  removed, changed, each with the hosts it affects), minus the fields the host view already shows
  when some host shows them; and WAF or DNS changes of zones that hold no host.

A change is destructive when it can cut traffic or weaken protection (see `_risk`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from pydantic import BaseModel

from edgec.ir.build import build_ir
from edgec.layers.envoy.model import EnvoyListener, EnvoyRoute
from edgec.spec.lookup import certificate_for, record_fqdn, zone_of
from edgec.spec.model import (
    DnsRecord,
    Ingress,
    ManagedRuleset,
    OriginPullCertificate,
    Route,
    Spec,
)
from edgec.spec.pem import read_certificate

ADD, CHANGE, REMOVE = "add", "change", "remove"
KIND_LABELS = {
    "host": "host", "ingress": "ingress", "tls": "TLS", "route": "route", "route_order": "route order",
    "waf_custom": "WAF custom rule", "waf_rate_limit": "WAF rate limit", "waf_managed": "WAF managed ruleset",
    "waf_order": "WAF rule order", "dns_record": "DNS record", "zone": "zone", "gateway": "gateway",
    "service": "service", "certificate": "certificate", "settings": "settings",
}
REMOVAL_IS_DESTRUCTIVE = frozenset({"host", "route", "zone", "gateway", "certificate", "dns_record",
                                    "waf_custom", "waf_rate_limit", "waf_managed"})
# Fields of a shared entry that the host view shows: left out of the shared item when a host shows them.
SHOWN_PER_HOST = {"zone": frozenset({"tls"}), "gateway": frozenset({"tls", "exposure"}),
                  "certificate": frozenset({"domains"})}
SECTIONS = frozenset({"zones", "gateways", "services", "ingresses", "waf", "dns", "certificates"})
NOT_COMPARED = frozenset({"include", "api_version"})  # file layout and format, not meaning
# Fields whose change can weaken the edge, by kind of item, as `_weakening` judges them.
WATCHED = {"ingress": {"exposure"}, "gateway": {"exposure", "tls.min_version", "tls.client_auth"},
           "tls": {"zone.mode", "zone.min_version", "gateway.min_version", "gateway.client_auth"},
           "zone": {"tls.mode", "tls.min_version"}, "waf_custom": {"enabled"}}
NAME = frozenset({"name"})
TLS_MODE_STRENGTH = {"off": 0, "flexible": 1, "full": 2, "strict": 3}


# --- the result --------------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldChange:
    name: str  # dotted path inside the item: "timeout", "retries.attempts", "gateway.min_version"
    base: Any  # None when the item is added
    head: Any  # None when the item is removed


@dataclass(frozen=True)
class SpecChange:
    action: str  # add | change | remove
    kind: str  # a key of KIND_LABELS
    key: str  # the entry's name as people read it: a route name, "acme.com block-admin", "www.acme.com CNAME"
    fields: tuple[FieldChange, ...] = ()
    reason: str | None = None  # why it is destructive; None when it is not
    affects: tuple[str, ...] = ()  # hosts reached by a change listed under no single host

    @property
    def destructive(self) -> bool:
        return self.reason is not None

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def title(self) -> str:
        return f"{self.label} {self.key}"

    def to_json(self) -> dict:
        return {"action": self.action, "kind": self.kind, "key": self.key, "destructive": self.destructive,
                "reason": self.reason, "affects": list(self.affects),
                "fields": [{"name": f.name, "base": f.base, "head": f.head} for f in self.fields]}


@dataclass
class SpecChanges:
    by_host: dict[str, list[SpecChange]] = field(default_factory=dict)  # only hosts with changes
    shared: list[SpecChange] = field(default_factory=list)  # changes under no single host
    base: str = "base"  # labels of the two versions, as the user named them
    head: str = "head"

    @property
    def changed_hosts(self) -> list[str]:
        return sorted(self.by_host)

    @property
    def has_changes(self) -> bool:
        return bool(self.by_host or self.shared)

    def groups(self) -> list[tuple[str | None, list[SpecChange]]]:
        """Hosts in order, then the changes under no single host (None)."""
        groups: list[tuple[str | None, list[SpecChange]]] = [(h, self.by_host[h]) for h in self.changed_hosts]
        return groups + ([(None, self.shared)] if self.shared else [])

    def all(self) -> list[SpecChange]:
        return [change for _, changes in self.groups() for change in changes]

    def counts(self) -> Counter[str]:
        """Changes by action, plus 'destructive'; a zone-wide change counts once per host it reaches."""
        counts = Counter(change.action for change in self.all())
        counts["destructive"] = sum(change.destructive for change in self.all())
        return counts

    def to_json(self) -> dict:
        return {"base": self.base, "head": self.head, "has_changes": self.has_changes,
                "changed_hosts": self.changed_hosts, "counts": dict(self.counts()),
                "by_host": {h: [c.to_json() for c in cs] for h, cs in self.by_host.items()},
                "shared": [c.to_json() for c in self.shared]}


# --- comparing values --------------------------------------------------------------------------

def _dump(model: BaseModel | None, without: frozenset[str] = frozenset()) -> Any:
    """A model as plain data; `without` drops the fields that already name it in the change's key."""
    return model.model_dump(mode="json", exclude=set(without)) if model is not None else None


def field_changes(base: Any, head: Any, path: str = "") -> tuple[FieldChange, ...]:
    """Leaf differences of two dumped values. Mappings are followed (`retries.attempts`) so a review
    shows what moved; lists compare whole, since order matters in them (split, headers, methods)."""
    if base == head:
        return ()
    if isinstance(base, dict) and isinstance(head, dict):
        names = list(head) + [n for n in base if n not in head]
        return tuple(c for n in names for c in field_changes(base.get(n), head.get(n), f"{path}.{n}" if path else n))
    return (FieldChange(path, base, head),)


def _summary(value: dict, added: bool) -> tuple[FieldChange, ...]:
    """The set fields of an added or removed entry, so a reviewer sees what comes or goes."""
    return tuple(FieldChange(n, None if added else v, v if added else None)
                 for n, v in value.items() if v not in (None, [], {}))


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _weakening(kind: str, change: FieldChange) -> str | None:
    """Why one field change weakens the edge, or None. Only the fields WATCHED in each kind of item
    count, never a label or tag that happens to share a name."""
    leaf, old, new = change.name.rsplit(".", 1)[-1], change.base, change.head
    if old is None or change.name not in WATCHED.get(kind, ()):
        return None
    if leaf == "exposure" and new is not None:
        return f"exposure changes from {old} to {new}"
    if leaf == "min_version" and new is not None and _version(new) < _version(old):
        return f"TLS minimum version lowered from {old} to {new}"
    if leaf == "mode" and new in TLS_MODE_STRENGTH and TLS_MODE_STRENGTH[new] < TLS_MODE_STRENGTH[old]:
        return f"TLS mode weakened from {old} to {new}"
    if leaf == "client_auth" and new is None:
        return f"client authentication ({old}) removed"
    if leaf == "enabled" and not new:
        return "rule disabled"
    return None


def _risk(action: str, kind: str, fields: Iterable[FieldChange]) -> str | None:
    """Why a change may cut traffic or weaken protection: the rules of 'destructive'."""
    if action == REMOVE:
        return f"{KIND_LABELS[kind]} removed" if kind in REMOVAL_IS_DESTRUCTIVE else None
    reasons = [r for r in (_weakening(kind, f) for f in fields) if r]
    return "; ".join(reasons) or None


def _item(action: str, kind: str, key: str, fields: tuple[FieldChange, ...],
          affects: tuple[str, ...] = ()) -> SpecChange:
    return SpecChange(action, kind, key, fields, _risk(action, kind, fields), affects)


def _keyed(kind: str, base: dict[str, Any], head: dict[str, Any]) -> list[SpecChange]:
    """Entries paired by key: removed, added, or changed in some fields (in head's order)."""
    changes = [_item(REMOVE, kind, k, _summary(v, added=False)) for k, v in base.items() if k not in head]
    for key, value in head.items():
        if key not in base:
            changes.append(_item(ADD, kind, key, _summary(value, added=True)))
        elif fields := field_changes(base[key], value):
            changes.append(_item(CHANGE, kind, key, fields))
    return changes


def _order(kind: str, key: str, base: Iterable[str], head: Iterable[str]) -> list[SpecChange]:
    """A reordering of entries kept on both sides: matters where the first match wins."""
    base, head = list(base), list(head)
    before, after = [k for k in base if k in head], [k for k in head if k in base]
    return [] if before == after else [_item(CHANGE, kind, key, (FieldChange("order", before, after),))]


# --- per host ----------------------------------------------------------------------------------

def _route_keys(routes: list[Route]) -> list[str]:
    """Routes by name (the match when unnamed, as plans show it); repeats get #2, #3."""
    seen: Counter[str] = Counter()
    keys = []
    for route in routes:
        key = route.name or " ".join(route.match)
        seen[key] += 1
        keys.append(key if seen[key] == 1 else f"{key} #{seen[key]}")
    return keys


@dataclass(frozen=True)
class _HostView:
    """What decides how one host is served and protected, on one side of the diff."""
    ingress: dict[str, Any]
    routes: dict[str, Any]
    tls: dict[str, Any]


def _host_view(spec: Spec, ingress: Ingress) -> _HostView:
    zone = zone_of(spec, ingress.host)
    gateway = spec.gateways.get(ingress.gateway)
    cert = certificate_for(spec, gateway, ingress.host) if gateway else None
    routes = {key: _dump(route, NAME) for key, route in zip(_route_keys(ingress.routes), ingress.routes)}
    tls = {"zone": _dump(spec.zones[zone].tls) if zone else None,
           "gateway": _dump(gateway.tls) if gateway else None,
           "certificate": {"name": cert, "domains": list(spec.certificates[cert].domains) if cert else None}}
    return _HostView({"gateway": ingress.gateway, "exposure": gateway.exposure if gateway else None,
                      "zone": zone, "owner": ingress.owner}, routes, tls)


def _host_summary(ingress: Ingress) -> dict[str, Any]:
    return {"gateway": ingress.gateway, "routes": _route_keys(ingress.routes)}


def _host_changes(host: str, base: Ingress | None, head: Ingress | None, base_spec: Spec,
                  head_spec: Spec) -> list[SpecChange]:
    """A host added or removed as one item; a host on both sides, item by item of its view."""
    if base is None or head is None:
        action, ingress = (ADD, head) if base is None else (REMOVE, base)
        assert ingress is not None
        return [_item(action, "host", host, _summary(_host_summary(ingress), added=action == ADD))]
    was, now = _host_view(base_spec, base), _host_view(head_spec, head)
    return (_keyed("ingress", {host: was.ingress}, {host: now.ingress})
            + _keyed("tls", {host: was.tls}, {host: now.tls})
            + _keyed("route", was.routes, now.routes) + _order("route_order", host, was.routes, now.routes))


# --- per zone: WAF and extra DNS records -------------------------------------------------------

def _waf_entries(spec: Spec, zone: str) -> dict[str, dict[str, Any]]:
    """The zone's WAF rules by kind, keyed '<zone> <name>'; managed rulesets given by name alone
    compare as the ruleset without overrides."""
    waf = spec.waf.get(zone)
    if waf is None:
        return {"waf_custom": {}, "waf_rate_limit": {}, "waf_managed": {}}
    managed = [ManagedRuleset(ruleset=m) if isinstance(m, str) else m for m in waf.managed]
    return {"waf_custom": {f"{zone} {r.name}": _dump(r, NAME) for r in waf.custom},
            "waf_rate_limit": {f"{zone} {r.name}": _dump(r, NAME) for r in waf.rate_limits},
            "waf_managed": {f"{zone} {m.ruleset}": _dump(m, frozenset({"ruleset"})) for m in managed}}


def _record_keys(zone: str, base: list[DnsRecord], head: list[DnsRecord]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Records keyed by name and type, and by content too where several share a name and type on
    either side (MX, TXT), as plans pair them."""
    def name_type(record: DnsRecord) -> str:
        return f"{record_fqdn(record.name, zone)} {record.type}"

    shared = {k for k, n in (Counter(map(name_type, base)) | Counter(map(name_type, head))).items() if n > 1}

    def keyed(records: list[DnsRecord]) -> dict[str, Any]:
        return {(f"{name_type(r)} {r.content}" if name_type(r) in shared else name_type(r)):
                _dump(r, frozenset({"name", "type"})) for r in records}

    return keyed(base), keyed(head)


def _zone_changes(zone: str, base: Spec, head: Spec) -> list[SpecChange]:
    """WAF rules and extra DNS records of one zone: what every host in the zone inherits."""
    was, now = _waf_entries(base, zone), _waf_entries(head, zone)
    changes = [c for kind in was for c in _keyed(kind, was[kind], now[kind])]
    for kind, section in (("waf_custom", "custom"), ("waf_rate_limit", "rate_limits")):  # evaluated in order
        changes += _order("waf_order", f"{zone} {section}", was[kind], now[kind])
    return changes + _keyed("dns_record", *_record_keys(zone, base.dns.get(zone, []), head.dns.get(zone, [])))


# --- under no single host ----------------------------------------------------------------------

@dataclass(frozen=True)
class _Reach:
    """Which hosts each zone, gateway, certificate and service reaches, on either side."""
    zones: dict[str, set[str]]
    gateways: dict[str, set[str]]
    certificates: dict[str, set[str]]
    services: dict[str, set[str]]

    @classmethod
    def of(cls, *specs: Spec) -> _Reach:
        """Zones and gateways from the ingresses; certificates and services as the IR resolves them
        (the certificate each host is served with, the services its routes send requests to), and the
        client certificate of each host's gateway."""
        reach = cls({}, {}, {}, {})
        for spec in specs:
            for ingress in spec.ingresses:
                reach.zones.setdefault(zone_of(spec, ingress.host) or "", set()).add(ingress.host)
                reach.gateways.setdefault(ingress.gateway, set()).add(ingress.host)
                client_certificate = spec.gateways[ingress.gateway].tls.origin_pull_certificate
                if client_certificate:
                    reach.certificates.setdefault(client_certificate, set()).add(ingress.host)
            ir = build_ir(spec)
            for listener in ir.of(EnvoyListener):
                for chain in listener.filter_chains:
                    for host in chain.hosts if chain.tls else ():
                        reach.certificates.setdefault(chain.tls.certificate, set()).add(host)
            for route in ir.of(EnvoyRoute):
                for service in route.clusters:
                    reach.services.setdefault(service, set()).add(route.host)
        return reach


def _certificate(cert: BaseModel) -> Any:
    """A certificate as compared: a client certificate by its content, not by where its file is."""
    data = _dump(cert)
    if isinstance(cert, OriginPullCertificate):
        data["certificate_file"] = f"sha256 {read_certificate(cert.certificate_file).fingerprint}"
    return data


def _section(kind: str, base: dict[str, Any], head: dict[str, Any], reach: dict[str, set[str]]) -> list[SpecChange]:
    """Entries of one top-level section, each with the hosts it affects; fields a host already shows
    are left out (and an entry left with none is dropped)."""
    out = []
    dump = _certificate if kind == "certificate" else _dump
    for change in _keyed(kind, {k: dump(v) for k, v in base.items()}, {k: dump(v) for k, v in head.items()}):
        affects = tuple(sorted(reach.get(change.key, ())))
        fields = change.fields
        if affects and change.action == CHANGE:
            fields = tuple(f for f in fields if f.name.split(".")[0] not in SHOWN_PER_HOST.get(kind, ()))
        if fields or change.action != CHANGE:
            out.append(_item(change.action, kind, change.key, fields, affects))
    return out


def _settings(base: Spec, head: Spec) -> list[SpecChange]:
    """Top-level fields outside the sections (name, metadata, cloudflare, aws, ignore rules)."""
    exclude = set(SECTIONS | NOT_COMPARED)
    fields = field_changes(base.model_dump(mode="json", exclude=exclude), head.model_dump(mode="json", exclude=exclude))
    return [_item(CHANGE, "settings", head.name, fields)] if fields else []


def _shared_changes(base: Spec, head: Spec, hostless: list[SpecChange]) -> list[SpecChange]:
    reach = _Reach.of(base, head)
    return (_settings(base, head) + _section("zone", base.zones, head.zones, reach.zones) + hostless
            + _section("gateway", base.gateways, head.gateways, reach.gateways)
            + _section("certificate", base.certificates, head.certificates, reach.certificates)
            + _section("service", base.services, head.services, reach.services))


def spec_changes(base: Spec, head: Spec, *, base_label: str = "base", head_label: str = "head") -> SpecChanges:
    """The semantic changes from `base` to `head`, grouped by the hostname they affect. A zone's WAF and
    DNS changes go under each host kept in the zone, or under no single host when the zone keeps none."""
    zones = sorted(set(base.zones) | set(head.zones) | set(base.waf) | set(head.waf) | set(base.dns) | set(head.dns))
    zone_changes = {zone: changes for zone in zones if (changes := _zone_changes(zone, base, head))}
    was, now = {i.host: i for i in base.ingresses}, {i.host: i for i in head.ingresses}
    by_host, reached = {}, set()
    for host in sorted(set(was) | set(now)):
        changes = _host_changes(host, was.get(host), now.get(host), base, head)
        if host in was and host in now and (zone := zone_of(head, host)) in zone_changes:
            changes += zone_changes[zone]
            reached.add(zone)
        if changes:
            by_host[host] = changes
    hostless = [c for zone, changes in zone_changes.items() if zone not in reached for c in changes]
    return SpecChanges(by_host, _shared_changes(base, head, hostless), base_label, head_label)
