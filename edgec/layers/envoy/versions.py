"""Compare a running gateway by version first: the versions of its dynamic config are digests of the resource
sets (edgec/layers/envoy/dynamic.py), so a gateway that reports the versions the spec compiles to runs exactly
that content, and one small admin call (`/config_dump?mask=version_info`) settles it. Only when they differ
(or the gateway runs a static bootstrap, which has no versions) is the whole config dump read and compared
by content.

The digests cover every path in the files, which hang from the gateway's config dir: the spec is compiled
for the config dir the gateway's Envoy uses (`--envoy-config-dir`), else versions never match and every
read is by content (still right, only slower).
"""

from __future__ import annotations

from edgec.diff.plan import PlanOptions, Running
from edgec.ir.model import IR, Resource
from edgec.layers.envoy.compare import COMPARED
from edgec.layers.envoy.dynamic import gateway_config
from edgec.layers.envoy.emit import Index, gateways
from edgec.layers.envoy.model import ENVOY_DIR


def config_dir(options: PlanOptions, gateway: str) -> str:
    return options.envoy_config_dirs.get(gateway) or options.envoy_config_dir or ENVOY_DIR


def compiled_versions(ir: IR, gateway: str, directory: str) -> dict[str, str]:
    """lds and cds: the versions the spec compiles to for `gateway`, its files hanging from `directory`."""
    found = next(g for g in gateways(ir) if g.gateway == gateway)
    sets = gateway_config(Index(ir, directory), found).sets
    return {kind: sets[kind]["version_info"] for kind in ("lds", "cds")}


def running(gateway: str, reported: dict[str, str], desired: dict[str, str]) -> Running:
    """What the gateway reports, and whether that proves it runs the compiled config."""
    versions = {kind: reported[kind] for kind in ("lds", "cds") if reported.get(kind)}
    same = versions == desired
    return Running("envoy", f"Envoy gateway {gateway}", versions, desired, "version" if same else "content")


def as_compiled(ir: IR, gateway: str) -> list[Resource]:
    """The gateway's live state when it runs the compiled versions: the very resources they were compiled
    from (equal digests, equal content), so the comparison finds nothing, as a full read would."""
    return [r for r in ir.resources if isinstance(r, COMPARED) and r.gateway == gateway]
