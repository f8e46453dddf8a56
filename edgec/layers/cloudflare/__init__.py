"""The Cloudflare layer: DNS records (host records point at their gateway's NLB), WAF entry-point
rulesets, zone TLS settings, authenticated origin pulls, Origin CA certificates."""

from __future__ import annotations

from edgec.diff.plan import Change
from edgec.ir.model import IR, Resource
from edgec.layers.aws.model import AwsAcmCertificate
from edgec.layers.base import EmitOptions, Layer, LiveLayer, ReadContext
from edgec.layers.cloudflare.build import build_cloudflare
from edgec.layers.cloudflare.compare import compare_cloudflare
from edgec.layers.cloudflare.emit import cloudflare_files
from edgec.layers.cloudflare.imports import cloudflare_import_ids, existing_record, state_import_id
from edgec.spec.model import Spec


class CloudflareLayer(Layer):
    name, title, terraform = "cloudflare", "Cloudflare", True
    looks_up = frozenset({"aws_lb"})  # host records point at the gateways' NLBs, found by name
    # Origin CA certificates are not read (their key never leaves Cloudflare's answer to the create).
    compared_types = frozenset({"cloudflare_dns_record", "cloudflare_zone_setting", "cloudflare_ruleset",
                                "cloudflare_authenticated_origin_pulls_settings",
                                "cloudflare_authenticated_origin_pulls_certificate"})

    def build(self, spec: Spec) -> list[Resource]:
        return build_cloudflare(spec)

    def emit(self, ir: IR, options: EmitOptions = EmitOptions()) -> dict[str, str]:
        return cloudflare_files(ir)

    def read(self, ir: IR, context: ReadContext) -> LiveLayer:
        from edgec.layers.cloudflare.read import (  # brings the SDK
            cloudflare_client,
            read_cloudflare,
        )

        options = context.options
        client = cloudflare_client(context.calls, options.cloudflare_rate, options.max_retries, timeout=options.timeout)
        return read_cloudflare(ir, client)

    def compare(self, ir: IR, live: dict[str, LiveLayer]) -> list[Change]:
        return compare_cloudflare(ir, live)

    def import_ids(self, live: LiveLayer) -> dict[str, str]:
        return cloudflare_import_ids(live)

    def state_import_id(self, resource_type: str, values: dict) -> str | None:
        return state_import_id(resource_type, values)

    def existing(self, resource_type: str, values: dict, live: LiveLayer) -> str | None:
        return existing_record(resource_type, values, live)

    def terraform_inputs(self, ir: IR) -> dict[str, tuple[str, str]]:
        """The ACM validation records of names in Cloudflare zones, which the AWS layer outputs."""
        if any(c.validated_in_cloudflare for c in ir.of(AwsAcmCertificate)):
            return {"acm_validation_records": ("aws", "acm_validation_records")}
        return {}


LAYER = CloudflareLayer()
