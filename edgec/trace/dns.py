"""DNS: the records edgec creates decide which gateway, if any, a name leads to."""

from __future__ import annotations

from dataclasses import dataclass, field

from edgec.ir.model import IR
from edgec.layers.aws.model import AwsRoute53Record, AwsRoute53Zone
from edgec.layers.cloudflare.model import CfDnsRecord
from edgec.spec.lookup import zone_of
from edgec.trace.walk import ADDRESS_TYPES, MAX_CNAME_CHAIN, Walk, find

# --- DNS ---------------------------------------------------------------------------------------

@dataclass
class _Resolution:
    """Where a name leads: a gateway's NLB, somewhere outside the spec, or nowhere."""

    lines: list[str] = field(default_factory=list)
    gateway: str | None = None
    proxied: bool = False
    outside: str | None = None  # an address or name that is not one of the spec's gateways


def walk_dns(walk: Walk) -> None:
    """The records edgec creates (host records and the spec's extra ones, as the IR has them) decide which
    gateway, if any, the name leads to."""
    spec, host = walk.spec, walk.request.host
    walk.zone = zone_of(spec, host)
    if walk.zone is None:
        declared = ", ".join(sorted(spec.zones)) or "none"
        walk.die("dns", f"{host} is in no declared zone (declared: {declared})", [])
        return
    details = [_zone_line(walk.ir, walk.zone, spec.zones[walk.zone].provider)]
    resolution = _resolve(walk.ir, host)
    details += resolution.lines
    if resolution.gateway is None:
        why = (f"{host} leads to {resolution.outside}, which is not a gateway of this spec" if resolution.outside
               else f"no A, AAAA or CNAME record for {host} in zone {walk.zone}: NXDOMAIN")
        walk.die("dns", why, details)
        return
    walk.gateway, walk.proxied = resolution.gateway, resolution.proxied
    walk.hop("dns", "pass", details)


def _zone_line(ir: IR, zone: str, provider: str) -> str:
    if provider == "cloudflare":
        return f"zone {zone}: Cloudflare (public)"
    route53 = find(ir, AwsRoute53Zone, zone=zone)
    if route53 and route53[0].private:
        return f"zone {zone}: Route 53, private (resolves only inside {', '.join(route53[0].vpc_ids) or 'its VPCs'})"
    return f"zone {zone}: Route 53 (public)"


def _records(ir: IR, name: str) -> list[CfDnsRecord | AwsRoute53Record]:
    """The address records of a name, or of the closest wildcard above it when it has none."""
    labels = name.split(".")
    for candidate in [name] + ["*." + ".".join(labels[i:]) for i in range(1, len(labels) - 1)]:
        found = [r for r in [*ir.of(CfDnsRecord), *ir.of(AwsRoute53Record)]
                 if r.fqdn == candidate and r.type in ADDRESS_TYPES]
        if found:
            return found
    return []


def _resolve(ir: IR, name: str) -> _Resolution:
    """Follow the spec's records from `name` to a gateway, through CNAMEs inside the spec."""
    resolution = _Resolution()
    for depth in range(MAX_CNAME_CHAIN):
        records = _records(ir, name)
        if not records:
            resolution.outside = name if depth else None
            return resolution
        resolution.lines += [_record_line(r) for r in records]
        resolution.proxied = resolution.proxied or any(isinstance(r, CfDnsRecord) and r.proxied for r in records)
        record = records[0]
        gateway = record.gateway if isinstance(record, CfDnsRecord) else record.alias_gateway
        if gateway is not None:
            resolution.gateway = gateway
            return resolution
        target = _record_target(record)
        if record.type != "CNAME":
            resolution.outside = target
            return resolution
        name = target
    resolution.outside = f"a CNAME chain longer than {MAX_CNAME_CHAIN}"
    return resolution


def _record_target(record: CfDnsRecord | AwsRoute53Record) -> str:
    if isinstance(record, CfDnsRecord):
        return (record.content or "").rstrip(".")
    return ", ".join(value.rstrip(".") for value in record.records)


def _record_line(record: CfDnsRecord | AwsRoute53Record) -> str:
    if isinstance(record, CfDnsRecord):
        target = f"the NLB of gateway '{record.gateway}'" if record.gateway else record.content
        how = "proxied by Cloudflare" if record.proxied else "DNS only"
        return f"{record.fqdn} {record.type} -> {target} ({how})"
    if record.alias_gateway:
        return f"{record.fqdn} {record.type} alias -> the NLB of gateway '{record.alias_gateway}'"
    return f"{record.fqdn} {record.type} -> {_record_target(record)} (ttl {record.ttl})"
