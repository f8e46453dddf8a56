"""Read running Envoy gateways through their admin `/config_dump`, into the Envoy layer's IR. All of
a gateway's configuration is edgec's (the spec names the gateway). A gateway that reports the versions the
spec compiles to is not read further (edgec/layers/envoy/versions.py); the others are read whole.

Envoy echoes its configuration with defaults left out (STATIC, ROUND_ROBIN, MOVED_PERMANENTLY and
APPEND_IF_EXISTS_OR_ADD are the zero values of their enums) and durations rewritten ("0.5s" ->
"0.500s"); the parser restores what the IR means. Static and dynamic (active) listeners and clusters
are read alike. A dump that is not what Envoy writes fails the read, naming the gateway.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from edgec.ir.model import IR, Resource
from edgec.layers.base import LiveLayer, ReadContext
from edgec.layers.envoy import admin, versions
from edgec.layers.envoy.admin import get_json
from edgec.layers.envoy.build import route_identities
from edgec.layers.envoy.model import (
    CircuitBreaker,
    DownstreamTls,
    EnvoyCluster,
    EnvoyGateway,
    EnvoyListener,
    EnvoyRoute,
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
from edgec.read.budget import ReadError
from edgec.read.shape import first_misfit

HCM = "envoy.filters.network.http_connection_manager"
HEALTH_FILTER = "envoy.filters.http.health_check"
RATE_LIMIT_FILTER = "envoy.filters.http.local_ratelimit"
HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
TLS_VERSIONS = {"TLSv1_0": "1.0", "TLSv1_1": "1.1", "TLSv1_2": "1.2", "TLSv1_3": "1.3"}
REDIRECT_CODES = {"MOVED_PERMANENTLY": 301, "FOUND": 302, "SEE_OTHER": 303, "TEMPORARY_REDIRECT": 307,
                  "PERMANENT_REDIRECT": 308}
PATH_KINDS = ("path_separated_prefix", "prefix", "path", "safe_regex")


def read_envoy(ir: IR, context: ReadContext) -> LiveLayer:
    """Each gateway given an admin URL; gateways without one are left out (and said so)."""
    admins = context.options.envoy_admins
    gateways = {g.gateway for g in ir.of(EnvoyGateway)}
    live = LiveLayer()
    missing = sorted(gateways - set(admins))
    if missing:
        live.not_read = f"no admin URL for gateway(s) {', '.join(missing)} (--envoy-admin GATEWAY=URL)"
    for gateway, url in sorted(admins.items()):
        if gateway not in gateways:
            live.errors.append(f"--envoy-admin names gateway '{gateway}', which the spec does not have")
            continue
        try:
            resources = _read_gateway(ir, gateway, url, context, live)
        except ReadError as exc:
            live.errors.append(str(exc))
            continue
        live.resources += resources
        live.owned.update(r.address for r in resources)  # a gateway edgec compiles for runs edgec's config
        live.facts[f"envoy_gateway.{gateway}"] = {"admin_url": url}
    return live


def _read_gateway(ir: IR, gateway: str, url: str, context: ReadContext, live: LiveLayer) -> list[Resource]:
    """By version (one call), else by content (a second: the whole dump); says which in `live.running`."""
    timeout = context.options.timeout
    desired = versions.compiled_versions(ir, gateway, versions.config_dir(context.options, gateway))
    context.calls.count("envoy")
    running = versions.running(gateway, admin.versions(gateway, url, timeout), desired)
    live.running.append(running)
    if running.compared_by == "version":
        return versions.as_compiled(ir, gateway)
    context.calls.count("envoy")
    return parse_config_dump(gateway, read_config_dump(gateway, url, timeout))


def read_config_dump(gateway: str, admin_url: str, timeout: float) -> dict:
    """One call, not retried (the admin interface is on loopback)."""
    return get_json(gateway, admin_url, "/config_dump", timeout)


def parse_config_dump(gateway: str, dump: Any) -> list[Resource]:
    """The gateway's listeners, virtual hosts, routes and clusters; ReadError on a malformed dump."""
    try:
        listeners, clusters = _sections(dump)
        out: list[Resource] = []
        for listener in listeners:
            out += _listener(gateway, listener)
        out += [_cluster(gateway, cluster) for cluster in clusters]
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, StopIteration) as exc:
        raise ReadError(f"the config dump of gateway {gateway}",
                        f"it is not what Envoy writes ({type(exc).__name__}: {exc})") from None
    problem = first_misfit(out)
    if problem is not None:
        raise ReadError(f"the config dump of gateway {gateway}", f"it is not what Envoy writes ({problem})")
    return out


