"""What a trace is made of: the request, each layer's hop, and the walk's state passed from layer to
layer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, TypeVar
from urllib.parse import urlsplit

from edgec.ir.model import IR, Resource
from edgec.layers.envoy.model import EnvoyRoute, EnvoyVirtualHost
from edgec.spec.model import Gateway, Spec

Status = Literal["pass", "may", "dead"]

DEFAULT_PORTS = {"http": 80, "https": 443}
ADDRESS_TYPES = ("A", "AAAA", "CNAME")
MAX_CNAME_CHAIN = 8  # resolvers give up on longer chains; a loop in the spec must not hang the walk
WAF_PHASES = ("http_request_firewall_custom", "http_ratelimit", "http_request_firewall_managed")  # Cloudflare's order


@dataclass
class Hop:
    """What one layer does with the request."""

    layer: str
    status: Status
    details: list[str] = field(default_factory=list)


@dataclass
class Trace:
    """The walk of one request: every layer it passed, and where it ends."""

    url: str
    method: str
    hops: list[Hop] = field(default_factory=list)
    dies_at: str | None = None  # the layer that refuses the request; None when it reaches a cluster
    why: str | None = None  # one line: why it dies there
    route: str | None = None  # the Envoy route chosen (its name, as in access logs)
    clusters: dict[str, list[str]] = field(default_factory=dict)  # cluster -> endpoints reached
    redirect: str | None = None  # the redirect answered instead ("301 to https://...")

    @property
    def finished(self) -> bool:
        return bool(self.dies_at or self.redirect or self.clusters)


@dataclass(frozen=True)
class Request:
    """The parts of the URL every layer looks at; paths are normalised the way Envoy does it."""

    scheme: str
    host: str
    port: int | None  # as written in the URL; None means the scheme's default
    path: str
    query: str
    method: str
    headers: dict[str, str]  # lower-case names

    @property
    def target(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")


def parse_request(url: str, method: str, headers: dict[str, str]) -> Request:
    """The URL's parts; ValueError when it is not an absolute http(s) URL (the CLI reports it as usage)."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"'{url}' is not an absolute http:// or https:// URL")
    return Request(parts.scheme, parts.hostname.rstrip("."), parts.port, normalise_path(parts.path or "/"),
                   parts.query, method.upper(), {k.lower(): v for k, v in headers.items()})


def normalise_path(path: str) -> str:
    """Envoy's normalize_path and merge_slashes (both on in the generated config): '//a/./b/../c' -> '/a/c'."""
    segments: list[str] = []
    raw = re.sub("/{2,}", "/", path).split("/")[1:]
    for segment in raw:
        if segment == "..":
            segments = segments[:-1]
        elif segment != ".":
            segments.append(segment)
    trailing = "/" if raw and raw[-1] in (".", "..") else ""
    return "/" + "/".join(segments) + trailing


R = TypeVar("R", bound=Resource)


def find(ir: IR, kind: type[R], **attributes: object) -> list[R]:
    """The IR resources of one kind with these attribute values."""
    return [r for r in ir.of(kind) if all(getattr(r, k) == v for k, v in attributes.items())]


@dataclass
class Walk:
    """What the layers walked so far decided, for the layers after them."""

    spec: Spec
    ir: IR
    request: Request
    trace: Trace
    zone: str | None = None
    gateway: str | None = None
    proxied: bool = False  # the request goes through Cloudflare's proxy
    virtual_host: EnvoyVirtualHost | None = None
    route: EnvoyRoute | None = None
    details: list[str] = field(default_factory=list)  # of the Envoy listener, for the virtual host's hop

    def hop(self, layer: str, status: Status, details: list[str]) -> None:
        self.trace.hops.append(Hop(layer, status, details))

    def die(self, layer: str, why: str, details: list[str]) -> None:
        self.trace.hops.append(Hop(layer, "dead", [*details, why]))
        self.trace.dies_at, self.trace.why = layer, why

    def redirect(self, layer: str, status: Status, details: list[str], code: int, target: str) -> None:
        self.trace.redirect = f"{code} to {target}"
        self.hop(layer, status, [*details, f"answers {self.trace.redirect}"])

    @property
    def gateway_spec(self) -> Gateway:
        assert self.gateway is not None
        return self.spec.gateways[self.gateway]
