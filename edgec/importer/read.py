"""Read a whole live estate for `edgec import`, with the readers, credentials, endpoints and API
budget `edgec plan` uses: every Cloudflare zone of the account, the NLBs, security groups, Route 53
zones and ACM certificates of one VPC and region, and each gateway's Envoy configuration (a running
gateway's /config_dump, or a bootstrap file). List calls only, as plan makes."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import yaml

from edgec.diff.plan import PlanOptions
from edgec.ir.model import IR, AwsFacts, Estate, Resource, ZoneFacts
from edgec.layers.base import LiveLayer
from edgec.read.budget import ApiCalls, ReadError
from edgec.read.guard import guarded
from edgec.read.progress import SILENT, Progress
from edgec.spec.yaml_source import parse_yaml

LISTENERS_DUMP = "type.googleapis.com/envoy.admin.v3.ListenersConfigDump"
CLUSTERS_DUMP = "type.googleapis.com/envoy.admin.v3.ClustersConfigDump"
BOOTSTRAP_DUMP = "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump"
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class ImportOptions:
    read: PlanOptions = field(default_factory=PlanOptions)  # rate, timeout, retries; `layers` narrows
    zones: tuple[str, ...] = ()  # only these zones (and their records); default every zone
    region: str | None = None  # default: the AWS credential chain's region
    vpc_id: str | None = None  # default: the one VPC that holds network load balancers
    account: str | None = None  # Cloudflare account; default every zone the token can see
    envoy_admins: dict[str, str] = field(default_factory=dict)  # gateway -> admin URL
    envoy_configs: dict[str, str] = field(default_factory=dict)  # gateway -> bootstrap or config dump file


@dataclass
class EnvoyConfig:
    """One gateway's configuration: as a config dump (a bootstrap file is put in that shape)."""

    dump: dict
    source: str  # the file or URL, for the report
    sds_dir: str | None = None  # where the SDS files of a bootstrap file are, if beside it


@dataclass
class LiveEstate:
    region: str | None = None
    vpc_id: str | None = None
    aws: LiveLayer | None = None
    cloudflare: LiveLayer | None = None
    cloudflare_accounts: set[str] = field(default_factory=set)
    envoy: dict[str, EnvoyConfig] = field(default_factory=dict)
    calls: ApiCalls = field(default_factory=ApiCalls)


def read_estate(options: ImportOptions, progress: Progress = SILENT) -> LiveEstate:
    """Every layer asked for (all by default); a ReadError when a read fails."""
    estate = LiveEstate()
    readers = [(layer, title, reader) for layer, title, reader in (
        ("aws", "AWS", _read_aws), ("cloudflare", "Cloudflare", _read_cloudflare), ("envoy", "Envoy", _read_envoy))
        if options.read.wants(layer)]
    with ThreadPoolExecutor(max_workers=len(readers) or 1) as pool:  # as plan does: the layers at once
        futures = [pool.submit(_read_layer, estate, options, progress, *reader) for reader in readers]
        for future in futures:
            future.result()  # a ReadError of any layer stops the import
    return estate


def _read_layer(estate: LiveEstate, options: ImportOptions, progress: Progress, layer: str, title: str,
                reader: Callable[[LiveEstate, ImportOptions], None]) -> None:
    progress.started(title, lambda: estate.calls.counts[layer])
    try:
        guarded(title, lambda: reader(estate, options))
    except ReadError:
        progress.finished(title, failed=True)
        raise
    progress.finished(title, failed=False)


def _read_envoy(estate: LiveEstate, options: ImportOptions) -> None:
    from edgec.layers.envoy.read import read_config_dump

    for gateway, url in sorted(options.envoy_admins.items()):
        estate.calls.count("envoy")
        estate.envoy[gateway] = EnvoyConfig(read_config_dump(gateway, url, options.read.timeout), url)
    for gateway, path in sorted(options.envoy_configs.items()):
        estate.envoy[gateway] = read_envoy_file(gateway, path)


