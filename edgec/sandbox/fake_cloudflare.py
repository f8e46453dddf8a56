"""A stateful fake of the Cloudflare API v4 (the parts edgec reads), for tests and the local sandbox.

It serves zones, DNS records, phase entry point rulesets, zone settings (one, or all of a zone's in
one call) and authenticated origin pulls (the setting and the zone's client certificates) on loopback, with Cloudflare's envelope, pagination,
bearer-token auth and error codes, and adds fault injection and an honest log of the calls it
received. Standard library only. A zone holds the settings edgec manages and any a test sets, not
the fifty-odd others a live zone reports.

    with FakeCloudflare() as cf:
        zone_id = cf.add_zone("example.com")
        cf.add_dns_record(zone_id, type="A", name="www", content="192.0.2.1")
        client = cloudflare.Cloudflare(api_token=cf.token, base_url=cf.base_url)

Shapes follow Cloudflare's OpenAPI document of 2024-08-07 (../shared/data). Where it and the live API
disagree, the fake answers like the live API: a record without a comment has "comment": null, and the
DNS list accepts per_page up to 5,000 (the document says 5,000,000).

Everything it does not implement fails loudly (unknown routes, unsupported list filters) rather than
answering something plausible but wrong.

One module on purpose: the server's state, its routes and its fault injection are one fake, checked
as a whole against the OpenAPI document (tests/test_fake_cloudflare.py).
"""

from __future__ import annotations

import collections
import copy
import hashlib
import itertools
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from edgec.loopback import LoopbackServer

API_PREFIX = "/client/v4"
DEFAULT_TOKEN = "test-token"
DEFAULT_ACCOUNT_ID = "0f0e0d0c0b0a09080706050403020100"
ZONES_MAX_PER_PAGE = 50
DNS_MAX_PER_PAGE = 5000

# Error codes. The OpenAPI document shows only 7003 (in its failure examples) and 10002 (in a link
# table); the rest are what the live API answers, as quoted in client bug reports.
AUTH_ERROR = 10000          # 403 "Authentication error"
RATE_LIMITED = 971          # 429 "Please wait and consider throttling your request speed"
INTERNAL_ERROR = 10002      # 5xx "Unexpected internal server error"
NO_ROUTE = 7000             # 404 "No route for that URI"
OBJECT_NOT_FOUND = 7003     # "Could not route to <path>, perhaps your object identifier is invalid?"
RECORD_NOT_FOUND = 81044    # 404 "Record does not exist."
NO_ENTRYPOINT = 10003       # 404 "could not find entrypoint ruleset in the <phase> phase"
DNS_VALIDATION = 1004       # 400 "DNS Validation Error"
INVALID_SETTING_VALUE = 1007  # 400 "Invalid value for zone setting <id>"
MALFORMED_JSON = 6007       # 400 "Malformed JSON in request body"
INVALID_PARAMETER = 1001    # 400 for zone list parameters: no live example found, the fake's choice

# What a new zone reports for the settings edgec manages: the OpenAPI document's value defaults,
# except HSTS, whose documented "default" is an example with HSTS switched on.
DEFAULT_SETTINGS: dict[str, Any] = {
    "ssl": "off",
    "min_tls_version": "1.0",
    "always_use_https": "off",
    "tls_1_3": "off",
    "security_header": {"strict_transport_security": {
        "enabled": False, "max_age": 0, "include_subdomains": False, "preload": False, "nosniff": False}},
}

_PROXIABLE_TYPES = {"A", "AAAA", "CNAME"}
_DATA_TYPES = {"SRV": ("priority", "weight", "port", "target"), "CAA": ("flags", "tag", "value")}
_RECORD_FIELDS = ("type", "name", "content", "ttl", "proxied", "comment", "tags", "priority", "data", "settings")


