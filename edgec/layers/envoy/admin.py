"""Envoy's admin API, as edgec uses it: the config dump, the version of each resource set a gateway
runs, and the counters and error state that say whether it rejected an update.

Calls are not retried (the admin interface is on loopback); `timeout` bounds the connection and each
wait for the answer's bytes. A failed call is a ReadError naming the gateway and the URL.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from edgec.read.answers import unparsable
from edgec.read.budget import ReadError

KINDS = {"lds": ("ListenersConfigDump", "listener_manager.lds"), "cds": ("ClustersConfigDump", "cluster_manager.cds")}
COUNTERS = ("update_attempt", "update_rejected", "update_failure")
_STATS_FILTER = r"^(listener_manager\.lds|cluster_manager\.cds)\.update_(attempt|rejected|failure)$"


def get_json(gateway: str, admin_url: str, path: str, timeout: float) -> Any:
    url = admin_url.rstrip("/") + path
    what = f"Envoy admin of gateway {gateway} ({url})"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.load(response)
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:  # refused, reset, cut short
        raise ReadError(what, str(exc) or type(exc).__name__) from None
    except ValueError as exc:  # not JSON (truncated, say)
        raise unparsable(what, exc) from None


def versions(gateway: str, admin_url: str, timeout: float) -> dict[str, str]:
    """The version_info of the last LDS and CDS update the gateway accepted ('' for none): one small call."""
    dump = get_json(gateway, admin_url, "/config_dump?mask=version_info", timeout)
    return versions_in(dump)


def versions_in(dump: Any) -> dict[str, str]:
    """The LDS and CDS versions in a config dump (whole or masked)."""
    out = {}
    configs = dump.get("configs") if isinstance(dump, dict) else None
    for config in configs if isinstance(configs, list) else []:  # anything else: no versions (read whole)
        for kind, (message, _) in KINDS.items():
            if isinstance(config, dict) and str(config.get("@type", "")).endswith(message):
                out[kind] = str(config.get("version_info", ""))
    return out


def counters(gateway: str, admin_url: str, timeout: float) -> dict[str, dict[str, int]]:
    """kind -> {update_attempt, update_rejected, update_failure}: what Envoy did with the files it read."""
    query = urllib.parse.urlencode({"format": "json", "filter": _STATS_FILTER})
    stats = get_json(gateway, admin_url, f"/stats?{query}", timeout)
    values = {s.get("name"): s.get("value") for s in stats.get("stats", []) if isinstance(s, dict)}
    return {kind: {c: int(values.get(f"{prefix}.{c}") or 0) for c in COUNTERS} for kind, (_, prefix) in KINDS.items()}


def rejection(gateway: str, admin_url: str, kind: str, timeout: float) -> str:
    """Envoy's latest reason for rejecting a `kind` update, from the config dump's error state."""
    resource = "dynamic_listeners" if kind == "lds" else "dynamic_active_clusters"
    query = urllib.parse.urlencode({"resource": resource, "mask": "error_state"})
    try:
        dump = get_json(gateway, admin_url, f"/config_dump?{query}", timeout)
    except ReadError:
        dump = {}
    states = [c["error_state"] for c in dump.get("configs", []) if isinstance(c, dict) and "error_state" in c]
    latest = max(states, key=lambda s: str(s.get("last_update_attempt", "")), default=None)
    if latest and latest.get("details"):
        return str(latest["details"])
    return f"{KINDS[kind][1]}.update_rejected counted it; Envoy's log has the reason"