def _read_aws(estate: LiveEstate, options: ImportOptions) -> None:
    from edgec.layers.aws.read import aws_session, read_aws

    read = options.read
    session = aws_session(estate.calls, options.region, read.timeout, read.max_retries + 1)  # region None: the chain's
    estate.region = options.region or session.region_name
    if not estate.region:
        raise ReadError("AWS", "no region: give --region, or set AWS_REGION / AWS_DEFAULT_REGION")
    estate.vpc_id = options.vpc_id or _the_vpc(session)
    ir = IR(Estate("", {}, AwsFacts(estate.region, estate.vpc_id, ())), [])
    estate.aws = read_aws(ir, session, everything=True)


def _the_vpc(session) -> str:
    """The VPC of the region's network load balancers, when there is exactly one."""
    from edgec.layers.aws.read import ELB_PAGE_SIZE, _client, _pages

    found = _pages("AWS load balancers", _client(session, "elbv2"), "describe_load_balancers", "LoadBalancers",
                   PaginationConfig={"PageSize": ELB_PAGE_SIZE})
    vpcs = {lb.get("VpcId") for lb in found if isinstance(lb, dict) and lb.get("Type") == "network"} - {None}
    if len(vpcs) != 1:
        found = f"network load balancers in {len(vpcs)} VPCs ({', '.join(sorted(vpcs))})" if vpcs \
            else "no network load balancer"
        raise ReadError("AWS", f"{found}: name the VPC of the gateways with --vpc")
    return vpcs.pop()


def _read_cloudflare(estate: LiveEstate, options: ImportOptions) -> None:
    from edgec.layers.cloudflare.read import (
        account_zones,
        cloudflare_client,
        read_cloudflare,
    )

    read = options.read
    client = cloudflare_client(estate.calls, read.cloudflare_rate, read.max_retries, timeout=read.timeout)
    zones = account_zones(options.account, client)
    wanted = {name: zone_id for name, (zone_id, _) in zones.items() if not options.zones or name in options.zones}
    estate.cloudflare_accounts = {account for name, (_, account) in zones.items() if name in wanted and account}
    zone_facts = {name: ZoneFacts("cloudflare", False) for name in wanted}
    estate.cloudflare = read_cloudflare(IR(Estate("", zone_facts), []), client, zone_ids=wanted)


def read_envoy_file(gateway: str, path: str) -> EnvoyConfig:
    """A gateway's bootstrap (YAML or JSON, with static resources) or a saved /config_dump."""
    what = f"Envoy configuration of gateway {gateway} ({path})"
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        data = json.loads(text) if path.endswith(".json") else _yaml_data(text, path)
    except (OSError, ValueError) as exc:
        raise ReadError(what, str(exc).splitlines()[0]) from None
    if not isinstance(data, dict):
        raise ReadError(what, "it is not an Envoy bootstrap or config dump")
    if "configs" in data:
        return EnvoyConfig(data, path)
    static = data.get("static_resources") or {}
    dump = {"configs": [
        {"@type": BOOTSTRAP_DUMP, "bootstrap": data},
        {"@type": LISTENERS_DUMP, "static_listeners": [{"listener": item} for item in static.get("listeners", [])]},
        {"@type": CLUSTERS_DUMP, "static_clusters": [{"cluster": item} for item in static.get("clusters", [])]},
    ]}
    return EnvoyConfig(dump, path, os.path.join(os.path.dirname(path), "sds"))


def _yaml_data(text: str, path: str):
    """The document, through the spec's own YAML loader (a 10,000-host bootstrap is megabytes of YAML,
    which PyYAML's constructor takes seconds to build)."""
    parsed = parse_yaml(text, path)
    errors = [d for d in parsed.diagnostics if d.severity.value == "error"]
    if errors or parsed.data is None:
        raise ValueError(f"{errors[0].location}: {errors[0].message}" if errors else "it is empty")
    return parsed.data


def parse_envoy(gateway: str, config: EnvoyConfig) -> list[Resource]:
    from edgec.layers.envoy.read import parse_config_dump

    return parse_config_dump(gateway, config.dump)
