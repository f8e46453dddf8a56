"""Compare running Envoy gateways with the IR: listeners, virtual hosts, routes and clusters.

Only gateways that were read are compared (each needs its admin URL). What a gateway runs and the
spec lacks is a delete ("gone from the generated config": the reader counts all of a gateway's
configuration as edgec's), and what the spec has and it lacks a create ("the gateway runs an older
config").
Durations compare as seconds.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from edgec.diff.plan import Change, Comparison, compare
from edgec.ir.model import IR, Resource
from edgec.layers.base import LiveLayer
from edgec.layers.envoy.model import (
    EnvoyCluster,
    EnvoyListener,
    EnvoyRoute,
    EnvoyVirtualHost,
    Forward,
    HeaderChanges,
)

COMPARED = (EnvoyListener, EnvoyVirtualHost, EnvoyRoute, EnvoyCluster)


def compare_envoy(ir: IR, live: dict[str, LiveLayer]) -> list[Change]:
    state = live["envoy"]
    read = {r.gateway for r in state.resources if isinstance(r, COMPARED)}
    desired = [r for r in ir.resources if isinstance(r, COMPARED) and r.gateway in read]
    views = {EnvoyListener: _listener_view, EnvoyVirtualHost: _virtual_host_view, EnvoyRoute: _route_view,
             EnvoyCluster: _cluster_view}
    rules = {kind: Comparison(view, create_note="the gateway runs an older config",
                              delete_note="gone from the generated config") for kind, view in views.items()}
    return compare(desired, state.resources, state.owned, lambda r: rules[type(r)])


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 3)


def _listener_view(r: Resource) -> dict[str, Any]:
    assert isinstance(r, EnvoyListener)
    return {"port": r.port, "role": r.role}


def _virtual_host_view(r: Resource) -> dict[str, Any]:
    assert isinstance(r, EnvoyVirtualHost)
    return {"domains": sorted(r.domains), "server_names": sorted(r.server_names)}


def _route_view(r: Resource) -> dict[str, Any]:
    assert isinstance(r, EnvoyRoute)
    match = r.match
    view: dict[str, Any] = {
        "position": r.position,
        "match": {match.kind: match.value},
        "methods": list(match.methods) or None,
        "headers": [f"{h.name} {'not ' if h.invert else ''}{h.kind} {h.value}"
                    + (" (missing: empty)" if h.missing_as_empty else "") for h in match.headers] or None,
        "request_headers": _header_changes(r.request_headers),
        "response_headers": _header_changes(r.response_headers),
        "rate_limit": f"{r.rate_limit.requests} per {_seconds(r.rate_limit.per)}s" if r.rate_limit else None,
        "clusters": None, "timeout": None, "retries": None, "redirect": None,
    }
    if isinstance(r.action, Forward):
        forward = r.action
        retry = forward.retry
        view |= {"clusters": {c.cluster: c.weight for c in forward.clusters} if forward.weighted
                 else forward.clusters[0].cluster,
                 "timeout": _seconds(forward.timeout),
                 "retries": None if retry is None else {
                     "on": list(retry.retry_on), "attempts": retry.num_retries,
                     "per_try_timeout": _seconds(retry.per_try_timeout),
                     "status_codes": list(retry.retriable_status_codes) or None}}
    else:
        redirect = r.action
        view["redirect"] = {"code": redirect.code, "scheme": redirect.scheme, "host": redirect.host,
                            "path": redirect.path, "strip_query": redirect.strip_query}
    return view


def _header_changes(changes: HeaderChanges | None) -> dict | None:
    if changes is None:
        return None
    return {"set": dict(changes.set) or None, "add": dict(changes.add) or None, "remove": list(changes.remove) or None}


def _cluster_view(r: Resource) -> dict[str, Any]:
    assert isinstance(r, EnvoyCluster)
    check = r.health_check
    return {"type": r.discovery, "lb_policy": r.lb_policy, "connect_timeout": _seconds(r.connect_timeout),
            "endpoints": sorted(f"{host}:{port}" for host, port in r.endpoints), "protocol": r.protocol,
            "health_check": None if check is None else f"{check.path} every {_seconds(check.interval)}s",
            "tls_sni": r.tls.sni if r.tls else None}
