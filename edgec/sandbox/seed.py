"""Seed a fake Cloudflare with the live estate a spec implies (as if it had been applied, or, foreign, as
if it had been built without edgec: no `edgec:` marker in record comments or ruleset descriptions)."""

from __future__ import annotations

from edgec.ir.model import IR
from edgec.ir.ownership import unmarked
from edgec.layers.cloudflare.model import (
    CfDnsRecord,
    CfOriginPullCertificate,
    CfOriginPulls,
    CfRuleset,
    CfZoneSetting,
)
from edgec.sandbox.fake_cloudflare import FakeCloudflare
from edgec.spec.model import Spec


def seed_cloudflare(fake: FakeCloudflare, spec: Spec, desired: IR, nlb_dns_names: dict[str, str],
                    foreign: bool = False) -> dict[str, str]:
    """Every Cloudflare resource of `desired`, live in `fake`. Returns zone name -> zone ID."""
    def text(marked: str | None) -> str | None:  # a comment or description, as edgec or someone else wrote it
        return unmarked(spec.name, marked) if foreign else marked

    # In the spec's account, if it names one: edgec lists only that account's zones.
    account = {"account_id": spec.cloudflare.account_id} if spec.cloudflare.account_id else {}
    zones = {name: fake.add_zone(name, **account) for name, zone in sorted(spec.zones.items())
             if zone.provider == "cloudflare"}
    for resource in desired.resources:
        if isinstance(resource, CfDnsRecord):
            fields = _record_fields(resource, nlb_dns_names, text(resource.comment))
            fake.add_dns_record(zones[resource.zone], **fields)
        elif isinstance(resource, CfZoneSetting):
            fake.set_setting(zones[resource.zone], resource.setting_id, resource.value)
        elif isinstance(resource, CfRuleset):
            rules = [{k: v for k, v in (("ref", r.ref), ("description", r.description),
                                        ("expression", r.expression), ("action", r.action), ("enabled", r.enabled),
                                        ("action_parameters", r.action_parameters), ("ratelimit", r.ratelimit))
                      if v is not None} for r in resource.rules]
            fake.set_entrypoint_ruleset(zones[resource.zone], resource.phase, rules,
                                        description=text(resource.description) or "")
        elif isinstance(resource, CfOriginPulls):
            fake.set_origin_pulls(zones[resource.zone], resource.enabled)
        elif isinstance(resource, CfOriginPullCertificate):
            fake.add_client_certificate(zones[resource.zone], resource.pem)
    return zones


def _record_fields(record: CfDnsRecord, nlb_dns_names: dict[str, str], comment: str | None) -> dict:
    fields = {"name": record.fqdn, "type": record.type, "ttl": record.ttl, "proxied": record.proxied,
              "comment": comment}
    if record.gateway:
        fields["content"] = nlb_dns_names[record.gateway]
    elif record.content is not None:
        fields["content"] = record.content
    if record.priority is not None:
        fields["priority"] = record.priority
    if record.data:
        fields["data"] = dict(record.data)
    return fields
