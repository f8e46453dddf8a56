"""The Envoy side of an imported spec: per gateway, its ports, the TLS it serves and the client
certificates it requires, its services (one per cluster) and ingresses (one per virtual host, with
routes in Envoy's order). What edgec does not model (another HTTP filter, a listener filter, a cluster
found through EDS) is a gap: edgec's configuration would not have it."""

from __future__ import annotations

import os

import yaml

from edgec.importer.aws import Gateways
from edgec.importer.cloudflare import OriginPulls, certificate_path
from edgec.importer.draft import Draft, identifier, is_identifier
from edgec.importer.read import BOOTSTRAP_DUMP, YAML_LOADER, EnvoyConfig, parse_envoy
from edgec.ir.model import Resource
from edgec.layers.envoy.build import LB_POLICIES
from edgec.layers.envoy.model import (
    ENVOY_DIR,
    ORIGIN_PULL_CA,
    READY_PATH,
    EnvoyCluster,
    EnvoyListener,
    EnvoyRoute,
    EnvoyVirtualHost,
    Forward,
    HeaderChanges,
)
from edgec.layers.envoy.read import HCM
from edgec.spec.lookup import zone_among
from edgec.spec.types import format_duration

KNOWN_HTTP_FILTERS = frozenset({"envoy.filters.http.router", "envoy.filters.http.health_check",
                                "envoy.filters.http.local_ratelimit"})
KNOWN_LISTENER_FILTERS = frozenset({"envoy.filters.listener.tls_inspector"})
RETRY_ON = frozenset({"5xx", "gateway-error", "reset", "connect-failure", "retriable-4xx", "refused-stream",
                      "retriable-status-codes", "unavailable", "cancelled"})
POLICIES = {policy: name for name, policy in LB_POLICIES.items()}


def import_envoy(draft: Draft, gateways: Gateways, configs: dict[str, EnvoyConfig], pulls: OriginPulls) -> None:
    for gateway, config in sorted(configs.items()):
        if gateway not in draft.section("gateways"):
            draft.notes.append(f"Envoy configuration given for gateway {gateway}, which has no load balancer in the "
                               "VPC: not imported (gateway names come from the NLBs: "
                               f"{', '.join(sorted(draft.section('gateways'))) or 'none'})")
            continue
        _unmodelled(draft, gateway, config.dump)
        _gateway(draft, gateway, parse_envoy(gateway, config), config, gateways, pulls)
    for host, gateway in sorted(gateways.hosts.items()):
        if gateway not in configs:
            draft.gap("envoy", "virtual_host", f"{gateway}: https {host}",
                      f"no Envoy configuration for gateway {gateway} (--envoy-config {gateway}=FILE or --envoy-admin "
                      f"{gateway}=URL), so the routes of {host} are unknown")
            _dns_gap(draft, host, gateway)
    for gateway in sorted(set(draft.section("gateways")) - set(configs)):
        _client_auth_from_cloudflare(draft, gateway, gateways, pulls)
    _origin_pulls_no_gateway_needs(draft, gateways, pulls)


def _dns_gap(draft: Draft, host: str, gateway: str) -> None:
    """The host record of a host that cannot be an ingress stays live, outside the spec."""
    provider = draft.section("zones").get(zone_among(set(draft.section("zones")), host) or "", {}).get("provider")
    if provider == "cloudflare":
        draft.gap("cloudflare", "dns_record", f"{host} CNAME", f"points at gateway {gateway}, whose routes are unknown")
    elif provider == "route53":
        draft.gap("aws", "route53_record", f"{host} A", f"points at gateway {gateway}, whose routes are unknown")


