"""The IDs the Cloudflare provider (v5) imports resources by, from what the reader found: a zone's ID
joined to the object's ("<zone_id>/<record_id>"; "zones/<zone_id>/<ruleset_id>" for rulesets; the zone
ID alone for its origin-pull setting). Origin CA certificates are not read, so not imported.

The ACM validation records are written with for_each, keyed by name, so no live record carries their
address: a planned one is found among the live records by name, type and content."""

from __future__ import annotations

from edgec.ir.model import Resource
from edgec.layers.base import LiveLayer
from edgec.layers.cloudflare.model import (
    CfDnsRecord,
    CfOriginPullCertificate,
    CfOriginPulls,
    CfRuleset,
    CfZoneSetting,
    record_content,
)


def cloudflare_import_ids(live: LiveLayer) -> dict[str, str]:
    ids = {}
    for resource in live.resources:
        found = _import_id(resource, live)
        if found is not None:
            ids[resource.address] = found
    return ids


def _import_id(r: Resource, live: LiveLayer) -> str | None:
    zone_id = live.facts.get(f"cloudflare_zone.{getattr(r, 'zone', '')}", {}).get("id")
    object_id = live.facts.get(r.address, {}).get("id")
    if zone_id is None:
        return None
    if isinstance(r, CfZoneSetting):
        return f"{zone_id}/{r.setting_id}"
    if isinstance(r, CfOriginPulls):
        return zone_id
    if object_id is None:
        return None
    if isinstance(r, CfRuleset):
        return f"zones/{zone_id}/{object_id}"
    if isinstance(r, (CfDnsRecord, CfOriginPullCertificate)):
        return f"{zone_id}/{object_id}"
    return None


def state_import_id(resource_type: str, values: dict) -> str | None:
    """The import ID of a resource in Terraform's state, from its values (as `_import_id` from the read)."""
    zone_id, object_id = values.get("zone_id"), values.get("id")
    if resource_type == "cloudflare_zone_setting":
        return f"{zone_id}/{values.get('setting_id')}"
    if resource_type == "cloudflare_authenticated_origin_pulls_settings":
        return zone_id
    if resource_type == "cloudflare_ruleset":
        return f"zones/{zone_id}/{object_id}"
    if resource_type in ("cloudflare_dns_record", "cloudflare_authenticated_origin_pulls_certificate"):
        return f"{zone_id}/{object_id}"
    return None


def existing_record(resource_type: str, values: dict, live: LiveLayer) -> str | None:
    """The live record a planned `cloudflare_dns_record` is, by name, type and content."""
    if resource_type != "cloudflare_dns_record" or not isinstance(values.get("name"), str):
        return None
    planned = CfDnsRecord("", (), "", values["name"].rstrip(".").lower(), str(values.get("type")), 1, False,
                          values.get("content"))
    return next((r.address for r in live.resources if isinstance(r, CfDnsRecord) and r.fqdn == planned.fqdn
                 and r.type == planned.type and record_content(r) == record_content(planned)), None)
