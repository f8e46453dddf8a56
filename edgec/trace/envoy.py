"""Envoy: the listener and filter chain (SNI), the virtual host, the first route that matches, and
the clusters behind it, all as the IR resolves them."""

from __future__ import annotations

import re2

from edgec.layers.envoy.model import (
    EnvoyCluster,
    EnvoyListener,
    EnvoyRoute,
    EnvoyVirtualHost,
    FilterChain,
    Forward,
    HeaderMatch,
    Redirect,
    RouteMatch,
)
from edgec.spec.model import Spec
from edgec.spec.types import format_duration
from edgec.trace.walk import Request, Status, Walk
from edgec.waf_eval import Tri

# --- Envoy -------------------------------------------------------------------------------------

def walk_envoy_listener(walk: Walk) -> None:
    """The http listener only redirects; the https one picks a filter chain, then a virtual host."""
    request = walk.request
    listeners = {listener.role: listener for listener in walk.ir.of(EnvoyListener) if listener.gateway == walk.gateway}
    if request.scheme == "http":
        redirect = listeners["redirect"]
        port = f":{redirect.redirect_port}" if redirect.redirect_port else ""
        walk.redirect("envoy listener", "pass", [f"http listener :{redirect.port} redirects every request "
                                                 "to https"], 301, f"https://{request.host}{port}{request.target}")
        return
    listener = listeners["routes"]
    chain = _filter_chain(walk, listener)
    if chain is not None:
        _virtual_host(walk, chain)


def _filter_chain(walk: Walk, listener: EnvoyListener) -> FilterChain | None:
    """The chain Envoy picks by SNI: the one whose server names hold the host, else the default one."""
    host = walk.request.host
    chains = listener.filter_chains
    if len(chains) == 1 and chains[0].tls is None:
        walk.details = [f"https listener :{listener.port} speaks plain HTTP (the NLB ended TLS); one filter chain"]
        return chains[0]
    default = next((c for c in chains if c.server_names is None), None)
    tls = (default or chains[0]).tls if chains else None
    if tls is None:
        walk.die("envoy listener", f"gateway '{walk.gateway}' has no certificate: no TLS handshake succeeds",
                 [f"https listener :{listener.port}"])
        return None
    versions = "1.3 only" if tls.min_version == "1.3" else f"{tls.min_version} to 1.3"
    details = [f"https listener :{listener.port}: TLS {versions}, ALPN h2 and http/1.1"]
    if tls.client_ca:
        details.append("requires a client certificate from Cloudflare's origin-pull CA")
        if not walk.proxied:
            walk.die("envoy listener", f"{host} is not proxied by Cloudflare, so its clients have no origin-pull "
                                       "certificate: the TLS handshake fails", details)
            return None
    chosen = next((c for c in chains if c.server_names and host in c.server_names), default)
    if chosen is None:
        walk.die("envoy listener", f"no filter chain of gateway '{walk.gateway}' takes SNI {host}", details)
        return None
    which = " (the default chain)" if chosen is default else f" (server_names include {host})"
    assert chosen.tls is not None
    details.append(f"SNI {host} -> filter chain of certificate '{chosen.tls.certificate}'{which}")
    walk.details = details
    return chosen


def _virtual_host(walk: Walk, chain: FilterChain) -> None:
    host = walk.request.host
    walk.virtual_host = next((h for h in walk.ir.of(EnvoyVirtualHost)
                              if h.gateway == walk.gateway and h.host == host and host in chain.hosts), None)
    if walk.virtual_host is None:
        walk.die("envoy listener", f"no virtual host for {host} in this filter chain: Envoy answers 404",
                 walk.details)
        return
    ingress = next(i for i in walk.spec.ingresses if i.host == host)
    owner = f", owner {ingress.owner}" if ingress.owner else ""
    walk.hop("envoy listener", "pass", [*walk.details, f"virtual host {host} ({len(walk.virtual_host.routes)} "
                                                       f"routes{owner})"])


def walk_envoy_route(walk: Walk) -> None:
    """The first route that matches, in order, as Envoy takes it; near misses before it are shown."""
    assert walk.virtual_host is not None
    request = walk.request
    routes = {r.name: r for r in walk.ir.of(EnvoyRoute) if r.gateway == walk.gateway and r.host == request.host}
    details: list[str] = []
    status: Status = "pass"
    for route in (routes[name] for name in walk.virtual_host.routes):
        matched, reason = route_matches(route.match, request)
        if matched is None:
            status = "may"
            details.append(f"route {route.route_name} may match first ({reason})")
        elif matched:
            walk.route, walk.trace.route = route, route.route_name
            details.append(f"route {route.route_name} ({_describe_match(route.match)}) matches")
            _route_action(walk, route, status, details + _header_changes(route))
            return
        elif reason:
            details.append(f"route {route.route_name} not taken: {reason}")
    walk.die("envoy route", f"no route of {request.host} matches {request.method} {request.path}: Envoy answers 404",
             details)


def _route_action(walk: Walk, route: EnvoyRoute, status: Status, details: list[str]) -> None:
    if not isinstance(route.action, Redirect):
        walk.hop("envoy route", status, details)
        return
    redirect, request = route.action, walk.request
    scheme = redirect.scheme or request.scheme
    query = "" if redirect.strip_query or not request.query else f"?{request.query}"
    target = f"{scheme}://{redirect.host or request.host}{redirect.path or request.path}{query}"
    walk.redirect("envoy route", status, details, redirect.code, target)