def _sections(dump: dict) -> tuple[list[dict], list[dict]]:
    listeners, clusters = [], []
    for config in dump["configs"]:
        kind = config.get("@type", "")
        if kind.endswith("ListenersConfigDump"):
            listeners += [entry["listener"] for entry in config.get("static_listeners", [])]
            listeners += [entry["active_state"]["listener"] for entry in config.get("dynamic_listeners", [])
                          if "active_state" in entry]
        elif kind.endswith("ClustersConfigDump"):
            clusters += [entry["cluster"] for entry in config.get("static_clusters", [])]
            clusters += [entry["cluster"] for entry in config.get("dynamic_active_clusters", [])]
    return listeners, clusters


def duration(value: Any) -> timedelta:
    """'0.500s' -> timedelta(milliseconds=500)."""
    if not isinstance(value, str) or not value.endswith("s"):
        raise ValueError(f"{value!r} is not a duration")
    return timedelta(seconds=float(Decimal(value[:-1])))


# --- listeners ---------------------------------------------------------------------------------

def _hcm(chain: dict) -> dict | None:
    return next((f["typed_config"] for f in chain.get("filters", []) if f.get("name") == HCM), None)


def _listener(gateway: str, data: dict) -> list[Resource]:
    name = data["name"]
    port = data["address"]["socket_address"]["port_value"]
    base = {"name": f"{gateway}/{name}", "origin": (), "gateway": gateway, "listener": name, "port": port}
    managers = [(chain, hcm) for chain in data.get("filter_chains", []) if (hcm := _hcm(chain)) is not None]
    filters = [f.get("name") for _, hcm in managers for f in hcm.get("http_filters", [])]
    if HEALTH_FILTER in filters:
        health = next(f for _, hcm in managers for f in hcm["http_filters"] if f.get("name") == HEALTH_FILTER)
        path = next((h["string_match"]["exact"] for h in health["typed_config"].get("headers", [])
                     if h.get("name") == ":path"), None)
        return [EnvoyListener(**base, role="health", ready_path=path)]
    redirect = _https_redirect(managers)
    if redirect is not None:
        return [EnvoyListener(**base, role="redirect", redirect_port=redirect.get("port_redirect"))]
    chains, out = [], []
    for chain, hcm in managers:
        hosts = hcm.get("route_config", {}).get("virtual_hosts", [])
        match = chain.get("filter_chain_match")
        server_names = None if match is None else tuple(sorted(match.get("server_names", [])))
        filter_chain = FilterChain(hcm.get("stat_prefix", ""), server_names, _downstream_tls(chain),
                                   tuple(h["name"] for h in hosts))
        chains.append(filter_chain)
        for host in hosts:
            out += _virtual_host(gateway, name, filter_chain, host)
    client = "cloudflare" if any(h.get("original_ip_detection_extensions") for _, h in managers) else "peer"
    return [EnvoyListener(**base, role="routes", filter_chains=tuple(chains), client_address=client), *out]


def _https_redirect(managers: list[tuple[dict, dict]]) -> dict | None:
    """The redirect of a listener that only sends every request to https, else None."""
    hosts = [h for _, hcm in managers for h in hcm.get("route_config", {}).get("virtual_hosts", [])]
    routes = [r for h in hosts for r in h.get("routes", [])]
    if len(routes) == 1 and routes[0].get("redirect", {}).get("https_redirect") and hosts[0].get("domains") == ["*"]:
        return routes[0]["redirect"]
    return None


