"""EDGE015: the cross-layer chain. For every hostname: DNS record -> WAF (public) -> NLB listener and
security group rule -> Envoy virtual host -> routes -> clusters with endpoints; then what no hostname
uses (orphans). It reads the compiled output, not the spec, so it also catches emitter bugs and edits."""

from __future__ import annotations

from typing import Iterator

from edgec.ir.model import AwsListener, AwsRoute53Record, AwsSecurityGroupRule, CfDnsRecord, CfRuleset
from edgec.spec.lookup import record_fqdn, zone_of

FIREWALL_PHASES = ("http_request_firewall_custom", "http_request_firewall_managed")


def _virtual_hosts(bootstrap: dict) -> list[dict]:
    return [vh for listener in bootstrap["static_resources"]["listeners"]
            for chain in listener.get("filter_chains", []) for f in chain.get("filters", [])
            for vh in f.get("typed_config", {}).get("route_config", {}).get("virtual_hosts", [])]


def _route_clusters(route: dict) -> list[str]:
    action = route.get("route") or {}
    if "cluster" in action:
        return [action["cluster"]]
    return [c["name"] for c in action.get("weighted_clusters", {}).get("clusters", [])]


def _endpoints(cluster: dict) -> int:
    return sum(len(group.get("lb_endpoints", [])) for group in cluster.get("load_assignment", {}).get("endpoints", []))


def chain_findings(s) -> Iterator[tuple]:
    spec, ir = s.spec, s.ir
    dns = {r.fqdn for r in ir if isinstance(r, (CfDnsRecord, AwsRoute53Record))}
    waf_zones = {r.zone for r in ir if isinstance(r, CfRuleset) and r.phase in FIREWALL_PHASES}
    listeners = {(r.gateway, r.port) for r in ir if isinstance(r, AwsListener)}
    opened = {(r.gateway, r.port) for r in ir if isinstance(r, AwsSecurityGroupRule) and r.direction == "ingress"}
    used_clusters: dict[str, set[str]] = {name: set() for name in s.envoy}
    for i, ingress in enumerate(spec.ingresses):
        gateway = spec.gateways[ingress.gateway]
        port = gateway.ports.https
        where = ("ingresses", i, "host")
        missing = [layer for layer, ok in (
            ("DNS record", ingress.host in dns),
            ("WAF ruleset", gateway.exposure != "public" or zone_of(spec, ingress.host) in waf_zones),
            (f"NLB listener on {port}", (ingress.gateway, port) in listeners),
            (f"security group rule for {port}", (ingress.gateway, port) in opened)) if not ok]
        for layer in missing:
            yield where, f"{ingress.host}: no {layer}"
        bootstrap = s.envoy.get(ingress.gateway)
        vhost = next((vh for vh in _virtual_hosts(bootstrap or {"static_resources": {"listeners": []}})
                      if ingress.host in vh.get("domains", [])), None)
        if vhost is None:
            yield where, f"{ingress.host}: no Envoy virtual host on gateway {ingress.gateway}"
            continue
        if not vhost.get("routes"):
            yield where, f"{ingress.host}: its Envoy virtual host has no routes"
        clusters = {c["name"]: c for c in bootstrap["static_resources"]["clusters"]}
        for route in vhost.get("routes", []):
            for name in _route_clusters(route):
                used_clusters[ingress.gateway].add(name)
                if name not in clusters:
                    yield where, f"{ingress.host}: route {route.get('name')} names cluster {name}, which Envoy lacks"
                elif _endpoints(clusters[name]) == 0:
                    yield where, f"{ingress.host}: cluster {name} has no endpoints"
    yield from _aliases_without_virtual_host(s)
    yield from _orphans(s, used_clusters)


def _aliases_without_virtual_host(s) -> Iterator[tuple]:
    """A CNAME to a host of the spec sends its clients to that host's gateway, but with its own name in
    the Host header and SNI: unless the gateway serves that name too, Envoy answers 404."""
    spec = s.spec
    served = {i.host: i.gateway for i in spec.ingresses}
    for zone, records in spec.dns.items():
        for i, record in enumerate(records):
            name, target = record_fqdn(record.name, zone), record.content.rstrip(".").lower()
            if record.type == "CNAME" and target in served and served.get(name) != served[target]:
                yield (("dns", zone, i), f"{name} is a CNAME to {target}, so it reaches gateway {served[target]}, "
                                         f"which has no virtual host for {name} (Envoy answers 404); make it an "
                                         "ingress (a redirect route, or the same routes)")


def _orphans(s, used_clusters: dict[str, set[str]]) -> Iterator[tuple]:
    spec = s.spec
    hosts = {i.host for i in spec.ingresses}
    served = {i.gateway for i in spec.ingresses}
    for name in sorted(set(spec.gateways) - served):
        yield ("gateways", name), f"gateway {name} serves no host (an NLB and Envoy with nothing behind them)"
    for r in s.ir:
        target = r.gateway if isinstance(r, CfDnsRecord) else r.alias_gateway if isinstance(r, AwsRoute53Record) else None
        if target and r.fqdn not in hosts:
            yield ("zones", r.zone), f"{r.fqdn} points at gateway {target}, which does not serve it"
    for gateway, bootstrap in sorted(s.envoy.items()):
        for cluster in bootstrap["static_resources"]["clusters"]:
            if cluster["name"] not in used_clusters.get(gateway, set()) and cluster.get("load_assignment"):
                yield ("gateways", gateway), f"Envoy cluster {cluster['name']} on gateway {gateway} is used by no route"
    used = {t for i in spec.ingresses for r in i.routes for t in ([r.service] if r.service else
                                                                  [w.service for w in r.split or []])}
    for name in sorted(set(spec.services) - used):
        yield ("services", name), f"service {name} is used by no route"
