"""Generate a realistic edge estate of a given size, written as a multi-file spec like a multi-team repo.

The estate has N services and 10N hostnames (70% public, behind Cloudflare; 30% private, in Route 53
private zones), over one Cloudflare zone per 500 public hostnames and one private zone per 1,000
private ones. Each team (10 services, 100 hostnames) keeps its own file under teams/; the root file
holds the account, the network, the zones, both gateways, the certificates and each zone's WAF.
Hosts have 2, 3 or 4 routes (3 on average); there are extra records per zone and per team.

With --octodns, the estate's DNS records are also written as octoDNS zone files (a YamlProvider
config plus one file per zone), so octodns-validate can be timed on the same records.

Run: .venv/bin/python bench/estate.py --hosts 10000 -o /tmp/estate-10k [--octodns]
"""

from __future__ import annotations

import argparse
import math
import pathlib
import shutil
import sys

import yaml

HOSTS_PER_SERVICE = 10
SERVICES_PER_TEAM = 10
PUBLIC_SHARE = 0.7
PUBLIC_HOSTS_PER_ZONE = 500
PRIVATE_HOSTS_PER_ZONE = 1000
ROUTE_COUNTS = (2, 3, 4)  # cycled per host: 3 routes on average
ORIGIN_PULL_FILE = "certs/origin-pull.pem"  # the zones' client certificate, beside the spec
EXAMPLE_CLIENT_CERTIFICATE = pathlib.Path(__file__).parent.parent / "examples" / "public-api" / "certs" / "origin-pull.pem"
# A stand-in NLB DNS name for the octoDNS zone files (edgec points gateway hosts at the real one).
OCTODNS_NLB = {"public": "edgec-public-0a1b2c3d4e5f6a7b.elb.us-east-1.amazonaws.com.",
               "internal": "internal-edgec-internal-1a2b3c4d5e6f7a8b.elb.us-east-1.amazonaws.com."}


