"""EDGE015: the cross-layer chain. For every hostname: DNS record -> WAF (public) -> NLB listener and
security group rule -> Envoy virtual host -> routes -> clusters with endpoints; then what no hostname
uses (orphans). It walks the IR, as the emitters write it, so it also catches a builder's mistakes."""

from __future__ import annotations

from typing import Iterator

from edgec.layers.aws.model import AwsListener, AwsRoute53Record, AwsSecurityGroupRule
from edgec.layers.cloudflare.model import CfDnsRecord, CfRuleset
from edgec.layers.envoy.model import EnvoyCluster, EnvoyRoute, EnvoyVirtualHost
from edgec.spec.lookup import record_fqdn, zone_of

FIREWALL_PHASES = ("http_request_firewall_custom", "http_request_firewall_managed")


def chain_findings(s) -> Iterator[tuple]:
    spec, ir = s.spec, s.ir
    dns = {r.fqdn for r in ir.of(CfDnsRecord)} | {r.fqdn for r in ir.of(AwsRoute53Record)}
    waf_zones = {r.zone for r in ir.of(CfRuleset) if r.phase in FIREWALL_PHASES}
    listeners = {(r.gateway, r.port) for r in ir.of(AwsListener)}
    opened = {(r.gateway, r.port) for r in ir.of(AwsSecurityGroupRule) if r.direction == "ingress"}
    hosts = {(h.gateway, h.host): h for h in ir.of(EnvoyVirtualHost)}
    routes = {r.name: r for r in ir.of(EnvoyRoute)}
    clusters = {(c.gateway, c.cluster): c for c in ir.of(EnvoyCluster)}
    used_clusters: set[tuple[str, str]] = set()
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
        vhost = hosts.get((ingress.gateway, ingress.host))
        if vhost is None:
            yield where, f"{ingress.host}: no Envoy virtual host on gateway {ingress.gateway}"
            continue
        if not vhost.routes:
            yield where, f"{ingress.host}: its Envoy virtual host has no routes"
        for route in (routes[name] for name in vhost.routes if name in routes):
            for name in route.clusters:
                used_clusters.add((ingress.gateway, name))
                cluster = clusters.get((ingress.gateway, name))
                if cluster is None:
                    yield where, f"{ingress.host}: route {route.route_name} names cluster {name}, which Envoy lacks"
                elif not cluster.endpoints:
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


def _orphans(s, used_clusters: set[tuple[str, str]]) -> Iterator[tuple]:
    spec, ir = s.spec, s.ir
    hosts = {i.host for i in spec.ingresses}
    served = {i.gateway for i in spec.ingresses}
    for name in sorted(set(spec.gateways) - served):
        yield ("gateways", name), f"gateway {name} serves no host (an NLB and Envoy with nothing behind them)"
    for r in ir.of(CfDnsRecord) + ir.of(AwsRoute53Record):
        target = r.gateway if isinstance(r, CfDnsRecord) else r.alias_gateway
        if target and r.fqdn not in hosts:
            yield ("zones", r.zone), f"{r.fqdn} points at gateway {target}, which does not serve it"
    for cluster in ir.of(EnvoyCluster):
        if (cluster.gateway, cluster.cluster) not in used_clusters and cluster.endpoints:
            yield (("gateways", cluster.gateway),
                   f"Envoy cluster {cluster.cluster} on gateway {cluster.gateway} is used by no route")
    used = {service for i in spec.ingresses for r in i.routes for service in r.services}
    for name in sorted(set(spec.services) - used):
        yield ("services", name), f"service {name} is used by no route"