def _downstream_tls(chain: dict) -> DownstreamTls | None:
    socket = chain.get("transport_socket")
    if socket is None:
        return None
    context = socket["typed_config"]
    common = context.get("common_tls_context", {})
    secrets = common.get("tls_certificate_sds_secret_configs", [])
    version = common.get("tls_params", {}).get("tls_minimum_protocol_version", "TLSv1_2")
    ca = common.get("validation_context", {}).get("trusted_ca", {}).get("filename")
    return DownstreamTls(secrets[0]["name"] if secrets else "", TLS_VERSIONS.get(version, version),
                         ca if context.get("require_client_certificate") else None)


# --- virtual hosts and routes ------------------------------------------------------------------

def _virtual_host(gateway: str, listener: str, chain: FilterChain, data: dict) -> list[Resource]:
    host = data["name"]
    routes = data.get("routes", [])
    names = [route.get("name") or f"{host}#{i}" for i, route in enumerate(routes)]
    identities = route_identities(gateway, host, names)
    virtual_host = EnvoyVirtualHost(f"{gateway}/{host}", (), gateway, listener, host, tuple(data.get("domains", [])),
                                    chain.server_names or (), tuple(identities))
    return [virtual_host, *(_route(gateway, host, i, names[i], identities[i], route) for i, route in enumerate(routes))]


def _route(gateway: str, host: str, position: int, route_name: str, identity: str, data: dict) -> EnvoyRoute:
    action: Forward | Redirect
    if "redirect" in data:
        redirect = data["redirect"]
        scheme = "https" if redirect.get("https_redirect") else redirect.get("scheme_redirect")
        action = Redirect(REDIRECT_CODES[redirect.get("response_code", "MOVED_PERMANENTLY")], scheme,
                          redirect.get("host_redirect"), redirect.get("path_redirect"),
                          bool(redirect.get("strip_query")))
    else:
        action = _forward(data.get("route", {}))
    limit = data.get("typed_per_filter_config", {}).get(RATE_LIMIT_FILTER)
    rate_limit = None if limit is None else LocalRateLimit(
        int(limit["token_bucket"]["max_tokens"]), duration(limit["token_bucket"]["fill_interval"]))
    return EnvoyRoute(identity, (), gateway, host, position, route_name, _match(data["match"]), action,
                      _header_changes(data, "request"), _header_changes(data, "response"), rate_limit)


def _match(match: dict) -> RouteMatch:
    kind = next(k for k in PATH_KINDS if k in match)
    value = match[kind]["regex"] if kind == "safe_regex" else match[kind]
    methods: tuple[str, ...] = ()
    headers = []
    for header in match.get("headers", []):
        parsed = _header_match(header)
        if parsed.name == ":method" and not parsed.invert and parsed.kind in ("exact", "safe_regex") and not methods:
            methods = _methods(parsed)
            if methods:
                continue
        headers.append(parsed)
    return RouteMatch(kind, value, methods, tuple(headers))


def _methods(header: HeaderMatch) -> tuple[str, ...]:
    """A :method matcher as a list of methods: 'GET', or '^(GET|HEAD)$'."""
    value = str(header.value)
    if header.kind == "exact":
        return (value,)
    if value.startswith("^(") and value.endswith(")$") and value[2:-2].replace("|", "").isalpha():
        return tuple(sorted(value[2:-2].split("|")))
    return ()


def _header_match(header: dict) -> HeaderMatch:
    name, invert = header["name"], bool(header.get("invert_match"))
    if "present_match" in header:
        return HeaderMatch(name, "present", bool(header["present_match"]), invert)
    string = header["string_match"]
    missing = bool(header.get("treat_missing_header_as_empty"))
    if "safe_regex" in string:
        return HeaderMatch(name, "safe_regex", string["safe_regex"]["regex"], invert, missing)
    kind = next(k for k in ("exact", "prefix") if k in string)
    return HeaderMatch(name, kind, string[kind], invert, missing)


