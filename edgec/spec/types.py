"""Value types of the spec (durations, hostnames, CIDRs, ...) with messages a user can act on."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_NAME = rf"({_LABEL}\.)+[a-z]([a-z0-9-]{{0,61}}[a-z0-9])?"  # a lower-case DNS name of two labels or more
_HOSTNAME = re.compile(rf"^(\*\.)?{_NAME}\Z")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_-]{0,62}\Z")
# What the JSON Schema says of these, for editors: the same patterns, with `$` for `\Z` (JSON Schema's
# regular expressions are ECMA-262's). The messages stay edgec's own.
_ENDPOINT_PATTERN = (r"^(\[[0-9A-Fa-f:.]+(%[^\]]+)?\]|[0-9A-Fa-f:.]+(%[^:]+)?|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)"
                     r":[0-9]{1,5}$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_DURATION = re.compile(r"^(\d+(\.\d+)?(ms|s|m|h))+$")  # also the JSON Schema's pattern: fullmatch it
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
MAX_DURATION_SECONDS = 86400
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+\Z")


def _hostname(value: str) -> str:
    if not value.isascii():
        raise ValueError(_punycode_hint(value))
    if value != value.lower():
        raise ValueError(f"'{value}' must be lower case ('{value.lower()}')")
    if value.endswith("."):
        raise ValueError(f"write '{value.rstrip('.')}' without the trailing dot")
    if len(value) > 253 or not _HOSTNAME.match(value):
        raise ValueError(f"'{value}' is not a valid DNS name (labels of a-z, 0-9 and '-', "
                         "separated by dots; a leading '*.' is allowed)")
    return value


def _punycode_hint(value: str) -> str:
    """What to write for an internationalised name: DNS, certificates and Envoy take its ASCII form."""
    try:
        ascii_form = ".".join(label if label == "*" else label.encode("idna").decode("ascii")
                              for label in value.lower().split("."))
    except UnicodeError:
        return f"'{value}' is not a valid DNS name: write internationalised names in their ASCII (punycode) form"
    return f"'{value}' has non-ASCII characters: write its ASCII (punycode) form '{ascii_form}'"


def _zone_name(value: str) -> str:
    _hostname(value)
    if value.startswith("*."):
        raise ValueError(f"zone '{value}' cannot be a wildcard")
    return value


def _identifier(value: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(f"'{value}' is not a valid name: use lower-case letters, digits, '-' and '_', "
                         "starting with a letter, at most 63 characters")
    return value


def parse_duration(value: Any) -> Any:
    """'3s', '250ms', '1m30s', '1h' -> timedelta. Bare numbers are refused: the unit is not obvious."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or isinstance(value, (int, float)):
        raise ValueError(f"{value} needs a unit: write '{value}s' or '{value}ms'")
    if not isinstance(value, str) or not _DURATION.fullmatch(value):
        raise ValueError(f"'{value}' is not a duration; write e.g. '3s', '250ms', '1m30s' or '1h'")
    seconds = sum(float(n) * _UNITS[u] for n, u in _DURATION_PART.findall(value))
    if seconds <= 0:
        raise ValueError(f"'{value}' must be longer than zero")
    if seconds > MAX_DURATION_SECONDS:
        raise ValueError(f"'{value}' is longer than a day; no edge timeout or interval needs that")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    ms = round(value.total_seconds() * 1000)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def _cidr(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a CIDR; write it as a string such as '10.0.0.0/8'")
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"'{value}' is not a CIDR block; write e.g. '10.0.0.0/8' or '2001:db8::/32'") from None
    raise ValueError(f"'{value}' has host bits set; did you mean '{loose}'?")


def _tls_version(value: Any) -> Any:
    # `min_version: 1.2` is read as a number; accept it as the string it means (but not 1.25).
    if isinstance(value, float) and value in (1.0, 1.1, 1.2, 1.3):
        return f"{value:.1f}"
    return value


def _path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"'{value}' must start with '/'")
    return value


def _header_name(value: str) -> str:
    if not _HEADER_NAME.match(value):
        raise ValueError(f"'{value}' is not a valid HTTP header name")
    return value


def _endpoint(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        raise ValueError(f"'{value}' must be 'host:port', e.g. 'payments.payments.svc.cluster.local:8080'")
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        _hostname(bare) if "." in bare else _identifier_host(bare)
    return value


def _identifier_host(value: str) -> None:
    if not re.match(rf"^{_LABEL}\Z", value):
        raise ValueError(f"'{value}' is not a valid host name or IP address")


def _string(pattern: str, description: str, **more) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": pattern, "description": description, **more})


Hostname = Annotated[str, AfterValidator(_hostname), _string(
    rf"^(\*\.)?{_NAME}$", "A lower-case DNS name; a leading '*.' for a wildcard.", maxLength=253)]
# (zone names and identifiers are mostly mapping keys: a pattern there would make pydantic write
# patternProperties, which let any other key through with any value)
ZoneName = Annotated[str, AfterValidator(_zone_name)]
Identifier = Annotated[str, AfterValidator(_identifier)]
Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": _DURATION.pattern,
                    "description": "A duration with a unit: ms, s, m or h, e.g. '3s', '250ms', '1m30s'."}),
]
Cidr = Annotated[str, BeforeValidator(_cidr), WithJsonSchema({
    "type": "string", "description": "An IPv4 or IPv6 CIDR block with no host bits set, e.g. 10.0.0.0/8."})]
Port = Annotated[int, Field(ge=1, le=65535)]
TlsVersion = Annotated[
    Literal["1.0", "1.1", "1.2", "1.3"],
    BeforeValidator(_tls_version),
    WithJsonSchema({"anyOf": [{"type": "string", "enum": ["1.0", "1.1", "1.2", "1.3"]},
                              {"type": "number", "enum": [1.0, 1.1, 1.2, 1.3]}]}),
]
HttpPath = Annotated[str, AfterValidator(_path), _string("^/", "A path, starting with '/'.")]
HeaderName = Annotated[str, AfterValidator(_header_name)]
Endpoint = Annotated[str, AfterValidator(_endpoint), _string(
    _ENDPOINT_PATTERN, "host:port: a lower-case DNS name or an IP address ([...] for IPv6), and a port.")]
