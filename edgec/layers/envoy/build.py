"""Spec -> the Envoy layer's IR: per gateway its bootstrap, listeners (https with a filter chain per
certificate, the plain-HTTP redirect, health), a virtual host per hostname with its routes, and a
cluster per service its routes name; the SDS secrets of the certificates Envoy serves.

This is where the Envoy defaults are resolved, once: a route's timeout and retries fall back to its
(first) service's, a prefix match becomes Envoy's segment-wise `path_separated_prefix`, a cluster is
STATIC when every endpoint is an address, an upstream's SNI defaults to its first endpoint's name.
"""

from __future__ import annotations

import ipaddress

from edgec.diagnostics import Path
from edgec.ir.model import Resource
from edgec.layers.cloudflare.ips import cloudflare_cidrs
from edgec.layers.envoy.model import (
    ENVOY_DIR,
    ORIGIN_PULL_CA,
    READY_PATH,
    CircuitBreaker,
    DownstreamTls,
    EnvoyCluster,
    EnvoyGateway,
    EnvoyListener,
    EnvoyRoute,
    EnvoySecret,
    EnvoyVirtualHost,
    FilterChain,
    Forward,
    HeaderChanges,
    HeaderMatch,
    HealthCheck,
    LocalRateLimit,
    OutlierDetection,
    Redirect,
    RetryPolicy,
    RouteMatch,
    UpstreamTls,
    WeightedCluster,
)
from edgec.spec import model as spec_model
from edgec.spec.lookup import certificate_for, gateway_certificates
from edgec.spec.model import (
    Gateway,
    Ingress,
    OriginPullCertificate,
    Route,
    Service,
    Spec,
)

LB_POLICIES = {"round_robin": "ROUND_ROBIN", "least_request": "LEAST_REQUEST", "random": "RANDOM",
               "ring_hash": "RING_HASH", "maglev": "MAGLEV"}


def build_envoy(spec: Spec) -> list[Resource]:
    resources: list[Resource] = []
    for name, gateway in sorted(spec.gateways.items()):
        resources += _gateway(spec, name, gateway)
    return resources + _secrets(spec)


def route_identities(gateway: str, host: str, route_names: list[str]) -> list[str]:
    """IR names of a virtual host's routes: Envoy allows two routes one name, the IR does not
    (the second 'x' is 'x #2'). The reader names a running gateway's routes the same way."""
    seen: dict[str, int] = {}
    names = []
    for route_name in route_names:
        seen[route_name] = seen.get(route_name, 0) + 1
        suffix = f" #{seen[route_name]}" if seen[route_name] > 1 else ""
        names.append(f"{gateway}/{host}/{route_name}{suffix}")
    return names


def _gateway(spec: Spec, name: str, gateway: Gateway) -> list[Resource]:
    origin: Path = ("gateways", name)
    served = [(i, ingress) for i, ingress in enumerate(spec.ingresses) if ingress.gateway == name]
    chains = _filter_chains(spec, gateway, [ingress for _, ingress in served])
    public = gateway.exposure == "public"
    out: list[Resource] = [
        EnvoyGateway(name, origin, name, f"{spec.name}-{name}", gateway.ports.admin),
        EnvoyListener(f"{name}/https", origin, name, "https", gateway.ports.https, "routes", chains,
                      client_address="cloudflare" if public else "peer",
                      trusted_cidrs=tuple(cloudflare_cidrs()) if public else ()),
        EnvoyListener(f"{name}/health", origin, name, "health", gateway.ports.health, "health", ready_path=READY_PATH),
    ]
    if gateway.ports.http is not None:
        out.append(EnvoyListener(f"{name}/http", origin, name, "http", gateway.ports.http, "redirect",
                                 redirect_port=gateway.ports.https if gateway.ports.https != 443 else None))
    chain_of = {host: chain for chain in chains for host in chain.hosts}
    for i, ingress in served:
        out += _virtual_host(spec, name, i, ingress, chain_of.get(ingress.host))
    used = sorted({service for _, ingress in served for route in ingress.routes for service in route.services})
    out += [_cluster(name, service, spec.services[service]) for service in used]
    return out


# --- listeners ---------------------------------------------------------------------------------

def _filter_chains(spec: Spec, gateway: Gateway, ingresses: list[Ingress]) -> tuple[FilterChain, ...]:
    """One chain per certificate, holding the hosts it is the most specific certificate for (the first,
    the default, answers every other name); one plain-HTTP chain when the NLB ends TLS. Hosts are
    sorted: the order of ingresses in the spec (or across team files) is not a change."""
    if gateway.tls.terminate == "nlb":
        return (FilterChain("https", None, None, tuple(sorted(i.host for i in ingresses))),)
    certificates = gateway_certificates(gateway)
    client_ca = _client_ca(spec, gateway)
    chains = []
    for cert in certificates:
        hosts = tuple(sorted(i.host for i in ingresses if certificate_for(spec, gateway, i.host) == cert))
        if cert != certificates[0] and not hosts:
            continue  # a chain for no name would match what the default chain matches (validation warns)
        server_names = None if cert == certificates[0] else hosts
        chains.append(FilterChain(f"https_{cert}", server_names,
                                  DownstreamTls(cert, gateway.tls.min_version, client_ca), hosts))
    return tuple(chains)


def _client_ca(spec: Spec, gateway: Gateway) -> str | None:
    """The CA whose client certificates the gateway accepts: the estate's own origin-pull CA, Cloudflare's
    shared one only when asked for, or none."""
    if gateway.tls.client_auth == "cloudflare-origin-pull-shared":
        return ORIGIN_PULL_CA
    if gateway.tls.client_auth == "cloudflare-origin-pull":
        cert = spec.certificates[gateway.tls.origin_pull_certificate or ""]
        assert isinstance(cert, OriginPullCertificate)
        return cert.ca_file
    return None


