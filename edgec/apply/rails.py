"""Safety rails: changes Terraform would happily make that take an edge down. Each is refused unless
`edgec apply --force`; the reasons are in docs/apply.md."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from edgec.apply.crosscheck import EdgecView, plan_mismatches
from edgec.apply.tfplan import DNS_TYPES, LayerPlan, ResourceChange
from edgec.ir.names import slug
from edgec.spec.lookup import zone_among
from edgec.spec.model import ApplyLimits, Spec

ADDRESS_TYPES = frozenset({"A", "AAAA", "CNAME"})
CERTIFICATE_TYPES = frozenset({"aws_acm_certificate", "cloudflare_origin_ca_certificate"})
SHOWN_HOSTS = 5


@dataclass(frozen=True)
class Refusal:
    rail: str  # change-share | dns-loss | nlb-replace | certificate | apex-ns | plan-mismatch
    message: str


class Groups:
    """Which zone or gateway each Terraform resource belongs to: DNS by name, the rest by the stable
    prefix of its Terraform name (`public_https_...` is gateway `public`, `acme_com_custom` zone acme.com)."""

    def __init__(self, spec: Spec, plans: list[LayerPlan]):
        self.spec = spec
        self.zones = set(spec.zones)
        prefixes = {slug(zone): ("zone", zone) for zone in spec.zones}
        prefixes.update({slug(gateway): ("gateway", gateway) for gateway in spec.gateways})
        for r in (r for plan in plans for r in plan.resources):
            if r.type == "aws_route53_zone" and r.fqdn:  # zones the spec no longer names
                self.zones.add(r.fqdn)
                prefixes.setdefault(slug(r.fqdn), ("zone", r.fqdn))
            if r.type == "aws_lb":  # gateways the spec no longer names
                prefixes.setdefault(r.name, ("gateway", r.name))
        self.prefixes = sorted(prefixes.items(), key=lambda item: -len(item[0]))

    def zone_of(self, name: str) -> str | None:
        return zone_among(self.zones, name)

    def of(self, r: ResourceChange) -> tuple[str, str] | None:
        """('zone', 'acme.com'), ('gateway', 'public') or None (certificates and the like)."""
        if r.type in DNS_TYPES or r.type == "aws_route53_zone":
            zone = self.zone_of(r.fqdn or "")
            return ("zone", zone) if zone else None
        return next((group for prefix, group in self.prefixes
                     if r.name == prefix or r.name.startswith(prefix + "_")), None)

    def limits(self, group: tuple[str, str]) -> ApplyLimits:
        kind, name = group
        element = (self.spec.zones if kind == "zone" else self.spec.gateways).get(name)
        return element.apply_limits if element is not None else ApplyLimits()

    def is_private_zone(self, zone: str | None) -> bool:
        return zone in self.spec.zones and self.spec.zones[zone].private

    def hosts_of(self, r: ResourceChange) -> list[str]:
        """The hostnames a change affects: a record's own name, a gateway's or zone's hosts, a
        certificate's names."""
        if r.type in DNS_TYPES:
            return [r.fqdn] if r.fqdn else []
        if r.type in CERTIFICATE_TYPES:
            return certificate_names(r)
        group = self.of(r)
        if group is None:
            return []
        kind, name = group
        return sorted({i.host for i in self.spec.ingresses
                       if (i.gateway if kind == "gateway" else self.zone_of(i.host)) == name})


def certificate_names(r: ResourceChange) -> list[str]:
    values = r.values
    names = [values.get("domain_name")] + list(values.get("subject_alternative_names") or [])
    return sorted({n for n in names + list(values.get("hostnames") or []) if n})