class ApiError(ValueError):
    """A Cloudflare error answer; raised by handlers, and by the seeding methods on bad input."""

    def __init__(self, status: int, code: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def _throttled(retry_after: int) -> ApiError:
    return ApiError(429, RATE_LIMITED, "Please wait and consider throttling your request speed",
                    {"Retry-After": str(max(1, retry_after))})


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _hex_id(*parts: str) -> str:
    """A 32-hex-digit id like Cloudflare's, stable for the same parts (so test output is reproducible)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _ok(result: Any, result_info: dict | None = None) -> dict:
    body = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = result_info
    return body


def _failure(error: ApiError) -> dict:
    return {"success": False, "errors": [{"code": error.code, "message": error.message}],
            "messages": [], "result": None}


# --- state -------------------------------------------------------------------------------------

class _RecordTable:
    """One zone's DNS records in creation order, indexed by id, name and type.

    Appending is O(1) and an unfiltered page is a list slice, so seeding and paging through tens of
    thousands of records stays linear; filtered lists cost O(matches)."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.by_id: dict[str, dict] = {}
        self._index: dict[tuple[str, str], list[dict]] = collections.defaultdict(list)

    def add(self, record: dict) -> None:
        self.rows.append(record)
        self.by_id[record["id"]] = record
        for key in self._keys(record):
            self._index[key].append(record)

    def remove(self, record: dict) -> None:
        del self.rows[_position(self.rows, record)]
        del self.by_id[record["id"]]
        for key in self._keys(record):
            bucket = self._index[key]
            del bucket[_position(bucket, record)]

    def replace(self, old: dict, new: dict) -> None:
        """Swap a record in place; it keeps its position everywhere except in a name or type group
        it newly joins, where it comes last."""
        self.rows[_position(self.rows, old)] = new
        self.by_id[new["id"]] = new
        old_keys, new_keys = self._keys(old), self._keys(new)
        for key in old_keys:
            bucket = self._index[key]
            if key in new_keys:
                bucket[_position(bucket, old)] = new
            else:
                del bucket[_position(bucket, old)]
        for key in new_keys:
            if key not in old_keys:
                self._index[key].append(new)

    def select(self, name: str | None, rtype: str | None) -> list[dict]:
        keys = [key for key in (("name", name), ("type", rtype)) if key[1] is not None]
        if not keys:
            return self.rows
        smallest = min((self._index.get(key, []) for key in keys), key=len)
        if len(keys) == 1:
            return smallest
        return [r for r in smallest if r["name"] == name and r["type"] == rtype]

    @staticmethod
    def _keys(record: dict) -> tuple[tuple[str, str], ...]:
        return ("name", record["name"]), ("type", record["type"])


def _position(rows: list[dict], item: dict) -> int:
    # By identity: two records never compare equal anyway, but identity skips comparing dicts.
    return next(i for i, row in enumerate(rows) if row is item)


@dataclass
class _Zone:
    info: dict
    records: _RecordTable = field(default_factory=_RecordTable)
    settings: dict[str, dict] = field(default_factory=dict)
    rulesets: dict[str, dict] = field(default_factory=dict)
    origin_pulls: bool = False
    client_certificates: list[dict] = field(default_factory=list)  # zone-level origin pulls

    @property
    def name(self) -> str:
        return self.info["name"]


@dataclass
class _Request:
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any


@dataclass
class _Route:
    method: str
    template: str
    pattern: re.Pattern
    handler: Callable[[_Request], dict]


# --- the server --------------------------------------------------------------------------------

class FakeCloudflare:
    """An in-memory Cloudflare API on 127.0.0.1, seeded from Python and read over HTTP.

    `calls` lists (method, path template) for every request received, including refused ones.
    `rate_limit=(requests, seconds)` enforces Cloudflare's per-token limit (theirs is 1200 per 300 s);
    `clock` lets tests move time forward without sleeping."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, port: int = 0,
                 rate_limit: tuple[int, float] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.token = token
        self.calls: list[tuple[str, str]] = []
        self._port = port
        self._rate_limit = rate_limit
        self._clock = clock
        self._lock = threading.RLock()
        self._zones: dict[str, _Zone] = {}
        self._record_seq = itertools.count(1)
        self._faults: dict[str | None, collections.deque[ApiError]] = collections.defaultdict(collections.deque)
        self._truncate_by = 0
        self._hits: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._blocked_until: dict[str, float] = {}
        self._routes = self._build_routes()
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> str:
        if self._server is not None:
            raise RuntimeError("FakeCloudflare is already running")
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = LoopbackServer(handler, self._port)
        self._thread = self._server.serve_in_background("fake-cloudflare", poll_interval=0.02)
        return self.base_url

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.stop()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeCloudflare:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeCloudflare is not running; call start() first")
        return f"http://127.0.0.1:{self._server.port}{API_PREFIX}"

    # seeding

    def add_zone(self, name: str, account_id: str = DEFAULT_ACCOUNT_ID,
                 account_name: str = "Sandbox account") -> str:
        name = name.rstrip(".").lower()
        zone_id = _hex_id("zone", name)
        with self._lock:
            if zone_id in self._zones:
                raise ValueError(f"zone {name!r} already exists")
            now = _now()
            self._zones[zone_id] = _Zone(info={
                "id": zone_id, "name": name, "status": "active", "paused": False, "type": "full",
                "development_mode": 0,
                "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
                "original_name_servers": None, "original_registrar": None, "original_dnshost": None,
                "created_on": now, "modified_on": now, "activated_on": now,
                "account": {"id": account_id, "name": account_name},
                "owner": {"id": account_id, "name": account_name, "type": "organization"},
                "meta": {"step": 2, "custom_certificate_quota": 0, "page_rule_quota": 3,
                         "phishing_detected": False},
            }, settings={sid: _setting(sid, value, None) for sid, value in DEFAULT_SETTINGS.items()})
        return zone_id

    def add_dns_record(self, zone_id: str, **fields: Any) -> dict:
        with self._lock:
            zone = self._zone_or_raise(zone_id)
            record = _build_record(zone.name, fields, record_id=self._new_record_id(zone_id))
            zone.records.add(record)
            return copy.deepcopy(record)

    def edit_dns_record(self, zone_id: str, name: str, rtype: str, **fields: Any) -> dict:
        """Change a record in place, as someone editing it in the dashboard would."""
        with self._lock:
            zone = self._zone_or_raise(zone_id)
            current = next(iter(zone.records.select(name, rtype)))
            updated = {**current, **fields, "modified_on": _now()}
            zone.records.replace(current, updated)
            return copy.deepcopy(updated)

    def delete_dns_record(self, zone_id: str, name: str, rtype: str) -> None:
        """Remove a record, as someone deleting it in the dashboard would."""
        with self._lock:
            zone = self._zone_or_raise(zone_id)
            zone.records.remove(next(iter(zone.records.select(name, rtype))))

    def set_setting(self, zone_id: str, setting_id: str, value: Any) -> None:
        with self._lock:
            self._zone_or_raise(zone_id).settings[setting_id] = _setting(setting_id, value, _now())

    def remove_setting(self, zone_id: str, setting_id: str) -> None:
        """The zone stops reporting a setting, as the API does for one the zone's plan lacks."""
        with self._lock:
            del self._zone_or_raise(zone_id).settings[setting_id]

    def set_entrypoint_ruleset(self, zone_id: str, phase: str, rules: Iterable[dict], *,
                               description: str = "", name: str = "default") -> dict:
        with self._lock:
            zone = self._zone_or_raise(zone_id)
            previous = zone.rulesets.get(phase)
            version = str(int(previous["version"]) + 1) if previous else "1"
            ruleset_id = _hex_id("ruleset", zone_id, phase)
            now = _now()
            zone.rulesets[phase] = {
                "id": ruleset_id, "name": name, "description": description, "kind": "zone",
                "phase": phase, "version": version, "last_updated": now,
                "rules": [_ruleset_rule(rule, ruleset_id, i, version, now) for i, rule in enumerate(rules)],
            }
            return copy.deepcopy(zone.rulesets[phase])

    def set_origin_pulls(self, zone_id: str, enabled: bool) -> None:
        with self._lock:
            self._zone_or_raise(zone_id).origin_pulls = bool(enabled)

    def add_client_certificate(self, zone_id: str, certificate: str, status: str = "active") -> dict:
        """Upload a zone-level origin-pull client certificate (the key is not kept: the API never returns it)."""
        with self._lock:
            zone = self._zone_or_raise(zone_id)
            now = _now()
            cert = {"id": _hex_id("client-certificate", zone_id, certificate, str(len(zone.client_certificates))),
                    "certificate": certificate, "status": status, "issuer": "edgec sandbox CA",
                    "signature": "SHA256WithRSA", "uploaded_on": now, "expires_on": "2036-01-01T00:00:00Z",
                    "enabled": zone.origin_pulls}
            zone.client_certificates.append(cert)
            return copy.deepcopy(cert)

    def set_client_certificate_status(self, zone_id: str, certificate_id: str, status: str) -> None:
        """As Cloudflare moves a certificate on (pending_deletion once deleted, active once deployed)."""
        with self._lock:
            cert = next((c for c in self._zone_or_raise(zone_id).client_certificates if c["id"] == certificate_id), None)
            if cert is None:
                raise KeyError(f"no client certificate {certificate_id}")
            cert["status"] = status

    # fault injection and accounting

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()

    def fail_next(self, n: int, status: int = 500, route: str | None = None) -> None:
        """The next n requests fail with `status` before reaching auth; with `route` (a path template
        such as "/zones/{zone_id}/settings"), only requests to that route, so a test can pick the call."""
        with self._lock:
            self._faults[route].extend([ApiError(status, INTERNAL_ERROR, "Unexpected internal server error")] * n)

    def throttle_next(self, n: int, retry_after: int = 1) -> None:
        """The next n requests get Cloudflare's 429 with a Retry-After header."""
        with self._lock:
            self._faults[None].extend([_throttled(retry_after)] * n)

    def truncate_next_page(self, missing: int = 1) -> None:
        """The next list answer drops its last `missing` items while result_info still counts them."""
        with self._lock:
            self._truncate_by = missing

    # request handling (called by _Handler on server threads)

    def handle(self, method: str, target: str, authorization: str | None,
               raw_body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Answer one request: (status, extra headers, JSON body). Called from the server threads."""
        url = urlsplit(target)
        with self._lock:  # held while encoding too: answers share the stored dicts
            route, params = self._match(method, url.path)
            template = route.template if route else url.path
            self.calls.append((method, template))
            try:
                self._admit(authorization, template)
                if route is None:
                    raise ApiError(404, NO_ROUTE, "No route for that URI")
                request = _Request(url.path, params, _query(url.query), _json_body(raw_body))
                status, headers, body = 200, {}, route.handler(request)
            except ApiError as error:
                status, headers, body = error.status, error.headers, _failure(error)
            return status, headers, json.dumps(body, separators=(",", ":")).encode()

    def _admit(self, authorization: str | None, route: str) -> None:
        # Injected faults come first: they stand for trouble in front of the API, before auth.
        for faults in (self._faults.get(route), self._faults.get(None)):
            if faults:
                raise faults.popleft()
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or token != self.token:
            raise ApiError(403, AUTH_ERROR, "Authentication error")
        if self._rate_limit:
            self._count_against_limit(token)

    def _count_against_limit(self, token: str) -> None:
        # Cloudflare: going over the limit blocks every call for the next full window.
        limit, window = self._rate_limit
        now = self._clock()
        blocked_until = self._blocked_until.get(token, 0.0)
        if now < blocked_until:
            raise _throttled(math.ceil(blocked_until - now))
        hits = self._hits[token]
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            self._blocked_until[token] = now + window
            hits.clear()
            raise _throttled(math.ceil(window))
        hits.append(now)

    def _build_routes(self) -> list[_Route]:
        table = [
            ("GET", "/zones", self._list_zones),
            ("GET", "/zones/{zone_id}", self._get_zone),
            ("GET", "/zones/{zone_id}/dns_records", self._list_records),
            ("POST", "/zones/{zone_id}/dns_records", self._create_record),
            ("GET", "/zones/{zone_id}/dns_records/{dns_record_id}", self._get_record),
            ("PATCH", "/zones/{zone_id}/dns_records/{dns_record_id}", self._patch_record),
            ("PUT", "/zones/{zone_id}/dns_records/{dns_record_id}", self._put_record),
            ("DELETE", "/zones/{zone_id}/dns_records/{dns_record_id}", self._delete_record),
            ("GET", "/zones/{zone_id}/rulesets/phases/{ruleset_phase}/entrypoint", self._get_entrypoint),
            ("GET", "/zones/{zone_id}/settings", self._list_settings),
            ("GET", "/zones/{zone_id}/settings/{setting_id}", self._get_setting),
            ("PATCH", "/zones/{zone_id}/settings/{setting_id}", self._patch_setting),
            ("GET", "/zones/{zone_id}/origin_tls_client_auth/settings", self._get_origin_pulls),
            ("GET", "/zones/{zone_id}/origin_tls_client_auth", self._list_client_certificates),
        ]
        return [_Route(method, template, _template_pattern(template), handler)
                for method, template, handler in table]

    def _match(self, method: str, path: str) -> tuple[_Route | None, dict[str, str]]:
        if path.startswith(API_PREFIX):
            relative = path[len(API_PREFIX):].rstrip("/") or "/"
            for route in self._routes:
                found = route.pattern.fullmatch(relative)
                if found and route.method == method:
                    return route, found.groupdict()
        return None, {}

    # handlers: zones

    def _list_zones(self, req: _Request) -> dict:
        _only_params(req, {"name", "account.id", "page", "per_page"}, INVALID_PARAMETER)
        page, per_page = _paging(req.query, default=20, minimum=5, maximum=ZONES_MAX_PER_PAGE,
                                 code=INVALID_PARAMETER)
        name, account_id = req.query.get("name"), req.query.get("account.id")
        if name is not None and ":" in name:
            raise ApiError(400, INVALID_PARAMETER, "the fake supports exact zone names only, not operators")
        zones = [z.info for z in self._zones.values()
                 if (name is None or z.name == name.lower())
                 and (account_id is None or z.info["account"]["id"] == account_id)]
        return self._page_of(zones, page, per_page)

    def _get_zone(self, req: _Request) -> dict:
        return _ok(self._zone(req).info)

    # handlers: DNS records

    def _list_records(self, req: _Request) -> dict:
        _only_params(req, {"name", "name.exact", "type", "page", "per_page"}, DNS_VALIDATION)
        zone = self._zone(req)
        page, per_page = _paging(req.query, default=100, minimum=1, maximum=DNS_MAX_PER_PAGE,
                                 code=DNS_VALIDATION)
        name = req.query.get("name.exact", req.query.get("name"))
        rtype = req.query.get("type")
        # Name filters are exact and case-insensitive; like Cloudflare, no '@' or relative names here.
        rows = zone.records.select(name.rstrip(".").lower() if name is not None else None,
                                   rtype.upper() if rtype is not None else None)
        return self._page_of(rows, page, per_page)

    def _create_record(self, req: _Request) -> dict:
        zone = self._zone(req)
        record = _build_record(zone.name, _body_object(req), record_id=self._new_record_id(zone.info["id"]))
        zone.records.add(record)
        return _ok(record)

    def _get_record(self, req: _Request) -> dict:
        return _ok(self._record(req)[1])

    def _patch_record(self, req: _Request) -> dict:
        zone, old = self._record(req)
        # Fields derived from `data` are recomputed, so a stale copy must not win over new data.
        merged = {k: old[k] for k in _RECORD_FIELDS if k in old and not (k == "content" and "data" in old)}
        merged.update(_body_object(req))
        return self._replace_record(zone, old, merged)

    def _put_record(self, req: _Request) -> dict:
        zone, old = self._record(req)
        return self._replace_record(zone, old, _body_object(req))

    def _replace_record(self, zone: _Zone, old: dict, fields: dict) -> dict:
        new = _build_record(zone.name, fields, record_id=old["id"], created_on=old["created_on"])
        zone.records.replace(old, new)
        return _ok(new)

    def _delete_record(self, req: _Request) -> dict:
        zone, record = self._record(req)
        zone.records.remove(record)
        return _ok({"id": record["id"]})

    # handlers: rulesets, settings, origin pulls

    def _get_entrypoint(self, req: _Request) -> dict:
        phase = req.params["ruleset_phase"]
        ruleset = self._zone(req).rulesets.get(phase)
        if ruleset is None:
            raise ApiError(404, NO_ENTRYPOINT, f"could not find entrypoint ruleset in the {phase} phase")
        return _ok(ruleset)

    def _list_settings(self, req: _Request) -> dict:
        # "Get all zone settings": one list, without result_info (the document gives it no paging).
        return _ok(list(self._zone(req).settings.values()))

    def _get_setting(self, req: _Request) -> dict:
        return _ok(self._setting(req))

    def _patch_setting(self, req: _Request) -> dict:
        setting = self._setting(req)
        body = _body_object(req)
        if "value" not in body:
            raise ApiError(400, INVALID_SETTING_VALUE, f"Invalid value for zone setting {setting['id']}")
        setting.update(value=body["value"], modified_on=_now())
        return _ok(setting)

    def _get_origin_pulls(self, req: _Request) -> dict:
        return _ok({"enabled": self._zone(req).origin_pulls})

    def _list_client_certificates(self, req: _Request) -> dict:
        certs = [dict(c, enabled=self._zone(req).origin_pulls) for c in self._zone(req).client_certificates]
        return _ok(certs, {"page": 1, "per_page": max(len(certs), 1), "count": len(certs),
                           "total_count": len(certs), "total_pages": 1})

    # lookups

    def _zone(self, req: _Request) -> _Zone:
        zone = self._zones.get(req.params["zone_id"])
        if zone is None:
            raise _not_found(req.path)
        return zone

    def _record(self, req: _Request) -> tuple[_Zone, dict]:
        zone = self._zone(req)
        record = zone.records.by_id.get(req.params["dns_record_id"])
        if record is None:
            raise ApiError(404, RECORD_NOT_FOUND, "Record does not exist.")
        return zone, record

    def _setting(self, req: _Request) -> dict:
        setting = self._zone(req).settings.get(req.params["setting_id"])
        if setting is None:
            raise _not_found(req.path)
        return setting

    def _zone_or_raise(self, zone_id: str) -> _Zone:
        if zone_id not in self._zones:
            raise KeyError(f"no zone {zone_id!r}; add it with add_zone() first")
        return self._zones[zone_id]

    def _new_record_id(self, zone_id: str) -> str:
        return _hex_id("dns_record", zone_id, str(next(self._record_seq)))

    def _page_of(self, rows: list[dict], page: int, per_page: int) -> dict:
        start = (page - 1) * per_page
        items = rows[start:start + per_page]
        info = {"page": page, "per_page": per_page, "count": len(items), "total_count": len(rows),
                "total_pages": max(1, math.ceil(len(rows) / per_page))}
        if self._truncate_by and items:
            items, self._truncate_by = items[:max(0, len(items) - self._truncate_by)], 0
        return _ok(items, info)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
    fake: FakeCloudflare

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, headers, payload = self.fake.handle(self.command, self.path, self.headers.get("Authorization"), raw)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests assert on `calls`, not on a request log."""


# --- records, rules, settings ------------------------------------------------------------------

def _build_record(zone_name: str, fields: dict, *, record_id: str, created_on: str | None = None) -> dict:
    """A full record as Cloudflare returns it, from the fields a client sends (validated)."""
    rtype = str(fields.get("type") or "").upper()
    if not rtype or not fields.get("name"):
        raise ApiError(400, DNS_VALIDATION, "DNS Validation Error: type and name are required")
    proxiable = rtype in _PROXIABLE_TYPES
    proxied = bool(fields.get("proxied", False))
    if proxied and not proxiable:
        raise ApiError(400, DNS_VALIDATION, f"DNS Validation Error: {rtype} records cannot be proxied")
    ttl = _ttl(fields.get("ttl", 1))
    now = _now()
    record = {
        "id": record_id, "name": _fqdn(fields["name"], zone_name), "type": rtype,
        "content": _content(rtype, fields), "proxiable": proxiable, "proxied": proxied, "ttl": ttl,
        "settings": {"flatten_cname": False} if rtype == "CNAME" else {},
        "meta": {}, "comment": fields.get("comment"), "tags": list(fields.get("tags") or []),
        "created_on": created_on or now, "modified_on": now,
    }
    record["settings"].update(fields.get("settings") or {})
    if rtype in _DATA_TYPES:
        record["data"] = dict(fields["data"])
    if rtype in ("MX", "SRV"):
        record["priority"] = fields["priority"] if rtype == "MX" else fields["data"]["priority"]
    return record


def _content(rtype: str, fields: dict) -> str:
    if rtype in _DATA_TYPES:
        data = fields.get("data") or {}
        missing = [key for key in _DATA_TYPES[rtype] if key not in data]
        if missing:
            raise ApiError(400, DNS_VALIDATION, f"DNS Validation Error: {rtype} data needs {', '.join(missing)}")
        if rtype == "SRV":
            return f"{data['weight']} {data['port']} {data['target']}"
        return f'{data["flags"]} {data["tag"]} "{data["value"]}"'
    if rtype == "MX" and "priority" not in fields:
        raise ApiError(400, DNS_VALIDATION, "DNS Validation Error: MX records need a priority")
    if not fields.get("content"):
        raise ApiError(400, DNS_VALIDATION, f"DNS Validation Error: {rtype} records need content")
    return str(fields["content"])


def _ttl(value: Any) -> int:
    # The SDK types ttl as a float, so 300.0 is as good as 300.
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        if value == 1 or 30 <= value <= 86400:
            return int(value)
    raise ApiError(400, DNS_VALIDATION, "DNS Validation Error: ttl must be 1 (automatic) or 30-86400")


def _fqdn(name: str, zone_name: str) -> str:
    """Cloudflare accepts '@' and names relative to the zone, and answers with the full name."""
    name = name.rstrip(".").lower()
    if name in ("@", ""):
        return zone_name
    if name == zone_name or name.endswith("." + zone_name):
        return name
    return f"{name}.{zone_name}"


def _ruleset_rule(rule: dict, ruleset_id: str, position: int, version: str, now: str) -> dict:
    if not rule.get("expression") or not rule.get("action"):
        raise ValueError(f"rule {position} needs an expression and an action")
    rule_id = rule.get("id") or _hex_id("rule", ruleset_id, str(position), rule["expression"])
    return {"id": rule_id, "ref": rule_id, "enabled": True, **rule, "version": version, "last_updated": now}


def _setting(setting_id: str, value: Any, modified_on: str | None) -> dict:
    return {"id": setting_id, "value": copy.deepcopy(value), "editable": True, "modified_on": modified_on}


# --- request parsing ---------------------------------------------------------------------------

def _template_pattern(template: str) -> re.Pattern:
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)))