# --- virtual hosts and routes ------------------------------------------------------------------

def _virtual_host(spec: Spec, gateway: str, index: int, ingress: Ingress, chain: FilterChain | None) -> list[Resource]:
    """The host's virtual host (when a filter chain serves it) and its routes."""
    names = [route.name or f"{ingress.host}#{i}" for i, route in enumerate(ingress.routes)]
    identities = route_identities(gateway, ingress.host, names)
    routes = [_route(spec, gateway, ingress, (("ingresses", index, "routes", i)), i, names[i], identities[i], route)
              for i, route in enumerate(ingress.routes)]
    if chain is None:  # no certificate covers the host (`edgec check` says so): Envoy has nowhere to put it
        return []
    host = EnvoyVirtualHost(f"{gateway}/{ingress.host}", ("ingresses", index, "host"), gateway, "https", ingress.host,
                            (ingress.host,), chain.server_names or (), tuple(identities))
    return [host, *routes]


def _route(spec: Spec, gateway: str, ingress: Ingress, origin: Path, position: int, route_name: str, identity: str,
           route: Route) -> EnvoyRoute:
    action: Forward | Redirect = _redirect(route.redirect) if route.redirect is not None else _forward(spec, route)
    rate_limit = LocalRateLimit(route.rate_limit.requests, route.rate_limit.per) if route.rate_limit else None
    return EnvoyRoute(identity, origin, gateway, ingress.host, position, route_name, _match(route), action,
                      _header_changes(route.request_headers), _header_changes(route.response_headers), rate_limit)


def _match(route: Route) -> RouteMatch:
    kind, value = route.match
    if kind == "exact":
        path = ("path", value)
    elif kind == "regex":
        path = ("safe_regex", value)
    elif value == "/":
        path = ("prefix", "/")
    else:  # segment-wise: /v1 matches /v1 and /v1/x, not /v1x
        path = ("path_separated_prefix", value.rstrip("/"))
    headers = tuple(_header_match(h) for h in route.headers)
    return RouteMatch(path[0], path[1], tuple(sorted(route.methods)), headers)


def _header_match(header: spec_model.HeaderMatch) -> HeaderMatch:
    """An inverted value match takes a request without the header too ("the condition does not hold"),
    which Envoy does only when a missing header counts as an empty one."""
    name, invert = header.name.lower(), header.invert
    if header.present is not None:
        return HeaderMatch(name, "present", header.present, invert)
    if header.exact is not None:
        kind, value = "exact", header.exact
    elif header.prefix is not None:
        kind, value = "prefix", header.prefix
    else:
        kind, value = "safe_regex", header.regex or ""
    return HeaderMatch(name, kind, value, invert, missing_as_empty=invert)


def _forward(spec: Spec, route: Route) -> Forward:
    first = route.services[0]
    default = spec.services[first]
    if route.split:
        clusters = tuple(WeightedCluster(t.service, t.weight) for t in route.split if t.weight > 0)
    else:
        clusters = (WeightedCluster(first),)
    retries = route.retries or default.retries
    retry = None if retries is None else RetryPolicy(tuple(retries.on), retries.attempts, retries.per_try_timeout,
                                                     tuple(retries.status_codes))
    return Forward(clusters, route.timeout or default.timeout, retry)


def _redirect(redirect: spec_model.Redirect) -> Redirect:
    return Redirect(redirect.code, redirect.scheme, redirect.host, redirect.path, redirect.strip_query)


def _header_changes(changes: spec_model.HeaderChanges | None) -> HeaderChanges | None:
    if changes is None or not (changes.set or changes.add or changes.remove):
        return None
    return HeaderChanges(tuple(changes.set.items()), tuple(changes.add.items()), tuple(changes.remove))


# --- clusters and secrets ----------------------------------------------------------------------

def _cluster(gateway: str, name: str, service: Service) -> EnvoyCluster:
    endpoints = tuple(_endpoint(e) for e in service.endpoints)
    discovery = "STATIC" if all(_is_ip(host) for host, _ in endpoints) else "STRICT_DNS"
    breaker = service.circuit_breaker
    check, od = service.health_check, service.outlier_detection
    return EnvoyCluster(
        f"{gateway}/{name}", ("services", name), gateway, name, discovery, endpoints, service.protocol,
        service.connect_timeout, LB_POLICIES[service.load_balancing],
        CircuitBreaker(breaker.max_connections, breaker.max_pending_requests, breaker.max_requests,
                       breaker.max_retries),
        HealthCheck(check.path, check.interval, check.timeout, check.healthy_threshold, check.unhealthy_threshold)
        if check else None,
        OutlierDetection(od.consecutive_5xx, od.interval, od.base_ejection_time, od.max_ejection_percent)
        if od else None,
        UpstreamTls(service.tls.sni or endpoints[0][0], service.tls.ca_file) if service.tls else None)


def _endpoint(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]"), int(port)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _secrets(spec: Spec) -> list[Resource]:
    """The certificates gateways that end TLS in Envoy serve, each once."""
    names = sorted({cert for gateway in spec.gateways.values() if gateway.tls.terminate == "envoy"
                    for cert in gateway_certificates(gateway)})
    out: list[Resource] = []
    for name in names:
        cert = spec.certificates[name]
        if cert.source == "files":
            chain, key = cert.cert_file, cert.key_file
        else:
            chain, key = f"{ENVOY_DIR}/certs/{name}/tls.crt", f"{ENVOY_DIR}/certs/{name}/tls.key"
        out.append(EnvoySecret(name, ("certificates", name), name, chain, key))
    return out

