"""Semantic checks: everything that needs more than one field to decide.

Each `check_*` function looks at one concept (zones, certificates, gateways and services here;
ingresses, routes and TLS coverage in checks_routes.py; WAF and DNS in checks_records.py; client
certificates in checks_origin_pulls.py) and
reports through `Checker.error` / `Checker.warn` with the data path of the offending value; the
source map turns paths into FILE:LINE:COL.
"""

from __future__ import annotations

import ipaddress

from edgec.diagnostics import Diagnostic, Path
from edgec.ir.names import aws_name
from edgec.spec.checker import Checker
from edgec.spec.checks_origin_pulls import check_origin_pulls
from edgec.spec.checks_records import check_acm_caa, check_dns, check_waf
from edgec.spec.checks_routes import check_ingresses, check_routes, check_tls_coverage
from edgec.spec.lookup import zone_of
from edgec.spec.model import Gateway
from edgec.spec.structure import ALL, Structured
from edgec.spec.yaml_source import SourceMap


def run_checks(structured: Structured, source: SourceMap) -> list[Diagnostic]:
    spec = structured.spec
    if spec is None:
        return []
    checker = Checker(spec, source, structured)
    for check in (check_zones, check_certificates, check_gateways, check_origin_pulls, check_services,
                  check_ingresses, check_routes, check_tls_coverage, check_waf, check_dns, check_acm_caa, check_terraform):
        check(checker)
    return checker.diagnostics


# --- zones -------------------------------------------------------------------------------------

def check_zones(c: Checker) -> None:
    for name, zone in c.spec.zones.items():
        path: Path = ("zones", name)
        if zone.provider == "cloudflare" and zone.private:
            c.error(path + ("private",), "Cloudflare zones are public; use provider: route53 for a private zone")
        if zone.provider == "route53" and zone.tls is not None:
            c.error(path + ("tls",), "tls settings apply to Cloudflare zones only; remove them "
                                     "(TLS for Route 53 hosts is set on the gateway)")
        if zone.vpc_ids and not zone.private:
            c.error(path + ("vpc_ids",), "vpc_ids apply to private zones only")
        if zone.provider == "route53" and c.spec.aws is None and not c.is_broken("aws", ALL):
            needs = "its region and VPC" if zone.private else "its region"
            c.error(path + ("provider",), f"a Route 53 zone needs the 'aws' section ({needs})")
        if zone.tls and zone.tls.min_version in ("1.0", "1.1"):
            c.warn(path + ("tls", "min_version"),
                   f"TLS {zone.tls.min_version} is deprecated and insecure; use '1.2'")


# --- certificates ------------------------------------------------------------------------------

def check_certificates(c: Checker) -> None:
    for name, cert in c.spec.certificates.items():
        if cert.source == "origin-pull":
            continue  # a client certificate, checked with the origin pulls
        for i, domain in enumerate(cert.domains):
            path: Path = ("certificates", name, "domains", i)
            if cert.source == "acm" and zone_of(c.spec, domain) is None and not c.under_broken_zone(domain):
                c.warn(path, f"'{domain}' is in no declared zone, so edgec cannot create its ACM validation "
                             "record; declare the zone or validate it yourself")
            if cert.source == "cloudflare-origin-ca":
                zone = zone_of(c.spec, domain)
                if zone and c.spec.zones[zone].provider != "cloudflare":
                    c.error(path, f"'{domain}' is in Route 53 zone '{zone}'; Cloudflare Origin CA "
                                  "certificates are only for hosts behind Cloudflare")
        if len(set(cert.domains)) != len(cert.domains):
            c.error(("certificates", name, "domains"), "a domain is listed twice; list each once")
        if cert.source == "acm" and c.spec.aws is None and not c.is_broken("aws", ALL):
            c.error(("certificates", name, "source"), "an ACM certificate needs the 'aws' section (its region)")


# --- gateways ----------------------------------------------------------------------------------

def check_gateways(c: Checker) -> None:
    for name, gw in c.spec.gateways.items():
        path: Path = ("gateways", name)
        if aws_name(c.spec.name, name).startswith("internal-"):
            c.error(("name",), f"AWS load balancer names cannot begin with 'internal-', and gateway '{name}''s "
                               f"would be '{aws_name(c.spec.name, name)}'; rename the spec")
        _check_gateway_ports(c, path, gw)
        _check_gateway_tls(c, path, gw)
        _check_allow_list(c, path + ("allow",), gw.allow)
        _check_gateway_network(c, path, gw)


def _check_gateway_ports(c: Checker, path: Path, gw: Gateway) -> None:
    used: dict[int, str] = {}
    for port_name in ("https", "http", "health", "admin"):
        port = getattr(gw.ports, port_name)
        if port is None:
            continue
        if port in used:
            c.error(path + ("ports", port_name),
                    f"port {port} is already used by ports.{used[port]}; each listener needs its own port")
        used[port] = port_name


