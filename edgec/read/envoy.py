"""Read a running Envoy gateway through its admin `/config_dump`, and compare it with the generated
bootstrap, as views of the same shape: listeners, virtual hosts, routes and clusters.

Envoy echoes its config with defaults filled in and durations rewritten ("0.5s" -> "0.500s"), so
only the fields edgec sets are compared, and durations as numbers.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from edgec.read.budget import ApiCalls, ReadError

HCM = "envoy.filters.network.http_connection_manager"
ADMIN_TIMEOUT = 10


def read_config_dump(gateway: str, admin_url: str, calls: ApiCalls) -> dict:
    url = admin_url.rstrip("/") + "/config_dump"
    calls.count("envoy")
    try:
        with urllib.request.urlopen(url, timeout=ADMIN_TIMEOUT) as response:
            return json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ReadError(f"Envoy admin of gateway {gateway} ({url})", str(exc)) from None


def live_view(dump: dict) -> dict[tuple, dict]:
    listeners, clusters = [], []
    for config in dump.get("configs", []):
        kind = config.get("@type", "")
        if kind.endswith("ListenersConfigDump"):
            listeners += [entry["listener"] for entry in config.get("static_listeners", [])]
        elif kind.endswith("ClustersConfigDump"):
            clusters += [entry["cluster"] for entry in config.get("static_clusters", [])]
    return view(listeners, clusters)


def desired_view(bootstrap: dict) -> dict[tuple, dict]:
    resources = bootstrap.get("static_resources", {})
    return view(resources.get("listeners", []), resources.get("clusters", []))


def view(listeners: list[dict], clusters: list[dict]) -> dict[tuple, dict]:
    """Identity -> compared attributes, for listeners, virtual hosts, routes and clusters."""
    out: dict[tuple, dict] = {}
    for listener in listeners:
        name = listener.get("name", "?")
        out[("listener", name)] = {"port": listener.get("address", {}).get("socket_address", {}).get("port_value")}
        for chain in listener.get("filter_chains", []):
            names = sorted(chain.get("filter_chain_match", {}).get("server_names", []))
            for filt in chain.get("filters", []):
                if filt.get("name") != HCM:
                    continue
                for host in filt.get("typed_config", {}).get("route_config", {}).get("virtual_hosts", []):
                    _virtual_host(out, name, names, host)
    for cluster in clusters:
        out[("cluster", cluster["name"])] = {
            "type": cluster.get("type", "STATIC"), "lb_policy": cluster.get("lb_policy", "ROUND_ROBIN"),
            "connect_timeout": _seconds(cluster.get("connect_timeout")),
            "endpoints": sorted(_endpoints(cluster))}
    return out


def _virtual_host(out: dict, listener: str, server_names: list[str], host: dict) -> None:
    out[("virtual_host", listener, host["name"])] = {"domains": sorted(host.get("domains", [])),
                                                     "server_names": server_names}
    for index, route in enumerate(host.get("routes", [])):
        action = route.get("route", {})
        out[("route", host["name"], route.get("name", f"#{index}"))] = {
            "position": index,
            "match": {k: v for k, v in route.get("match", {}).items() if k != "headers"},
            "headers": route.get("match", {}).get("headers", []),
            "cluster": action.get("cluster"),
            "weighted_clusters": [(c["name"], c.get("weight")) for c in
                                  action.get("weighted_clusters", {}).get("clusters", [])] or None,
            "timeout": _seconds(action.get("timeout")),
            "redirect": route.get("redirect"),
        }


def _endpoints(cluster: dict) -> list[str]:
    out = []
    for group in cluster.get("load_assignment", {}).get("endpoints", []):
        for endpoint in group.get("lb_endpoints", []):
            address = endpoint.get("endpoint", {}).get("address", {}).get("socket_address", {})
            out.append(f"{address.get('address')}:{address.get('port_value')}")
    return out


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    return round(float(str(value).rstrip("s")), 3)