def _unmodelled(draft: Draft, gateway: str, dump: dict) -> None:
    for config in dump.get("configs", []):
        kind = config.get("@type", "")
        if kind.endswith("ListenersConfigDump"):
            listeners = [e["listener"] for e in config.get("static_listeners", [])] + [
                e["active_state"]["listener"] for e in config.get("dynamic_listeners", []) if "active_state" in e]
            for listener in listeners:
                for what in _unmodelled_filters(listener):
                    draft.gap("envoy", "listener", f"{gateway}: {listener.get('name')}",
                              f"{what}, which edgec does not model: its configuration would not have it")
        elif kind.endswith("ClustersConfigDump"):
            for entry in config.get("static_clusters", []) + config.get("dynamic_active_clusters", []):
                cluster = entry["cluster"]
                if cluster.get("type", "STATIC") not in ("STATIC", "STRICT_DNS"):
                    draft.gap("envoy", "cluster", f"{gateway}: {cluster.get('name')}",
                              f"a {cluster.get('type')} cluster; edgec writes STATIC and STRICT_DNS clusters")


def _unmodelled_filters(listener: dict) -> list[str]:
    found = [f"listener filter {f.get('name')}" for f in listener.get("listener_filters", [])
             if f.get("name") not in KNOWN_LISTENER_FILTERS]
    for chain in listener.get("filter_chains", []):
        for network in chain.get("filters", []):
            if network.get("name") != HCM:
                found.append(f"network filter {network.get('name')}")
                continue
            found += [f"HTTP filter {f.get('name')}" for f in network.get("typed_config", {}).get("http_filters", [])
                      if f.get("name") not in KNOWN_HTTP_FILTERS]
    return sorted(set(found))


# --- the gateway -------------------------------------------------------------------------------

def _gateway(draft: Draft, gateway: str, resources: list[Resource], config: EnvoyConfig, gateways: Gateways,
             pulls: OriginPulls) -> None:
    spec = draft.section("gateways")[gateway]
    ports = spec.setdefault("ports", {})
    admin = _admin_port(config.dump)
    if admin is not None:
        ports["admin"] = admin
    hosts = [r for r in resources if isinstance(r, EnvoyVirtualHost)]
    for listener in (r for r in resources if isinstance(r, EnvoyListener)):
        role_port = {"routes": "https", "redirect": "http", "health": "health"}[listener.role]
        if ports.get(role_port, listener.port) != listener.port:
            draft.notes.append(f"gateway {gateway}: the NLB's {role_port} port is {ports[role_port]}, Envoy's "
                               f"{listener.port}; the spec has one port, the NLB's")
        ports.setdefault(role_port, listener.port)
        if listener.role == "health" and listener.ready_path != READY_PATH:
            draft.notes.append(f"gateway {gateway}: Envoy answers readiness on {listener.ready_path}; edgec uses "
                               f"{READY_PATH}")
        if listener.role == "routes":
            _downstream_tls(draft, gateway, spec, listener, hosts, config, pulls)
    routes = {r.name: r for r in resources if isinstance(r, EnvoyRoute)}
    clusters = {r.cluster: r for r in resources if isinstance(r, EnvoyCluster)}
    names = _services(draft, gateway, clusters)
    zones = set(draft.section("zones"))
    for host in sorted(hosts, key=lambda h: h.host):
        if zone_among(zones, host.host) is None:
            draft.gap("envoy", "virtual_host", host.label, "its host lies in no zone of the estate")
            continue
        if gateways.hosts.get(host.host) != gateway:
            draft.notes.append(f"{host.host}: gateway {gateway} serves it, but no DNS record points it at the "
                               "gateway; the plan creates one")
        converted = [_route(draft, routes[name], names) for name in host.routes]
        kept = [route for route in converted if route is not None]
        if kept:
            draft.gateway_part(gateway, "ingresses", []).append({"host": host.host, "gateway": gateway, "routes": kept})
        else:
            draft.gap("envoy", "virtual_host", host.label, "none of its routes can be written")


def _admin_port(dump: dict) -> int | None:
    for config in dump.get("configs", []):
        if config.get("@type") == BOOTSTRAP_DUMP:
            port = config.get("bootstrap", {}).get("admin", {}).get("address", {}).get("socket_address", {}).get(
                "port_value")
            return int(port) if port is not None else None
    return None


