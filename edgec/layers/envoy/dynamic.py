"""The dynamic form of a gateway's Envoy config: a small bootstrap whose listeners (LDS) and clusters
(CDS) come from files Envoy watches, so a route change is a file swap, not a restart.

Per gateway, under the config dir:

    <gateway>/bootstrap.yaml   node, admin, runtime, overload manager, dynamic_resources
    <gateway>/lds/lds.yaml     the listeners (with their route configuration inline)
    <gateway>/cds/cds.yaml     the clusters

Each resource file is a DiscoveryResponse whose `version_info` is the digest of its resources, so the
version a running gateway reports (`/config_dump`) says exactly which content it runs. LDS and CDS watch
a folder each (`watched_directory`): Envoy reloads a file when an entry is moved into its folder, which
is how both `edgec apply --layer envoy` (a symlink renamed over it) and the kubelet (its `..data`
symlink) replace it atomically. Separate folders let edgec order the swaps: clusters before the
listeners that use them (Envoy rejects a route to an unknown cluster).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from edgec.ir.model import IR
from edgec.layers.envoy.emit import Index, bootstrap_base, clusters, dump, gateways, listeners
from edgec.layers.envoy.model import EnvoyGateway

KINDS = ("cds", "lds")  # resource sets, in the order a gateway must take them
RESOURCE_TYPES = {"lds": "type.googleapis.com/envoy.config.listener.v3.Listener",
                  "cds": "type.googleapis.com/envoy.config.cluster.v3.Cluster"}


@dataclass(frozen=True)
class GatewayConfig:
    """One gateway's dynamic config: the bootstrap, and each resource set as a DiscoveryResponse."""

    gateway: str
    bootstrap: dict
    sets: dict[str, dict]  # lds | cds -> {"version_info": digest, "resources": [...]}


def resource_set(kind: str, resources: list[dict]) -> dict:
    """A DiscoveryResponse of `resources` (Envoy config, without @type), versioned by their digest."""
    typed = [{"@type": RESOURCE_TYPES[kind], **resource} for resource in resources]
    return {"version_info": digest(typed), "resources": typed}


def digest(resources: list[dict]) -> str:
    """The first 16 hex digits of the SHA-256 of the resources' canonical JSON: equal content, equal version."""
    canonical = json.dumps(resources, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def config_source(config_dir: str, gateway: str, kind: str) -> dict:
    folder = f"{config_dir.rstrip('/')}/{gateway}/{kind}"
    return {"path_config_source": {"path": f"{folder}/{kind}.yaml", "watched_directory": {"path": folder}},
            "resource_api_version": "V3"}


def gateway_config(index: Index, gateway: EnvoyGateway) -> GatewayConfig:
    bootstrap = {**bootstrap_base(gateway), "dynamic_resources": {
        f"{kind}_config": config_source(index.config_dir, gateway.gateway, kind) for kind in ("lds", "cds")}}
    sets = {"lds": resource_set("lds", listeners(index, gateway)),
            "cds": resource_set("cds", clusters(index, gateway))}
    return GatewayConfig(gateway.gateway, bootstrap, sets)


def gateway_configs(index: Index) -> list[GatewayConfig]:
    return [gateway_config(index, gateway) for gateway in gateways(index.ir)]


def set_text(ir: IR, gateway: str, kind: str, content: dict) -> str:
    return dump(content, ir, f"{gateway} {kind}, version {content['version_info']}")


def with_clusters_kept(new: dict, old: dict) -> dict:
    """The clusters of `new`, and those of `old` it drops: what a gateway runs while its listeners change
    (the old listeners still route to the old clusters, the new ones to the new)."""
    names = {r["name"] for r in new["resources"]}
    kept = [{k: v for k, v in r.items() if k != "@type"} for r in old["resources"] if r["name"] not in names]
    added = [{k: v for k, v in r.items() if k != "@type"} for r in new["resources"]]
    return resource_set("cds", sorted(added + kept, key=lambda r: r["name"]))


def gateway_files(config: GatewayConfig, index: Index) -> dict[str, str]:
    """The gateway's files, by path relative to the config dir."""
    name = config.gateway
    files = {f"{name}/bootstrap.yaml": dump(config.bootstrap, index.ir, name)}
    for kind, content in config.sets.items():
        files[f"{name}/{kind}/{kind}.yaml"] = set_text(index.ir, name, kind, content)
    return files


def dynamic_files(index: Index) -> dict[str, str]:
    """envoy/<gateway>/bootstrap.yaml, envoy/<gateway>/lds/lds.yaml and envoy/<gateway>/cds/cds.yaml."""
    return {f"envoy/{path}": text for config in gateway_configs(index)
            for path, text in gateway_files(config, index).items()}
