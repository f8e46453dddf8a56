"""The NLB: a listener for the request's port, and a security group that admits its source."""

from __future__ import annotations

from edgec.layers.aws.model import AwsListener, AwsLoadBalancer, AwsSecurityGroupRule
from edgec.layers.cloudflare.ips import cloudflare_cidrs
from edgec.spec.lookup import inside_any
from edgec.trace.walk import DEFAULT_PORTS, Status, Walk, find

# --- NLB ---------------------------------------------------------------------------------------

def walk_nlb(walk: Walk) -> None:
    """The listener for the port the request arrives on, then the security group in front of it."""
    gateway, request = walk.gateway_spec, walk.request
    scheme_port = gateway.ports.https if request.scheme == "https" else gateway.ports.http
    default_port = DEFAULT_PORTS[request.scheme]
    balancer = find(walk.ir, AwsLoadBalancer, gateway=walk.gateway)[0]
    details = [f"gateway '{walk.gateway}': {'internal' if balancer.internal else 'internet-facing'} NLB "
               f"{balancer.lb_name}"]
    # Cloudflare connects on the visitor's port; a direct client on the URL's, or, when the URL names
    # none, on the gateway's (assuming the client knows it: said below when it is not the default)
    port = request.port or (default_port if walk.proxied else scheme_port or default_port)
    listeners = find(walk.ir, AwsListener, gateway=walk.gateway, port=port)
    if not listeners or port != scheme_port:
        walk.die("nlb", _no_listener(walk, port), details)
        return
    status: Status = "pass"
    details.append(_listener_line(listeners[0]))
    if request.port is None and port != default_port:
        status = "may"
        details.append(f"the listener is on port {port}, not {default_port}: clients must use "
                       f"{request.scheme}://{request.host}:{port}/")
    _security_group(walk, port, status, details)


def _no_listener(walk: Walk, port: int) -> str:
    ports = walk.gateway_spec.ports
    open_ports = ", ".join(f"{p} ({purpose})" for purpose, p in (("https", ports.https), ("http", ports.http)) if p)
    via = "Cloudflare connects to the origin" if walk.proxied else "the client connects"
    return (f"{via} over {walk.request.scheme} on port {port}, but the NLB of gateway '{walk.gateway}' "
            f"listens for it only on {open_ports}")


def _listener_line(listener: AwsListener) -> str:
    if listener.protocol == "TLS":
        return (f"listener :{listener.port} TLS: TLS ends at the NLB (certificate {listener.certificate}, "
                f"policy {listener.ssl_policy})")
    return f"listener :{listener.port} TCP: passed through to Envoy"


def _security_group(walk: Walk, port: int, status: Status, details: list[str]) -> None:
    """Public gateways must admit Cloudflare; a host Cloudflare does not proxy must admit its clients."""
    rules = find(walk.ir, AwsSecurityGroupRule, gateway=walk.gateway, direction="ingress", port=port)
    sources = [rule.cidr for rule in rules]
    if not sources:
        walk.die("nlb", f"the security group admits no one on tcp/{port}", details)
        return
    cloudflare = [c for c in cloudflare_cidrs() if ":" not in c]  # the NLB is IPv4-only, as in the IR
    details.append(f"security group admits tcp/{port} from {_sources_line(sources, cloudflare)}")
    covered = [inside_any(cidr, sources) for cidr in cloudflare]
    if walk.proxied and not any(covered):
        walk.die("nlb", "the security group admits none of Cloudflare's ranges, and Cloudflare proxies this host",
                 details)
        return
    if not walk.proxied and all(inside_any(source, cloudflare) for source in sources):
        walk.die("nlb", f"the security group admits only Cloudflare, but {walk.request.host} is not proxied "
                        "by Cloudflare: its clients connect directly", details)
        return
    if walk.proxied and not all(covered):
        status = "may"
        details.append("some of Cloudflare's ranges are not admitted: requests through them fail")
    walk.hop("nlb", status, details)


def _sources_line(sources: list[str], cloudflare: list[str]) -> str:
    if set(sources) == set(cloudflare):
        return f"Cloudflare's {len(cloudflare)} IPv4 ranges only"
    return ", ".join(sources)