def route_matches(match: RouteMatch, request: Request) -> tuple[Tri, str]:
    """Envoy's match of one route: path, then :method, then headers. The reason says why it did not match
    when the path did (a near miss worth showing), or why the answer is unknown."""
    path = _path_matches(match, request.path)
    if path is not True:
        return path, "" if path is False else "its regex is not valid RE2"
    if match.methods and request.method not in match.methods:
        return False, f"method {request.method} is not {', '.join(match.methods)}"
    for header in match.headers:
        if not header_matches(header, request.headers.get(header.name)):
            return False, f"header {header.name} does not match ({_describe_header(header)})"
    return True, ""


def _path_matches(match: RouteMatch, path: str) -> Tri:
    if match.kind == "path":
        return path == match.value
    if match.kind == "safe_regex":
        try:
            return re2.fullmatch(match.value, path) is not None
        except re2.error:
            return None
    if match.kind == "prefix":
        return path.startswith(match.value)
    return path == match.value or path.startswith(match.value + "/")  # path_separated_prefix


def header_matches(header: HeaderMatch, value: str | None) -> bool:
    """Envoy's HeaderUtility::matchHeaders: a missing header matches only a present_match that expects it
    missing (present: false, or present: true inverted); a value match takes a missing header as empty when
    told to (edgec does so for inverted ones), and otherwise never matches it, inverted or not."""
    if value is None and header.missing_as_empty:
        value = ""
    if value is None:
        return header.kind == "present" and header.value == header.invert
    if header.kind == "present":
        matched = bool(header.value)
    elif header.kind == "exact":
        matched = value == header.value
    elif header.kind == "prefix":
        matched = value.startswith(str(header.value))
    else:
        matched = re2.fullmatch(str(header.value), value) is not None
    return matched != header.invert


PATH_KINDS = {"prefix": "path", "path_separated_prefix": "path", "path": "exact", "safe_regex": "regex"}


def _describe_match(match: RouteMatch) -> str:
    parts = [f"{PATH_KINDS[match.kind]} {match.value}"]
    if match.methods:
        parts.append("methods " + ", ".join(match.methods))
    parts += [f"header {h.name} {_describe_header(h)}" for h in match.headers]
    return "; ".join(parts)


def _describe_header(header: HeaderMatch) -> str:
    condition = {"present": lambda: "present" if header.value else "absent",
                 "exact": lambda: f"= {header.value}", "prefix": lambda: f"starts with {header.value}",
                 "safe_regex": lambda: f"matches {header.value}"}[header.kind]()
    return f"not {condition}" if header.invert else condition


def _header_changes(route: EnvoyRoute) -> list[str]:
    lines = []
    for direction, changes in (("request", route.request_headers), ("response", route.response_headers)):
        if changes is None:
            continue
        names = [f"sets {', '.join(k for k, _ in changes.set)}"] if changes.set else []
        names += [f"adds {', '.join(k for k, _ in changes.add)}"] if changes.add else []
        names += [f"removes {', '.join(changes.remove)}"] if changes.remove else []
        lines.append(f"{direction} headers: {'; '.join(names)}")
    return lines


# --- cluster -----------------------------------------------------------------------------------

def walk_cluster(walk: Walk) -> None:
    """The clusters behind the route (a weighted split), with the policies the route applies."""
    route = walk.route
    assert route is not None and isinstance(route.action, Forward)
    forward = route.action
    clusters = {c.cluster: c for c in walk.ir.of(EnvoyCluster) if c.gateway == walk.gateway}
    total = sum(target.weight or 1 for target in forward.clusters)
    details: list[str] = []
    for target in forward.clusters:
        cluster = clusters[target.cluster]
        share = f" ({(target.weight or 1) * 100 / total:.3g}% of requests)" if len(forward.clusters) > 1 else ""
        endpoints = [_endpoint(host, port) for host, port in cluster.endpoints]
        details += [f"cluster {target.cluster}{share}: {_endpoints_line(cluster, endpoints)}", *_cluster_lines(cluster)]
        walk.trace.clusters[target.cluster] = endpoints
    details += _route_policy(walk.spec, route, forward)
    walk.hop("cluster", "may" if route.rate_limit else "pass", details)


def _endpoint(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _endpoints_line(cluster: EnvoyCluster, endpoints: list[str]) -> str:
    tls = "TLS" if cluster.tls else "plain text"
    return (f"{', '.join(endpoints)} ({cluster.discovery}, {cluster.protocol}, {tls}, {cluster.lb_policy.lower()}, "
            f"connect timeout {format_duration(cluster.connect_timeout)})")


def _cluster_lines(cluster: EnvoyCluster) -> list[str]:
    check = cluster.health_check
    lines = [f"  health check GET {check.path} every {format_duration(check.interval)}" if check
             else "  no active health check"]
    if cluster.outlier_detection:
        lines.append(f"  ejects an endpoint after {cluster.outlier_detection.consecutive_5xx} 5xx in a row")
    return lines


def _route_policy(spec: Spec, route: EnvoyRoute, forward: Forward) -> list[str]:
    """Timeout and retries as the IR resolved them, and whether the route or its service set them."""
    _, i, _, j = route.origin
    written = spec.ingresses[int(i)].routes[int(j)]
    timeout = f"timeout {format_duration(forward.timeout)}" + (
        " (the route's)" if written.timeout else " (the service's)")
    retry = forward.retry
    lines = [timeout]
    if retry is None or retry.num_retries == 0:
        lines.append("no retries")
    else:
        per_try = f", {format_duration(retry.per_try_timeout)} per try" if retry.per_try_timeout else ""
        lines.append(f"retries: {retry.num_retries} on {', '.join(retry.retry_on)}{per_try}"
                     + (" (the route's)" if written.retries else " (the service's)"))
    if route.rate_limit:
        lines.append(f"rate limit {route.rate_limit.requests} per {format_duration(route.rate_limit.per)} per Envoy "
                     "instance: over it Envoy answers 429")
    return lines