class Layout:
    """How an estate of `hosts` hostnames splits into teams, services and zones."""

    def __init__(self, hosts: int):
        self.services = max(1, hosts // HOSTS_PER_SERVICE)
        self.teams = math.ceil(self.services / SERVICES_PER_TEAM)
        public_hosts = round(hosts * PUBLIC_SHARE)
        self.public_zones = [f"shop{i:02d}.com" for i in range(max(1, math.ceil(public_hosts / PUBLIC_HOSTS_PER_ZONE)))]
        self.private_zones = [f"corp{i:02d}.internal"
                              for i in range(max(1, math.ceil((hosts - public_hosts) / PRIVATE_HOSTS_PER_ZONE)))]
        # Host i of the estate is public when it falls in the first 70 of each 100.
        self.hosts = hosts

    def team_of_service(self, service: int) -> int:
        return service // SERVICES_PER_TEAM

    def host(self, i: int) -> tuple[str, str, int]:
        """Hostname, gateway and owning service of host number `i`."""
        service = i // HOSTS_PER_SERVICE
        public = i % 100 < round(100 * PUBLIC_SHARE)
        zones = self.public_zones if public else self.private_zones
        zone = zones[(i // 100) % len(zones)]
        return f"{service_name(service)}-{i % HOSTS_PER_SERVICE}.{zone}", "public" if public else "internal", service


def team_name(team: int) -> str:
    return f"team-{team:04d}"


def service_name(service: int) -> str:
    return f"svc-{service:05d}"


def root_spec(layout: Layout) -> dict:
    public, private = layout.public_zones, layout.private_zones
    zones = {zone: {"provider": "cloudflare", "owner": "platform-team",
                    "tls": {"mode": "strict", "min_version": "1.2", "always_use_https": True, "tls_1_3": True,
                            "hsts": {"enabled": True, "max_age": 31536000, "include_subdomains": True}}}
             for zone in public}
    zones.update({zone: {"provider": "route53", "private": True, "owner": "platform-team"} for zone in private})
    return {
        "apiVersion": "edgec/v1",
        "name": f"estate-{layout.hosts}",
        "metadata": {"owner": "platform-team", "description": f"A generated estate of {layout.hosts} hostnames"},
        "include": ["teams/*.yaml"],
        "cloudflare": {"account_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"},
        "aws": {"region": "us-east-1", "vpc_id": "vpc-0e57a7e0000000001",
                "subnets": {"public": [f"subnet-0a0000000000000{i}" for i in (1, 2, 3)],
                            "private": [f"subnet-0b0000000000000{i}" for i in (1, 2, 3)]},
                "tags": {"managed-by": "edgec", "cost-center": "edge"}},
        "zones": zones,
        "certificates": {
            "public-origin": {"source": "cloudflare-origin-ca",
                              "domains": [name for zone in public for name in (zone, f"*.{zone}")]},
            "internal": {"source": "files", "domains": [f"*.{zone}" for zone in private],
                         "cert_file": "/etc/envoy/certs/internal.crt", "key_file": "/etc/envoy/certs/internal.key"},
            "origin-pull": {"source": "origin-pull", "certificate_file": ORIGIN_PULL_FILE,
                            "key_secret": "edge/origin-pull-key", "ca_file": "/etc/envoy/certs/origin-pull-ca.pem"},
        },
        "gateways": {
            "public": {"exposure": "public", "owner": "platform-team", "ports": {"https": 443, "http": 80},
                       "tls": {"certificate": "public-origin", "client_auth": "cloudflare-origin-pull",
                               "origin_pull_certificate": "origin-pull"}},
            "internal": {"exposure": "private", "owner": "platform-team", "ports": {"https": 443},
                         "tls": {"certificate": "internal"}, "allow": ["10.0.0.0/8", "100.64.0.0/10"]},
        },
        "waf": {zone: zone_waf(layout, zone) for zone in public},
        "dns": {zone: zone_records(zone) for zone in public + private},
    }


def zone_waf(layout: Layout, zone: str) -> dict:
    hooks = [name for name, _, _ in (layout.host(i) for i in range(layout.hosts)) if name.endswith(f"-0.{zone}")][:40]
    hosts = " ".join(f'"{name}"' for name in hooks) or f'"hooks.{zone}"'
    return {
        "managed": [{"ruleset": "cloudflare-managed", "categories": [{"category": "wordpress", "enabled": False}]},
                    {"ruleset": "owasp-core", "paranoia_level": "PL2", "score_threshold": 40,
                     "action": "managed_challenge"}],
        "custom": [
            {"name": "allow-partner-webhooks", "action": "skip",
             "expression": f"http.host in {{{hosts}}} and ip.src in {{198.51.100.0/24 203.0.113.32/27}}",
             "skip": {"rest_of_ruleset": True, "phases": ["http_ratelimit"]}},
            {"name": "block-internal-paths", "action": "block",
             "expression": 'starts_with(http.request.uri.path, "/admin") or starts_with(http.request.uri.path, '
                           '"/internal") or http.request.uri.path eq "/metrics"'},
            {"name": "block-embargoed-countries", "action": "block",
             "expression": 'ip.geoip.country in {"KP" "IR" "SY" "CU"}'},
            {"name": "challenge-bad-bots", "action": "managed_challenge",
             "expression": 'http.request.uri.path contains "/checkout" and cf.bot_management.score lt 30'},
            {"name": "log-debug-header", "action": "log",
             "expression": 'any(http.request.headers.names[*] eq "x-debug")'},
        ],
        "rate_limits": [
            {"name": "login", "requests": 10, "period": 60, "mitigation_timeout": 600, "action": "block",
             "expression": 'http.request.method eq "POST" and http.request.uri.path in {"/login" "/signup"}'},
            {"name": "api-burst", "requests": 1500, "period": 10, "action": "managed_challenge",
             "expression": 'starts_with(http.request.uri.path, "/v1/")'},
        ],
    }


def zone_records(zone: str) -> list[dict]:
    if zone.endswith(".internal"):
        return [{"name": "@", "type": "TXT", "content": f"edgec-estate {zone}"},
                {"name": "ldap", "type": "A", "content": "10.20.0.10", "ttl": 300}]
    return [{"name": "@", "type": "MX", "content": "mx1.mail.example.net", "priority": 10, "ttl": 3600},
            {"name": "@", "type": "MX", "content": "mx2.mail.example.net", "priority": 20, "ttl": 3600},
            {"name": "@", "type": "TXT", "content": "v=spf1 include:_spf.mail.example.net -all", "ttl": 3600},
            {"name": "@", "type": "CAA", "content": '0 issue "letsencrypt.org"', "ttl": 3600},
            {"name": "status", "type": "CNAME", "content": "stats.uptime.example.net", "proxied": True}]


def team_spec(layout: Layout, team: int) -> dict:
    first, last = team * SERVICES_PER_TEAM, min(layout.services, (team + 1) * SERVICES_PER_TEAM)
    owner = team_name(team)
    services = {service_name(s): service(s, owner) for s in range(first, last)}
    ingresses, records = [], {}
    for i in range(first * HOSTS_PER_SERVICE, min(layout.hosts, last * HOSTS_PER_SERVICE)):
        host, gateway, svc = layout.host(i)
        sibling = first + (svc - first + 1) % (last - first)
        ingresses.append({"host": host, "gateway": gateway, "owner": owner,
                          "routes": routes(i, service_name(svc), service_name(sibling))})
    public_zone = layout.public_zones[team % len(layout.public_zones)]
    private_zone = layout.private_zones[team % len(layout.private_zones)]
    records[public_zone] = [
        {"name": f"_verify-{owner}", "type": "TXT", "content": f"verification={owner}-{team * 7919 % 100000:05d}"},
        {"name": f"docs-{owner}", "type": "CNAME", "content": f"{owner}.docs-host.example.net", "proxied": True}]
    records[private_zone] = [{"name": f"db-{owner}", "type": "A", "content": f"10.{30 + team // 250}.{team % 250}.5",
                              "ttl": 300}]
    return {"services": services, "ingresses": ingresses, "dns": records}


def service(s: int, owner: str) -> dict:
    spec = {"endpoints": [f"{service_name(s)}.{owner}.svc.cluster.local:8080"], "owner": owner,
            "timeout": ("3s", "10s", "30s")[s % 3], "health_check": {"path": "/healthz", "interval": "5s"}}
    if s % 2 == 0:
        spec["retries"] = {"attempts": 2, "on": ["connect-failure", "refused-stream"], "per_try_timeout": "500ms"}
    if s % 5 == 0:
        spec["protocol"] = "http2"
    if s % 4 == 0:
        spec["circuit_breaker"] = {"max_connections": 1024, "max_requests": 2048}
        spec["outlier_detection"] = {"consecutive_5xx": 5, "base_ejection_time": "30s"}
    return spec


def routes(i: int, svc: str, sibling: str) -> list[dict]:
    count = ROUTE_COUNTS[i % len(ROUTE_COUNTS)]
    chosen = [{"name": "health", "exact": "/healthz", "service": svc, "timeout": "2s"}]
    if count >= 3:
        chosen.append({"name": "v1", "path": "/v1", "service": sibling, "timeout": "5s",
                       "rate_limit": {"requests": 500, "per": "1s"}} if i % 2 else
                      {"name": "v1", "path": "/v1", "service": sibling, "methods": ["GET", "POST"]})
    if count >= 4:
        chosen.append({"name": "items", "regex": "^/v2/items/[0-9]+$", "methods": ["GET"], "service": svc})
    chosen.append({"name": "root", "path": "/", "service": svc})
    return chosen


def write_estate(hosts: int, out: pathlib.Path) -> Layout:
    """Write the estate's spec under `out` (edge.yaml, teams/*.yaml and the client certificate)."""
    layout = Layout(hosts)
    (out / "teams").mkdir(parents=True, exist_ok=True)
    (out / ORIGIN_PULL_FILE).parent.mkdir(exist_ok=True)
    shutil.copy(EXAMPLE_CLIENT_CERTIFICATE, out / ORIGIN_PULL_FILE)
    _dump(out / "edge.yaml", root_spec(layout), "Generated by bench/estate.py: a multi-team estate.")
    for team in range(layout.teams):
        _dump(out / "teams" / f"{team_name(team)}.yaml", team_spec(layout, team), f"Team {team_name(team)}.")
    return layout


def write_octodns(spec_dir: pathlib.Path, out: pathlib.Path) -> int:
    """The estate's DNS records (as edgec would create them) as octoDNS zone files; returns the record count."""
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
    from edgec.layers.aws.model import AwsRoute53Record
    from edgec.layers.cloudflare.model import CfDnsRecord
    from edgec.spec.validate import validate

    result = validate(str(spec_dir))
    if not result.ok:
        raise SystemExit(f"{spec_dir}: the estate does not validate")
    zones: dict[str, dict[str, list]] = {name: {} for name in result.spec.zones}
    count = 0
    for record in [*result.ir.of(CfDnsRecord), *result.ir.of(AwsRoute53Record)]:
        name = "" if record.fqdn == record.zone else record.fqdn[: -len(record.zone) - 1]
        zones[record.zone].setdefault(name, []).append(_octodns_record(record))
        count += 1
    (out / "zones").mkdir(parents=True, exist_ok=True)
    for zone, records in zones.items():
        merged = {name: _merge(values) for name, values in sorted(records.items())}
        (out / "zones" / f"{zone}.yaml").write_text(yaml.dump(merged, Dumper=_dumper(), sort_keys=False))
    config = {"providers": {"config": {"class": "octodns.provider.yaml.YamlProvider", "directory": "./zones",
                                       "enforce_order": False}},
              "zones": {f"{zone}.": {"sources": ["config"], "targets": ["config"]} for zone in sorted(zones)}}
    (out / "config.yaml").write_text(yaml.dump(config, Dumper=_dumper(), sort_keys=False))
    return count


def _octodns_record(record) -> dict:
    """One edgec record as an octoDNS record of one value."""
    from edgec.layers.cloudflare.model import CfDnsRecord

    ttl = 300 if record.ttl in (1, None) else record.ttl  # automatic, or a Route 53 alias
    gateway = record.gateway if isinstance(record, CfDnsRecord) else record.alias_gateway
    if gateway:
        return {"type": "CNAME", "ttl": ttl, "value": OCTODNS_NLB[gateway]}
    content = record.content if isinstance(record, CfDnsRecord) else record.records[0]
    if record.type == "MX":
        return {"type": "MX", "ttl": ttl, "value": {"preference": record.priority, "exchange": f"{content}."}}
    if record.type == "CAA":  # Cloudflare keeps CAA as structured data
        data = dict(record.data) if content is None else dict(zip(("flags", "tag", "value"), content.split(" ", 2)))
        return {"type": "CAA", "ttl": ttl, "value": {"flags": int(data["flags"]), "tag": data["tag"],
                                                     "value": data["value"].strip('"')}}
    if record.type == "CNAME":
        return {"type": "CNAME", "ttl": ttl, "value": f"{content}."}
    if record.type == "TXT":
        return {"type": "TXT", "ttl": ttl, "value": content.strip('"').replace(";", "\\;")}
    return {"type": record.type, "ttl": ttl, "value": content}


def _merge(values: list[dict]) -> dict | list[dict]:
    """octoDNS keeps one entry per (name, type), with `values` when there are several."""
    by_type: dict[str, dict] = {}
    for value in values:
        entry = by_type.setdefault(value["type"], {"type": value["type"], "ttl": value["ttl"], "values": []})
        entry["values"].append(value["value"])
    merged = []
    for entry in by_type.values():
        if len(entry["values"]) == 1:
            entry["value"] = entry.pop("values")[0]
        merged.append(entry)
    return merged[0] if len(merged) == 1 else merged


def _dumper():
    try:
        return yaml.CSafeDumper
    except AttributeError:
        return yaml.SafeDumper


def _dump(path: pathlib.Path, data: dict, comment: str) -> None:
    path.write_text(f"# {comment}\n" + yaml.dump(data, Dumper=_dumper(), sort_keys=False, width=120))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10000, help="hostnames in the estate (services: a tenth)")
    parser.add_argument("-o", "--output", type=pathlib.Path, required=True, help="folder to write the spec into")
    parser.add_argument("--octodns", type=pathlib.Path, metavar="DIR",
                        help="also write the estate's DNS records as octoDNS zone files into DIR")
    args = parser.parse_args()
    layout = write_estate(args.hosts, args.output)
    print(f"wrote {args.output}: {args.hosts} hostnames, {layout.services} services, {layout.teams} team files, "
          f"{len(layout.public_zones)} Cloudflare and {len(layout.private_zones)} Route 53 zones")
    if args.octodns:
        count = write_octodns(args.output, args.octodns)
        print(f"wrote {args.octodns}: {count} records as octoDNS zone files")


if __name__ == "__main__":
    main()