def _downstream_tls(draft: Draft, gateway: str, spec: dict, listener: EnvoyListener, hosts: list[EnvoyVirtualHost],
                    config: EnvoyConfig, pulls: OriginPulls) -> None:
    chains = [c for c in listener.filter_chains if c.tls is not None]
    if not chains:
        return
    tls = spec.setdefault("tls", {})
    if tls.get("terminate") == "nlb":
        draft.notes.append(f"gateway {gateway}: both the NLB and Envoy end TLS; the spec writes the NLB's")
        return
    default = next((c for c in chains if not c.server_names), chains[0])
    assert default.tls is not None
    tls["certificate"] = default.tls.certificate
    sni = [c.tls.certificate for c in chains if c is not default and c.tls is not None]
    if sni:
        tls["sni_certificates"] = list(dict.fromkeys(sni))
    tls["min_version"] = default.tls.min_version
    by_host = {h.host: h for h in hosts}
    for chain in chains:
        assert chain.tls is not None
        served = [d for host in chain.hosts if host in by_host for d in by_host[host].domains if ":" not in d]
        _served_certificate(draft, chain.tls.certificate, served, config)
    ca = default.tls.client_ca
    if ca == ORIGIN_PULL_CA:
        tls["client_auth"] = "cloudflare-origin-pull-shared"
    elif ca is not None:
        own = _own_client_certificate(draft, [h.host for h in hosts], pulls)
        if own is None:
            draft.gap("envoy", "listener", f"{gateway}: {listener.listener}",
                      f"it requires client certificates signed by {ca}, and no Cloudflare zone of its hosts presents "
                      "one (the spec names the certificate a zone presents): client_auth is left out")
            return
        tls["client_auth"], tls["origin_pull_certificate"] = "cloudflare-origin-pull", own
        draft.section("certificates")[own]["ca_file"] = ca


def _client_auth_from_cloudflare(draft: Draft, gateway: str, gateways: Gateways, pulls: OriginPulls) -> None:
    """Without Envoy's configuration, client authentication follows the zones of the gateway's hosts."""
    hosts = [h for h, g in gateways.hosts.items() if g == gateway]
    zones = {zone_among(set(draft.section("zones")), h) for h in hosts} & pulls.zones
    if not zones:
        return
    tls = draft.section("gateways")[gateway].setdefault("tls", {})
    own = _own_client_certificate(draft, hosts, pulls)
    tls["client_auth"] = "cloudflare-origin-pull" if own else "cloudflare-origin-pull-shared"
    if own:
        tls["origin_pull_certificate"] = own
        draft.invent(f"certificates.{own}.ca_file", draft.section("certificates")[own]["ca_file"],
                     "the CA the gateway trusts is in its Envoy configuration, which was not read")


def _origin_pulls_no_gateway_needs(draft: Draft, gateways: Gateways, pulls: OriginPulls) -> None:
    """Origin pulls follow from the gateways that check client certificates: a zone with them on and no
    such gateway among its hosts' (or none of its hosts written) cannot say so in the spec."""
    zones = set(draft.section("zones"))
    checking = {name for name, g in draft.section("gateways").items() if g.get("tls", {}).get("client_auth")}
    written = {i["host"] for part in draft.gateways.values() for i in part.get("ingresses", [])}
    needed = {zone_among(zones, host) for host, gateway in gateways.hosts.items()
              if gateway in checking and host in written}
    used = {g["tls"].get("origin_pull_certificate") for g in draft.section("gateways").values() if "tls" in g}
    for zone in sorted(pulls.zones - needed):
        draft.gap("cloudflare", "origin_pulls", zone, "origin pulls are on, but no gateway of the zone's hosts "
                                                      "checks client certificates")
    for zone, name in sorted(pulls.certificates.items()):
        if name not in used:
            del draft.section("certificates")[name]
            draft.files.pop(certificate_path(name), None)
            draft.invented[:] = [i for i in draft.invented if not i.where.startswith(f"certificates.{name}.")]
            draft.gap("cloudflare", "origin_pull_certificate", zone,
                      "a client certificate no gateway of the zone's hosts expects")


def _own_client_certificate(draft: Draft, hosts: list[str], pulls: OriginPulls) -> str | None:
    zones = set(draft.section("zones"))
    return next((pulls.certificates[z] for h in sorted(hosts) if (z := zone_among(zones, h)) in pulls.certificates),
                None)


