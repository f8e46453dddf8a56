"""`edgec trace URL`: a static walk of one request through every layer a spec describes.

DNS, Cloudflare's edge, the WAF, the NLB, Envoy's listener and routes, and the cluster are each asked
what they would do with the request, from the spec and the IR alone (nothing live is read). A layer
that depends on something a trace cannot know (the client's address, bot scores, request headers
not given) says "may" instead of guessing, so a "dead" verdict is always certain.
"""

from __future__ import annotations

from edgec.ir.build import build_ir
from edgec.ir.model import IR
from edgec.spec.model import Spec
from edgec.trace.dns import walk_dns
from edgec.trace.edge import walk_cloudflare_edge, walk_waf
from edgec.trace.envoy import walk_cluster, walk_envoy_listener, walk_envoy_route
from edgec.trace.nlb import walk_nlb
from edgec.trace.walk import (
    Hop,
    Request,
    Status,
    Trace,
    Walk,
    normalise_path,
    parse_request,
)

__all__ = ["Hop", "Request", "Status", "Trace", "normalise_path", "parse_request", "trace_url"]


def trace_url(spec: Spec, url: str, method: str = "GET", headers: dict[str, str] | None = None,
              ir: IR | None = None) -> Trace:
    """Walk `method url` (with `headers`) through the layers of `spec` (as its IR resolves them). Raises
    ValueError on a URL that is not an absolute http(s) URL."""
    request = parse_request(url, method, headers or {})
    walk = Walk(spec, ir if ir is not None else build_ir(spec), request, Trace(url, request.method))
    for step in (walk_dns, walk_cloudflare_edge, walk_waf, walk_nlb, walk_envoy_listener, walk_envoy_route,
                 walk_cluster):
        if walk.trace.finished:
            break
        step(walk)
    return walk.trace
