"""Lookups over a spec that checks, the IR and emitters share: zones, record names, certificates."""

from __future__ import annotations

import ipaddress

from edgec.spec.model import Gateway, ServedCertificate, Spec

# The largest RE2 program the generated gateways accept (Envoy's default of 100 refuses ordinary
# patterns such as [a-z0-9-]{36} or \pL); the validator refuses larger ones up front.
RE2_MAX_PROGRAM_SIZE = 5000


def zone_of(spec: Spec, host: str) -> str | None:
    """The most specific declared zone containing `host` (a.b.acme.com -> b.acme.com -> acme.com)."""
    return zone_among(spec.zones, host)


def zone_among(zones, host: str) -> str | None:
    """The most specific of `zones` (names) containing `host`, or None."""
    labels = host.removeprefix("*.").split(".")
    for i in range(len(labels) - 1):
        candidate = ".".join(labels[i:])
        if candidate in zones:
            return candidate
    return None


def inside_any(cidr: str, outer: list[str]) -> bool:
    """Is `cidr` inside one of the `outer` blocks (of the same IP version)?"""
    network = ipaddress.ip_network(cidr)
    return any(network.version == block.version and network.subnet_of(block)
               for block in map(ipaddress.ip_network, outer))


def record_fqdn(name: str, zone: str) -> str:
    """'@' -> zone; 'www' -> www.zone; a name already ending in the zone stays as it is."""
    if name == "@" or name == zone:
        return zone
    return name if name.endswith("." + zone) else f"{name}.{zone}"


def _wildcard_covers(domains: list[str], host: str) -> bool:
    """A wildcard certificate name covers exactly one label: *.acme.com covers api.acme.com."""
    parent = host.split(".", 1)[1] if "." in host else ""
    return f"*.{parent}" in domains and not host.startswith("*.")


def gateway_certificates(gateway: Gateway) -> list[str]:
    """The gateway's certificate names: the default first, then the SNI ones."""
    default = [gateway.tls.certificate] if gateway.tls.certificate else []
    return default + [name for name in gateway.tls.sni_certificates if name not in default]


def served_certificates(spec: Spec, gateway: Gateway) -> list[str]:
    """The gateway's certificates that exist and can be served (not client certificates)."""
    return [n for n in gateway_certificates(gateway) if isinstance(spec.certificates.get(n), ServedCertificate)]


def certificate_for(spec: Spec, gateway: Gateway, host: str) -> str | None:
    """The certificate a host is served with: an exact name first, then a wildcard; else None."""
    names = served_certificates(spec, gateway)
    for matches in (lambda d: host in d, lambda d: _wildcard_covers(d, host)):
        for name in names:
            if matches(spec.certificates[name].domains):
                return name
    return None
