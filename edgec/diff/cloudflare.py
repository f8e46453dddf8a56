"""Diff the Cloudflare layer: DNS records, zone settings, entry-point rulesets, origin pulls.

Both sides are normalised first, so cosmetic differences never show: names are lower case without a
trailing dot, proxied records have TTL 1 (automatic), CNAME and MX targets compare without a
trailing dot or case, rules compare by their `ref`, unset optional values equal their defaults.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from edgec.diff.plan import UNMANAGED_NOTE, Change, attribute_changes, compare_keyed
from edgec.ir.model import IR, CfDnsRecord, CfOriginPulls, CfRuleset, CfZoneSetting, WafRule
from edgec.ir.build import is_owned
from edgec.spec.model import Spec

LAYER = "cloudflare"


def diff_cloudflare(spec: Spec, desired: IR, live: IR, nlb_dns_names: dict[str, str] | None = None) -> list[Change]:
    """`nlb_dns_names` (gateway -> its NLB's DNS name, from the AWS layer) lets host records' targets be
    compared; without it, only their type, proxying and TTL are."""
    changes = _diff_records(spec, _of(desired, CfDnsRecord), _of(live, CfDnsRecord), nlb_dns_names or {})
    never = lambda _: False  # noqa: E731 (settings and origin pulls are never edgec's to delete)
    changes += _keyed(desired, live, CfZoneSetting, "zone_setting", lambda s: f"{s.zone} {s.setting_id}",
                      _setting_attributes, never)
    changes += _keyed(desired, live, CfRuleset, "ruleset", lambda r: f"{r.zone} {r.phase}", _ruleset_attributes,
                      lambda r: is_owned(spec, r.description))
    changes += _keyed(desired, live, CfOriginPulls, "origin_pulls", lambda p: p.zone,
                      lambda p: {"enabled": p.enabled}, never)
    return changes


def _of(resources: IR, kind: type) -> list:
    return [r for r in resources if isinstance(r, kind)]


def _keyed(desired: IR, live: IR, kind: type, label: str, identity, view, is_owned) -> list[Change]:
    return compare_keyed(LAYER, label, {identity(r): r for r in _of(desired, kind)},
                         {identity(r): r for r in _of(live, kind)}, view, is_owned)


# --- DNS records -------------------------------------------------------------------------------

def _target(value: str | None) -> str | None:
    return value.rstrip(".").lower() if value else value


def _record_attributes(record: CfDnsRecord, nlb_dns_names: dict[str, str]) -> dict[str, Any]:
    content = nlb_dns_names.get(record.gateway) if record.gateway else record.content
    if record.type in ("CNAME", "MX"):
        content = _target(content)
    attributes = {"proxied": record.proxied, "ttl": 1 if record.proxied else record.ttl,
                  # SRV carries its priority inside `data`; the API echoes it at the top level too
                  "priority": record.priority if record.type == "MX" else None,
                  "data": dict(record.data) if record.data else None,
                  "comment": record.comment or None}
    if content is not None or not record.gateway:
        attributes["content"] = content
    return attributes


def _diff_records(spec: Spec, desired: list[CfDnsRecord], live: list[CfDnsRecord],
                  nlb_dns_names: dict[str, str]) -> list[Change]:
    """Records pair up by (zone, name, type); where several share one, by content."""
    groups: dict[tuple, tuple[list, list]] = defaultdict(lambda: ([], []))
    for record in desired:
        groups[(record.zone, record.fqdn, record.type)][0].append(record)
    for record in live:
        groups[(record.zone, record.fqdn, record.type)][1].append(record)
    changes = []
    for (zone, fqdn, rtype), (wanted, found) in sorted(groups.items()):
        key = f"{fqdn} {rtype}"
        for want, have in _pair(wanted, found, nlb_dns_names):
            if have is None:
                changes.append(Change("create", LAYER, "dns_record", key, fqdn,
                                      attribute_changes(_record_attributes(want, nlb_dns_names), {})))
            elif want is None:
                action = "delete" if is_owned(spec, have.comment) else "unmanaged"
                note = None if action == "delete" else UNMANAGED_NOTE
                changes.append(Change(action, LAYER, "dns_record", key, fqdn,
                                      attribute_changes({}, _record_attributes(have, {})), note))
            else:
                diff = attribute_changes(_record_attributes(want, nlb_dns_names),
                                          _record_attributes(have, {}), only=_record_attributes(want, nlb_dns_names))
                if diff:
                    changes.append(Change("update", LAYER, "dns_record", key, fqdn, diff))
    return changes


def _pair(wanted: list, found: list, nlb_dns_names: dict[str, str]) -> list[tuple]:
    if len(wanted) <= 1 and len(found) <= 1:
        return [(wanted[0] if wanted else None, found[0] if found else None)]
    remaining = list(found)
    pairs = []
    for want in wanted:
        content = _record_attributes(want, nlb_dns_names).get("content")
        match = next((r for r in remaining if _record_attributes(r, {}).get("content") == content), None)
        if match is not None:
            remaining.remove(match)
        pairs.append((want, match))
    return pairs + [(None, r) for r in remaining]


# --- settings, rulesets, origin pulls ------------------------------------------------------------

def _setting_attributes(setting: CfZoneSetting) -> dict[str, Any]:
    return {"value": setting.value}


def _rule_view(rule: WafRule) -> dict[str, Any]:
    return {"description": rule.description, "expression": " ".join(rule.expression.split()),
            "action": rule.action, "enabled": rule.enabled, "action_parameters": rule.action_parameters or None,
            "ratelimit": rule.ratelimit or None}


def _ruleset_attributes(ruleset: CfRuleset) -> dict[str, Any]:
    return {f"rules[{rule.ref}]": _rule_view(rule) for rule in ruleset.rules} | {
        "rule order": [rule.ref for rule in ruleset.rules]}