def _served_certificate(draft: Draft, name: str, domains: list[str], config: EnvoyConfig) -> None:
    """A certificate Envoy serves from files (through SDS): its paths from the SDS file beside the
    bootstrap, else edgec's layout; its names from the hosts it serves."""
    certificates = draft.section("certificates")
    if name in certificates:
        return
    paths = _sds_paths(config, name)
    if paths is None:
        paths = (f"{ENVOY_DIR}/certs/{name}/tls.crt", f"{ENVOY_DIR}/certs/{name}/tls.key")
        draft.invent(f"certificates.{name}", f"cert_file {paths[0]}, key_file {paths[1]}",
                     "the secret's files were not found beside the Envoy configuration")
    if not domains:  # a gateway that serves no host yet: nothing says which names the certificate covers
        zones = sorted(draft.section("zones")) or ["example.com"]
        domains = [draft.invent(f"certificates.{name}.domains", zones[0], "it serves no host, so its names are "
                                "unknown; write the names the certificate covers")]
    certificates[name] = {"source": "files", "domains": sorted(set(domains)), "cert_file": paths[0],
                          "key_file": paths[1]}
    draft.notes.append(f"certificate {name}: written as `source: files` (edgec cannot tell how it was issued); "
                       "if Cloudflare's Origin CA or ACM issued it, say so in the spec")


def _sds_paths(config: EnvoyConfig, name: str) -> tuple[str, str] | None:
    if config.sds_dir is None:
        return None
    try:
        with open(os.path.join(config.sds_dir, f"{name}.yaml"), encoding="utf-8") as handle:
            secret = yaml.load(handle, Loader=YAML_LOADER)["resources"][0]["tls_certificate"]
        return secret["certificate_chain"]["filename"], secret["private_key"]["filename"]
    except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError):
        return None


# --- services ----------------------------------------------------------------------------------

def _services(draft: Draft, gateway: str, clusters: dict[str, EnvoyCluster]) -> dict[str, str]:
    """A service per cluster; returns cluster -> service name. A cluster of the same name on another
    gateway is the same service when it is the same."""
    services = {name: s for part in draft.gateways.values() for name, s in part.get("services", {}).items()}
    names = {}
    for cluster_name, cluster in sorted(clusters.items()):
        service = _service(draft, cluster)
        if service is None:
            continue
        name = cluster_name if is_identifier(cluster_name) else identifier(cluster_name, set(services))
        if name != cluster_name:
            draft.notes.append(f"gateway {gateway}: cluster {cluster_name} is service {name}; Envoy's cluster "
                               "will be renamed")
        if name in services and services[name] != service:
            name = identifier(f"{gateway}-{name}", set(services))
            draft.notes.append(f"gateway {gateway}: cluster {cluster_name} differs from the one of that name on "
                               f"another gateway: it is service {name}")
        if name not in services:
            services[name] = service
            draft.gateway_part(gateway, "services", {})[name] = service
        names[cluster_name] = name
    return names


def _service(draft: Draft, cluster: EnvoyCluster) -> dict | None:
    if cluster.discovery not in ("STATIC", "STRICT_DNS"):
        return None  # reported by _unmodelled
    if cluster.lb_policy not in POLICIES:
        draft.gap("envoy", "cluster", cluster.label, f"load balancing {cluster.lb_policy} is not one edgec writes")
        return None
    service: dict = {"endpoints": [f"{host}:{port}" for host, port in cluster.endpoints]}
    if cluster.protocol != "http1":
        service["protocol"] = cluster.protocol
    if cluster.tls is not None:  # the SNI defaults to the first endpoint's host
        sni = cluster.tls.sni if cluster.endpoints and cluster.tls.sni != cluster.endpoints[0][0] else None
        service["tls"] = {k: v for k, v in (("sni", sni), ("ca_file", cluster.tls.ca_file)) if v}
    service["connect_timeout"] = format_duration(cluster.connect_timeout)
    if cluster.health_check:
        check = cluster.health_check
        service["health_check"] = {"path": check.path, "interval": format_duration(check.interval),
                                   "timeout": format_duration(check.timeout),
                                   "healthy_threshold": check.healthy_threshold,
                                   "unhealthy_threshold": check.unhealthy_threshold}
    breaker = cluster.circuit_breaker
    service["circuit_breaker"] = {"max_connections": breaker.max_connections,
                                  "max_pending_requests": breaker.max_pending_requests,
                                  "max_requests": breaker.max_requests, "max_retries": breaker.max_retries}
    if cluster.outlier_detection:
        od = cluster.outlier_detection
        service["outlier_detection"] = {"consecutive_5xx": od.consecutive_5xx, "interval": format_duration(od.interval),
                                        "base_ejection_time": format_duration(od.base_ejection_time),
                                        "max_ejection_percent": od.max_ejection_percent}
    if cluster.lb_policy != "ROUND_ROBIN":
        service["load_balancing"] = POLICIES[cluster.lb_policy]
    return service