def covers(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        return host.count(".") == pattern.count(".") and host.endswith(pattern[1:])
    return host == pattern


def shown(hosts: list[str]) -> str:
    more = len(hosts) - SHOWN_HOSTS
    return ", ".join(hosts[:SHOWN_HOSTS]) + (f" (+{more} more)" if more > 0 else "")


def check_rails(spec: Spec, plans: list[LayerPlan], view: EdgecView) -> list[Refusal]:
    """`view`: what edgec's own plan saw, which Terraform's must agree with."""
    groups = Groups(spec, plans)
    resources = [r for plan in plans for r in plan.resources]
    return (_change_share(groups, resources) + _dns_loss(groups, resources) + _nlb_replaced(groups, resources)
            + _certificates(spec, resources) + _apex_and_ns(groups, resources)
            + [Refusal("plan-mismatch", message) for message in plan_mismatches(view, resources)])


def _change_share(groups: Groups, resources: list[ResourceChange]) -> list[Refusal]:
    """Creates, updates, deletes and replacements against what the group owns (its resources in Terraform's
    state): a group that owns nothing yet (a first apply) is below any threshold. Imports are neither:
    the state does not hold them yet, and importing changes nothing."""
    owned, changed, created = Counter(), Counter(), Counter()
    for r in resources:
        group = groups.of(r)
        if group is None or r.importing is not None:
            continue
        owned[group] += r.existed
        changed[group] += r.action in ("update", "delete", "replace")
        created[group] += r.action == "create"
    refusals = []
    for group, count in sorted(owned.items()):
        limits = groups.limits(group)
        share = changed[group] + created[group]
        if count and count >= limits.min_resources and share * 100 > limits.max_change_percent * count:
            kind, name = group
            setting = f"{'zones' if kind == 'zone' else 'gateways'}.{name}.apply_limits.max_change_percent"
            also = f" and {created[group]} created" if created[group] else ""
            refusals.append(Refusal("change-share", (
                f"{kind} {name}: {changed[group]} of its {count} owned resources would be updated or deleted{also} "
                f"({share * 100 // count}%, more than {limits.max_change_percent}%); if that is "
                f"intended, use --force, or raise {setting}")))
    return refusals


def _dns_loss(groups: Groups, resources: list[ResourceChange]) -> list[Refusal]:
    created = {r.fqdn for r in resources if r.type in DNS_TYPES and r.action in ("create", "replace")
               and r.values.get("type") in ADDRESS_TYPES}
    lost = sorted({r.fqdn for r in resources if r.type in DNS_TYPES and r.action == "delete"
                   and r.values.get("type") in ADDRESS_TYPES and r.fqdn not in created
                   and not groups.is_private_zone(groups.zone_of(r.fqdn or ""))})
    return [Refusal("dns-loss", f"public hostname {host} would lose its DNS record (its last address record "
                                "is deleted); use --force if it is meant to go offline") for host in lost]


def _nlb_replaced(groups: Groups, resources: list[ResourceChange]) -> list[Refusal]:
    refusals = []
    for r in resources:
        if r.type != "aws_lb" or "delete" not in r.actions:
            continue
        what = "replaced (its DNS name changes)" if r.action == "replace" else "destroyed"
        hosts = groups.hosts_of(r)
        refusals.append(Refusal("nlb-replace", (
            f"load balancer {r.values.get('name') or r.address} ({r.address}) would be {what}; "
            f"{r.before.get('dns_name', 'its DNS name') if r.before else 'its DNS name'} stops answering for "
            f"{shown(hosts) if hosts else 'every host on it'}; use --force once DNS can follow")))
    return refusals


def _certificates(spec: Spec, resources: list[ResourceChange]) -> list[Refusal]:
    live = {i.host for i in spec.ingresses} | {r.fqdn for r in resources
                                              if r.type in DNS_TYPES and r.existed and r.fqdn}
    refusals = []
    for r in resources:
        if r.type not in CERTIFICATE_TYPES or not r.existed or not r.destroys_first:
            continue
        covered = sorted(h for h in live if any(covers(name, h) for name in certificate_names(r)))
        if covered:
            refusals.append(Refusal("certificate", (
                f"certificate {r.address} would be destroyed before a replacement exists, while it covers "
                f"{shown(covered)}; use --force if those hosts have another certificate")))
    return refusals


def _apex_and_ns(groups: Groups, resources: list[ResourceChange]) -> list[Refusal]:
    refusals = []
    for r in resources:
        if r.action not in ("create", "update", "delete", "replace"):
            continue
        if r.type == "aws_route53_zone" and "delete" in r.actions:
            refusals.append(Refusal("apex-ns", f"zone {r.fqdn} would be {_past(r.action)}, with its NS delegation; "
                                               "use --force if that is intended"))
        elif r.type in DNS_TYPES and (r.values.get("type") == "NS" or (
                r.existed and r.fqdn is not None and r.fqdn == groups.zone_of(r.fqdn))):
            kind = "NS record" if r.values.get("type") == "NS" else f"apex {r.values.get('type')} record"
            refusals.append(Refusal("apex-ns", f"{kind} {r.fqdn} would be {_past(r.action)}; apex and NS changes "
                                               "can take a whole zone offline; use --force if intended"))
    return refusals


def _past(action: str) -> str:
    return {"create": "created", "update": "updated", "delete": "deleted", "replace": "replaced"}[action]