def _query(raw: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}


def _json_body(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, MALFORMED_JSON, "Malformed JSON in request body") from None


def _body_object(req: _Request) -> dict:
    if not isinstance(req.body, dict):
        raise ApiError(400, MALFORMED_JSON, "Malformed JSON in request body")
    return req.body


def _only_params(req: _Request, allowed: set[str], code: int) -> None:
    """Refuse filters the fake does not implement, so a client never gets a silently unfiltered list."""
    unknown = sorted(set(req.query) - allowed)
    if unknown:
        raise ApiError(400, code, f"the fake does not implement the parameter(s) {', '.join(unknown)}")


def _paging(query: dict[str, str], *, default: int, minimum: int, maximum: int, code: int) -> tuple[int, int]:
    page = _whole_number(query.get("page", "1"), "page", code)
    per_page = _whole_number(query.get("per_page", str(default)), "per_page", code)
    if page < 1:
        raise ApiError(400, code, "page must be at least 1")
    if not minimum <= per_page <= maximum:
        raise ApiError(400, code, f"per_page must be between {minimum} and {maximum}")
    return page, per_page


def _whole_number(text: str, name: str, code: int) -> int:
    # The SDK types page and per_page as floats, so "2.0" must read as 2.
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not number.is_integer():
        raise ApiError(400, code, f"{name} must be a whole number")
    return int(number)


def _not_found(path: str) -> ApiError:
    return ApiError(404, OBJECT_NOT_FOUND, f"Could not route to {path}, perhaps your object identifier is invalid?")