def _forward(route: dict) -> Forward:
    if "weighted_clusters" in route:
        clusters = tuple(WeightedCluster(c["name"], int(c.get("weight", 0)))
                         for c in route["weighted_clusters"]["clusters"])
    else:
        clusters = (WeightedCluster(route["cluster"]),)
    policy = route.get("retry_policy")
    retry = None if policy is None else RetryPolicy(
        tuple(c for c in policy.get("retry_on", "").split(",") if c), int(policy.get("num_retries", 1)),
        duration(policy["per_try_timeout"]) if "per_try_timeout" in policy else None,
        tuple(policy.get("retriable_status_codes", [])))
    return Forward(clusters, duration(route.get("timeout", "15s")), retry)


def _header_changes(route: dict, direction: str) -> HeaderChanges | None:
    added = route.get(f"{direction}_headers_to_add", [])
    removed = tuple(route.get(f"{direction}_headers_to_remove", []))
    if not added and not removed:
        return None
    # values are format strings where '%%' is a literal '%' (edgec writes nothing else)
    replace = [(h["header"]["key"], h["header"].get("value", "").replace("%%", "%")) for h in added
               if h.get("append_action") == "OVERWRITE_IF_EXISTS_OR_ADD"]
    append = [(h["header"]["key"], h["header"].get("value", "").replace("%%", "%")) for h in added
              if h.get("append_action", "APPEND_IF_EXISTS_OR_ADD") == "APPEND_IF_EXISTS_OR_ADD"]
    return HeaderChanges(tuple(replace), tuple(append), removed)


# --- clusters ----------------------------------------------------------------------------------

def _cluster(gateway: str, data: dict) -> EnvoyCluster:
    name = data["name"]
    endpoints = tuple((e["endpoint"]["address"]["socket_address"]["address"],
                       int(e["endpoint"]["address"]["socket_address"]["port_value"]))
                      for group in data.get("load_assignment", {}).get("endpoints", [])
                      for e in group.get("lb_endpoints", []))
    thresholds = (data.get("circuit_breakers", {}).get("thresholds") or [{}])[0]
    breaker = CircuitBreaker(*(int(thresholds.get(k, default)) for k, default in (
        ("max_connections", 1024), ("max_pending_requests", 1024), ("max_requests", 1024), ("max_retries", 3))))
    checks = data.get("health_checks", [])
    check = None if not checks else HealthCheck(
        checks[0]["http_health_check"]["path"], duration(checks[0]["interval"]), duration(checks[0]["timeout"]),
        int(checks[0]["healthy_threshold"]), int(checks[0]["unhealthy_threshold"]))
    od = data.get("outlier_detection")
    outlier = None if od is None else OutlierDetection(
        int(od.get("consecutive_5xx", 5)), duration(od.get("interval", "10s")),
        duration(od.get("base_ejection_time", "30s")), int(od.get("max_ejection_percent", 10)))
    http2 = "http2_protocol_options" in data.get("typed_extension_protocol_options", {}).get(
        HTTP_OPTIONS, {}).get("explicit_http_config", {})
    return EnvoyCluster(f"{gateway}/{name}", (), gateway, name, data.get("type", "STATIC"), endpoints,
                        "http2" if http2 else "http1", duration(data.get("connect_timeout", "5s")),
                        data.get("lb_policy", "ROUND_ROBIN"), breaker, check, outlier, _upstream_tls(data))


def _upstream_tls(cluster: dict) -> UpstreamTls | None:
    socket = cluster.get("transport_socket")
    if socket is None:
        return None
    context = socket["typed_config"]
    ca = context.get("common_tls_context", {}).get("validation_context", {}).get("trusted_ca", {}).get("filename")
    return UpstreamTls(context.get("sni", ""), ca)