def _check_gateway_tls(c: Checker, path: Path, gw: Gateway) -> None:
    tls, tpath = gw.tls, path + ("tls",)
    cert = None
    if tls.certificate is None:
        c.error(tpath, "missing 'certificate': the gateway's HTTPS listener needs one; name an entry "
                       "of 'certificates'")
    elif c.reference(tpath + ("certificate",), "certificates", tls.certificate, "certificate"):
        cert = c.spec.certificates[tls.certificate]
    for i, name in enumerate(tls.sni_certificates):
        if c.reference(tpath + ("sni_certificates", i), "certificates", name, "certificate"):
            _check_certificate_source(c, tpath + ("sni_certificates", i), tls, name)
    if cert is not None:
        _check_certificate_source(c, tpath + ("certificate",), tls, tls.certificate)
    if tls.terminate == "nlb":
        if tls.client_auth:
            c.error(tpath + ("client_auth",), "NLB TLS listeners cannot check client certificates; use "
                                              "terminate: envoy for authenticated origin pulls")
    if tls.client_auth and gw.exposure == "private":
        c.error(tpath + ("client_auth",), "authenticated origin pulls only make sense on a public gateway "
                                          "behind Cloudflare; remove client_auth")
    if tls.min_version in ("1.0", "1.1"):
        c.warn(tpath + ("min_version",), f"TLS {tls.min_version} is deprecated and insecure; use '1.2'")
    if cert is not None and gw.exposure == "private" and cert.source == "cloudflare-origin-ca":
        c.warn(tpath + ("certificate",), "a Cloudflare Origin CA certificate is trusted only by Cloudflare; "
                                         "clients of a private gateway will reject it")


def _check_certificate_source(c: Checker, path: Path, tls, name: str) -> None:
    source = c.spec.certificates[name].source
    if source == "origin-pull":
        c.error(path, f"'{name}' is a client certificate (source: origin-pull) that Cloudflare presents to the "
                      "gateway, not one the gateway serves; name it in origin_pull_certificate")
    elif tls.terminate == "nlb" and source != "acm":
        c.error(path, f"the NLB terminates TLS only with ACM certificates, and '{name}' comes from {source}; "
                      "use terminate: envoy or an ACM certificate")
    elif tls.terminate == "envoy" and source == "acm":
        c.error(path, f"ACM certificates cannot be exported to Envoy, and '{name}' is one; use terminate: nlb, "
                      "or a Cloudflare Origin CA or file certificate")


def _check_allow_list(c: Checker, path: Path, cidrs: list[str]) -> None:
    """Duplicates are errors (AWS rejects duplicate rules); a block inside another is a warning.

    Sorted by address then prefix, each block is inside the last block not inside another, or in none."""
    first_at: dict[str, int] = {}
    for i, cidr in enumerate(cidrs):
        if cidr in first_at:
            c.error(path + (i,), f"'{cidr}' is listed twice; remove one")
        first_at.setdefault(cidr, i)
    networks = sorted((ipaddress.ip_network(cidr) for cidr in first_at),
                      key=lambda net: (net.version, net.network_address, net.prefixlen))
    cover = None
    for net in networks:
        if cover is not None and cover.version == net.version and net.subnet_of(cover):
            c.warn(path + (first_at[str(net)],), f"'{net}' is already inside '{cover}'; remove it")
        else:
            cover = net


def check_services(c: Checker) -> None:
    for name, service in c.spec.services.items():
        if service.tls is not None and not service.tls.ca_file:
            c.warn(("services", name, "tls"), "without ca_file, Envoy does not verify the upstream's certificate; "
                                              "give the CA bundle that signed it")


def _check_gateway_network(c: Checker, path: Path, gw: Gateway) -> None:
    if gw.exposure == "private" and not gw.allow:
        c.error(path + ("allow",), "a private gateway needs 'allow': the CIDRs that may reach it "
                                   "(e.g. your VPC's 10.0.0.0/8)")
    for i, cidr in enumerate(gw.allow):
        if gw.exposure == "public" and ipaddress.ip_network(cidr).prefixlen == 0:
            c.warn(path + ("allow", i), f"{cidr} lets clients bypass Cloudflare (and its WAF); leave 'allow' "
                                        "out to admit only Cloudflare's ranges")
    if c.is_broken("aws", ALL):
        return
    if c.spec.aws is None:
        c.error(path, "a gateway needs the 'aws' section (region, vpc_id, subnets) for its NLB")
        return
    subnets = c.spec.aws.subnets.public if gw.exposure == "public" else c.spec.aws.subnets.private
    if not subnets:
        c.error(path + ("exposure",), f"a {gw.exposure} gateway needs aws.subnets.{gw.exposure}: "
                                      "the subnets its NLB lives in")




# --- Terraform state ---------------------------------------------------------------------------

def check_terraform(c: Checker) -> None:
    """A backend shared by the layers must give each layer its own state."""
    backend = c.spec.terraform.backend
    shared = {"aws", "cloudflare"} - c.spec.terraform.layers.named()
    if backend is None or len(shared) < 2:
        return
    path = ("terraform", "backend")
    if backend.s3 is not None and backend.s3.key is not None:
        c.error(path + ("s3", "key"), "one key for every layer would make the layers overwrite each other's "
                                      "state; use key_prefix (each layer's key is <key_prefix>/<layer>.tfstate), "
                                      "or give each layer its key under terraform.layers.<layer>.backend",
                code="spec.terraform")
    if backend.type is not None and not any("{layer}" in v for v in _strings(backend.config)):
        c.error(path + ("config",), "every layer would keep its state in the same place; put {layer} in the "
                                    "setting that names the state (e.g. key: edge/{layer}.tfstate), or give "
                                    "each layer its backend under terraform.layers.<layer>.backend",
                code="spec.terraform")


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
