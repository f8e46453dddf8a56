"""Authenticated origin pulls: the client certificates Cloudflare zones present, the gateways that
require them, and the rule that follows from Cloudflare's setting being per zone: every gateway that
checks client certificates for a zone's hosts must expect the same one."""

from __future__ import annotations

import os

from edgec.diagnostics import Path
from edgec.spec.checker import Checker
from edgec.spec.lookup import zone_of
from edgec.spec.model import OriginPullCertificate
from edgec.spec.pem import PemError, read_certificate

SHARED = "cloudflare-origin-pull-shared"


def check_origin_pulls(c: Checker) -> None:
    for name, cert in c.spec.certificates.items():
        if isinstance(cert, OriginPullCertificate):
            _check_client_certificate(c, ("certificates", name), cert)
    used = set()
    for name, gateway in c.spec.gateways.items():
        used.add(_check_gateway(c, ("gateways", name, "tls"), gateway.tls))
    for name, cert in c.spec.certificates.items():
        if isinstance(cert, OriginPullCertificate) and name not in used:
            c.warn(("certificates", name), f"no gateway names '{name}' in tls.origin_pull_certificate, so no "
                                           "zone presents it; name it or remove it")
    _check_zones_agree(c)


def _check_client_certificate(c: Checker, path: Path, cert: OriginPullCertificate) -> None:
    try:
        read_certificate(cert.certificate_file)
    except PemError as exc:
        c.error(path + ("certificate_file",), f"{exc}; give the PEM of the client certificate Cloudflare presents")
    if cert.key_file is not None and not os.path.isabs(cert.key_file):
        c.error(path + ("key_file",), "give the absolute path of the key where Terraform runs (e.g. "
                                      "/run/secrets/origin-pull.key); a key never sits beside the spec")
    if not os.path.isabs(cert.ca_file):
        c.error(path + ("ca_file",), "give the absolute path of the CA file on the gateway, as Envoy sees it")


def _check_gateway(c: Checker, path: Path, tls) -> str | None:
    """The origin-pull certificate the gateway uses, if it names a valid one."""
    name = tls.origin_pull_certificate
    if tls.client_auth == "cloudflare-origin-pull" and name is None:
        c.error(path + ("client_auth",), "needs origin_pull_certificate: a certificates entry with "
                                         "source: origin-pull, your own client certificate; to accept "
                                         "Cloudflare's certificate shared by all its customers instead, "
                                         f"write client_auth: {SHARED}")
    if name is None:
        return None
    if tls.client_auth != "cloudflare-origin-pull":
        c.error(path + ("origin_pull_certificate",), "is used only with client_auth: cloudflare-origin-pull; "
                                                     "set that, or remove this")
        return None
    if not c.reference(path + ("origin_pull_certificate",), "certificates", name, "certificate"):
        return None
    source = c.spec.certificates[name].source
    if source != "origin-pull":
        c.error(path + ("origin_pull_certificate",), f"'{name}' comes from {source}; name a certificates "
                                                     "entry with source: origin-pull")
        return None
    return name


def _expects(tls) -> str | None:
    """What a gateway expects Cloudflare to present: its own certificate's name, the shared one, or nothing."""
    if tls.client_auth == SHARED:
        return "Cloudflare's shared certificate"
    if tls.client_auth and tls.origin_pull_certificate:
        return f"certificate '{tls.origin_pull_certificate}'"
    return None


def _check_zones_agree(c: Checker) -> None:
    expected: dict[str, dict[str, str]] = {}  # zone -> gateway -> what it expects
    for _, ingress in c.ingresses():
        gateway = c.spec.gateways.get(ingress.gateway)
        zone = zone_of(c.spec, ingress.host)
        if gateway is None or zone is None or c.spec.zones[zone].provider != "cloudflare":
            continue
        if (what := _expects(gateway.tls)) is not None:
            expected.setdefault(zone, {})[ingress.gateway] = what
    for zone, gateways in sorted(expected.items()):
        if len(set(gateways.values())) < 2:
            continue
        for name, what in sorted(gateways.items()):
            others = "; ".join(f"'{g}' expects {w}" for g, w in sorted(gateways.items()) if w != what)
            c.error(("gateways", name, "tls", "client_auth"),
                    f"zone '{zone}' presents one client certificate to every gateway, and this one expects "
                    f"{what} while {others}; use the same on every gateway of the zone")