# --- routes ------------------------------------------------------------------------------------

def _route(draft: Draft, route: EnvoyRoute, services: dict[str, str]) -> dict | None:
    """The spec's route, or None (and a gap) when Envoy's route says what the spec cannot."""
    def gap(reason: str) -> None:
        draft.gap("envoy", "route", route.label, reason)

    out: dict = {"name": route.route_name}
    match = route.match
    if match.kind == "path_separated_prefix" or (match.kind == "prefix" and match.value == "/"):
        out["path"] = match.value
    elif match.kind == "path":
        out["exact"] = match.value
    elif match.kind == "safe_regex":
        out["regex"] = match.value
    else:
        gap(f"a raw prefix match ({match.value}) also matches longer path segments; edgec matches whole segments")
        return None
    if match.methods:
        out["methods"] = list(match.methods)
    headers = []
    for header in match.headers:
        if header.kind != "present" and header.invert != header.missing_as_empty:
            gap(f"its match on header {header.name} treats a missing header in a way edgec does not write")
            return None
        key = {"exact": "exact", "prefix": "prefix", "safe_regex": "regex", "present": "present"}[header.kind]
        headers.append({"name": header.name, key: header.value, **({"invert": True} if header.invert else {})})
    if headers:
        out["headers"] = headers
    if isinstance(route.action, Forward):
        if not _forward(out, route.action, services):
            gap("it sends to a cluster that is not imported, or retries on conditions edgec does not write")
            return None
    else:
        redirect = route.action
        out["redirect"] = {k: v for k, v in (("scheme", redirect.scheme), ("host", redirect.host),
                                             ("path", redirect.path), ("code", redirect.code),
                                             ("strip_query", redirect.strip_query or None)) if v is not None}
    for direction, changes in (("request_headers", route.request_headers),
                               ("response_headers", route.response_headers)):
        if changes is not None:
            out[direction] = _header_changes(changes)
    if route.rate_limit is not None:
        out["rate_limit"] = {"requests": route.rate_limit.requests, "per": format_duration(route.rate_limit.per)}
    return out


def _forward(out: dict, forward: Forward, services: dict[str, str]) -> bool:
    if any(c.cluster not in services for c in forward.clusters):
        return False
    if forward.weighted:
        out["split"] = [{"service": services[c.cluster], "weight": c.weight or 0} for c in forward.clusters]
    else:
        out["service"] = services[forward.clusters[0].cluster]
    out["timeout"] = format_duration(forward.timeout)
    retry = forward.retry
    if retry is not None:
        if set(retry.retry_on) - RETRY_ON:
            return False
        retries: dict = {"attempts": retry.num_retries, "on": list(retry.retry_on)}
        if retry.per_try_timeout:
            retries["per_try_timeout"] = format_duration(retry.per_try_timeout)
        if retry.retriable_status_codes:
            retries["status_codes"] = list(retry.retriable_status_codes)
        out["retries"] = retries
    return True


def _header_changes(changes: HeaderChanges) -> dict:
    out: dict = {}
    if changes.set:
        out["set"] = dict(changes.set)
    if changes.add:
        out["add"] = dict(changes.add)
    if changes.remove:
        out["remove"] = list(changes.remove)
    return out
