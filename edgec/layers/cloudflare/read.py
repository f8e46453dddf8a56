"""Read the live Cloudflare estate of a spec's zones through the official `cloudflare` SDK, into the
Cloudflare layer's IR.

Reads are list-based rather than one call per object, because paced calls (3.5 a second after a
burst, see budget.py) are most of a large plan's time: the account's zones are listed once (50 a
page), then each zone costs one DNS page per 5,000 records, one call for all its settings, one per
WAF phase and one for origin pulls (two where the spec gives the zone a client certificate).
Calls are paced by the rate limiter and counted. A page that is missing, short or inconsistent is an
error: a failed read must never look like "nothing exists". Records pair with the desired ones by zone,
name and type (and content, where several share a name and type) and take their addresses; IDs (of
zones, records, rulesets and client certificates) go in the facts.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import cloudflare
import httpx

from edgec.ir.model import IR, Resource
from edgec.ir.names import short_hash, slug
from edgec.ir.ownership import carries_marker
from edgec.layers.base import LiveLayer, adopt_addresses, rename
from edgec.layers.cloudflare.model import (
    CfDnsRecord,
    CfOriginPullCertificate,
    CfOriginPulls,
    CfRuleset,
    CfZoneSetting,
    WafRule,
    record_content,
)
from edgec.layers.cloudflare.token import api_token, refused
from edgec.read.answers import (
    Malformed,
    PageCount,
    answer_of,
    flag,
    items,
    malformed,
    number,
    optional_text,
    shown,
    text,
    unparsable,
)
from edgec.read.budget import (
    DEFAULT_CLOUDFLARE_RATE,
    ApiCalls,
    RateLimiter,
    ReadError,
    cloudflare_burst,
)
from edgec.read.shape import check_shapes
from edgec.spec.pem import fingerprint

DNS_PAGE_SIZE = 5000  # the largest page Cloudflare's DNS list accepts
ZONE_PAGE_SIZE = 50
ZONE_SETTINGS = ("ssl", "min_tls_version", "always_use_https", "tls_1_3", "security_header")
PHASES = ("http_request_firewall_custom", "http_request_firewall_managed", "http_ratelimit")
CONCURRENT_ZONES = 4
GONE_STATUSES = ("deleted", "pending_deletion", "deletion_timed_out")


def cloudflare_client(calls: ApiCalls, rate: float = DEFAULT_CLOUDFLARE_RATE, max_retries: int = 4,
                      base_url: str | None = None, timeout: float = 30) -> cloudflare.Cloudflare:
    """A client with the token from CLOUDFLARE_API_TOKEN, paced and counted at the HTTP layer.

    The SDK retries 429s and 5xx responses (honouring Retry-After) up to `max_retries` times."""
    token = api_token()
    limiter = RateLimiter(rate, cloudflare_burst(rate))

    def before_request(_request: httpx.Request) -> None:
        limiter.acquire()
        calls.count("cloudflare")

    http = httpx.Client(event_hooks={"request": [before_request]}, timeout=timeout)
    return cloudflare.Cloudflare(api_token=token, base_url=base_url or os.environ.get("CLOUDFLARE_BASE_URL"),
                                 max_retries=max_retries, http_client=http)


def read_cloudflare(ir: IR, client: cloudflare.Cloudflare, zone_ids: dict[str, str] | None = None) -> LiveLayer:
    """The spec's zones; or (for `edgec import`) the zones of `zone_ids`, with the client certificates of
    every zone that has origin pulls on."""
    zones = sorted(zone_ids) if zone_ids is not None else ir.estate.zones_of("cloudflare")
    everything = zone_ids is not None
    zone_ids = zone_ids if zone_ids is not None else _zone_ids(ir.estate.cloudflare_account, client, zones)
    with_client_certs = {c.zone for c in ir.of(CfOriginPullCertificate)}
    with ThreadPoolExecutor(max_workers=CONCURRENT_ZONES) as pool:
        results = list(pool.map(lambda zone: _read_zone(
            client, zone, zone_ids[zone], True if zone in with_client_certs else (None if everything else False)),
            zones))
    live = LiveLayer()
    for zone, (resources, record_ids) in zip(zones, results):
        live.resources += resources
        live.facts[f"cloudflare_zone.{zone}"] = {"id": zone_ids[zone]}
        live.facts.update({r.address: {"id": record_ids[id(r)]} for r in resources if id(r) in record_ids})
    check_shapes("Cloudflare", live.resources)
    desired = ir.in_layer("cloudflare")
    adopt_addresses([r for r in desired if not isinstance(r, (CfDnsRecord, CfOriginPullCertificate))], live)
    pair_records([r for r in desired if isinstance(r, CfDnsRecord)], live)
    pair_client_certificates(ir.of(CfOriginPullCertificate), live)
    live.owned = owned_addresses(ir.estate.name, live.resources)
    # every zone has its settings: importing them takes nothing over that the spec does not already set
    live.claimed = live.owned | {r.address for r in live.resources if isinstance(r, (CfZoneSetting, CfOriginPulls))}
    return live


def owned_addresses(spec_name: str, resources: list[Resource]) -> set[str]:
    """The resources carrying this spec's ownership marker: in a record's comment, a ruleset's
    description (zone settings and origin pulls have none: they are never edgec's to delete)."""
    def marked(resource: Resource) -> str | None:
        return resource.comment if isinstance(resource, CfDnsRecord) else (
            resource.description if isinstance(resource, CfRuleset) else None)

    return {r.address for r in resources if carries_marker(spec_name, marked(r))}


def pair_records(desired: list[CfDnsRecord], live: LiveLayer) -> None:
    """Records pair by zone, name and type; where several share those on either side, by content. A
    paired live record takes the desired one's address, the others the name the builder would give
    them (by name and type, and content where several share those)."""
    groups: dict[tuple, tuple[list[CfDnsRecord], list[CfDnsRecord]]] = defaultdict(lambda: ([], []))
    for record in desired:
        groups[(record.zone, record.fqdn, record.type)][0].append(record)
    for record in live.resources:
        if isinstance(record, CfDnsRecord):
            groups[(record.zone, record.fqdn, record.type)][1].append(record)
    names: dict[int, str] = {}
    for (_, fqdn, rtype), (wanted, found) in groups.items():
        if len(wanted) <= 1 and len(found) <= 1:
            pairs = [(wanted[0] if wanted else None, found[0])] if found else []
        else:
            remaining = list(found)
            pairs = []
            for want in wanted:
                match = next((r for r in remaining if _same_value(r, want)), None)
                if match is not None:
                    remaining.remove(match)
                    pairs.append((want, match))
            pairs += [(None, r) for r in remaining]
        for want, have in pairs:
            own = slug(fqdn, rtype.lower())
            if len(found) > 1:
                own += f"_{short_hash(have.content or repr(have.data))}"
            names[id(have)] = want.name if want is not None else own
    rename(live, names, taken={r.address for r in desired})


def pair_client_certificates(desired: list[CfOriginPullCertificate], live: LiveLayer) -> None:
    """A zone's client certificate pairs with the live one of the same fingerprint, else with the newest
    (a rotation, which replaces it); any other is shown, never deleted."""
    wanted = {c.zone: c for c in desired}
    names: dict[int, str] = {}
    for zone, want in wanted.items():
        found = [c for c in live.resources if isinstance(c, CfOriginPullCertificate) and c.zone == zone]
        match = next((c for c in found if c.fingerprint == want.fingerprint), found[0] if found else None)
        if match is not None:
            names[id(match)] = want.name
    rename(live, names, taken={c.address for c in desired})


def _same_value(a: CfDnsRecord, b: CfDnsRecord) -> bool:
    return record_content(a) == record_content(b) and a.data == b.data


def account_zones(account: str | None, client: cloudflare.Cloudflare) -> dict[str, tuple[str, str | None]]:
    """Every zone of the account (or that the token can see): name -> (ID, account ID)."""
    where = f"account {account}" if account else "the account the token can see"
    filters = {"account": {"id": account}} if account else {}
    listing = f"the zones of {where}"
    listed = _list_all(listing, "zones", client.zones.list, per_page=ZONE_PAGE_SIZE, **filters)
    with answer_of(listing):
        return {name: (zone_id, optional_text(getattr(getattr(z, "account", None), "id", None), "account.id"))
                for z in listed for name, zone_id in [_zone_name_and_id(z)]
                if getattr(z, "status", None) not in GONE_STATUSES}


def _zone_name_and_id(zone: Any) -> tuple[str, str]:
    return text(getattr(zone, "name", None), "name"), text(getattr(zone, "id", None), "id")


def _zone_ids(account: str | None, client: cloudflare.Cloudflare, zones: list[str]) -> dict[str, str]:
    """Zone name -> ID. One listing of the account's zones costs ceil(its zones / 50) calls; in an
    account of many more zones than the spec has, a lookup by name per spec zone costs fewer."""
    where = f"account {account}" if account else "the account the token can see"
    filters = {"account": {"id": account}} if account else {}
    listing = f"the zones of {where}"
    first = _list_page(listing, client.zones.list, per_page=ZONE_PAGE_SIZE, **filters)
    if _pages_left(listing, first) > len(zones):
        listed = [z for zone in zones for z in _list_all(
            f"zone {zone}", "zones", client.zones.list, name=zone, per_page=ZONE_PAGE_SIZE, **filters)]
    else:
        listed = _list_all(listing, "zones", client.zones.list, first=first, per_page=ZONE_PAGE_SIZE, **filters)
    ids: dict[str, list[str]] = {}
    with answer_of(listing):
        for name, zone_id in map(_zone_name_and_id, listed):
            ids.setdefault(name, []).append(zone_id)
    for zone in zones:
        if len(ids.get(zone, [])) != 1:
            raise ReadError(f"zone {zone}", f"not found in {where}; fix: check the zone's name and account, and "
                                            "that the token has Zone Read on it" if zone not in ids
                            else "the name matches several zones")
    return {zone: ids[zone][0] for zone in zones}


def _call(what: str, fn, *args, absent_ok: bool = False, **kwargs):
    """The SDK call, or a ReadError saying what could not be read. With `absent_ok`, a 404 (the API's
    explicit "there is none") gives None; a null result never does."""
    try:
        answer = fn(*args, **kwargs)
    except cloudflare.NotFoundError as exc:
        if absent_ok:
            return None
        raise ReadError(what, f"HTTP 404: {_errors(exc)}") from None
    except cloudflare.APIStatusError as exc:
        raise refused(what, exc, _errors(exc)) or ReadError(what, f"HTTP {exc.status_code}: {_errors(exc)}") from None
    except cloudflare.APIError as exc:  # connection failures and timeouts, after the SDK's retries
        raise ReadError(what, str(exc) or type(exc).__name__) from None
    # a body that is not JSON (the SDK's json() raises), or not the object the SDK builds its answer on
    except (ValueError, TypeError, AttributeError) as exc:
        raise unparsable(what, exc) from None
    if answer is None:  # the SDK unwraps `result`: null is no answer, not "there is none"
        raise malformed(what, "its result is null")
    return answer


def _errors(exc: cloudflare.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    messages = [e.get("message", "") for e in body.get("errors", []) if isinstance(e, dict)]
    return "; ".join(m for m in messages if m) or exc.message


def _read_zone(client: cloudflare.Cloudflare, zone: str, zone_id: str,
               client_certs: bool | None) -> tuple[list[Resource], dict[int, str]]:
    """The zone's resources, and the API ID of each record, ruleset and client certificate (by the
    object's id()). Client certificates cost a call, made only for zones the spec gives one
    (`client_certs` None: for zones with origin pulls on)."""
    records = _list_all(f"DNS records of {zone}", "records", client.dns.records.list, zone_id=zone_id,
                        per_page=DNS_PAGE_SIZE)
    with answer_of(f"DNS records of {zone}"):
        resources: list[Resource] = [_record(zone, r) for r in records]
    ids = {id(resource): r.id for resource, r in zip(resources, records)}
    resources += _read_settings(client, zone, zone_id)
    for ruleset, ruleset_id in _read_rulesets(client, zone, zone_id):
        ids[id(ruleset)] = ruleset_id
        resources.append(ruleset)
    pulls = _call(f"authenticated origin pulls of {zone}", client.origin_tls_client_auth.settings.get,
                  zone_id=zone_id)
    with answer_of(f"authenticated origin pulls of {zone}"):
        pulled = flag(getattr(pulls, "enabled", None), "enabled")
    if pulled:
        resources.append(CfOriginPulls(slug(zone), (), zone, True))
    if client_certs or (client_certs is None and pulled):
        for cert in _read_client_certificates(client, zone, zone_id):
            ids[id(cert[0])] = cert[1]
            resources.append(cert[0])
    return resources, ids


def _read_client_certificates(client: cloudflare.Cloudflare, zone: str,
                              zone_id: str) -> list[tuple[CfOriginPullCertificate, str]]:
    """The zone's client certificates that are or will be in use (not being deleted), with their IDs,
    newest first."""
    what = f"origin-pull client certificates of {zone}"
    # SDK 5 moved the listing to `zone_certificates` (same endpoint); 4.x has it at the top
    certificates = getattr(client.origin_tls_client_auth, "zone_certificates", client.origin_tls_client_auth)
    listed = _list_page(what, certificates.list, zone_id=zone_id)
    out = []
    for cert in sorted(listed.result, key=lambda c: str(getattr(c, "uploaded_on", "") or ""), reverse=True):
        if getattr(cert, "status", None) in GONE_STATUSES:
            continue
        if not isinstance(getattr(cert, "id", None), str) or not isinstance(getattr(cert, "certificate", None), str) \
                or (found := fingerprint(cert.certificate)) is None:
            raise ReadError(what, "the API returned a certificate without an ID or a PEM certificate")
        out.append((CfOriginPullCertificate(f"{slug(zone)}_{short_hash(cert.id)}", (), zone, found,
                                            pem=cert.certificate), cert.id))
    return out


def _list_all(what: str, noun: str, list_fn, first=None, **params) -> list:
    """Every item of a paginated listing (from its `first` page, if already read). One that comes back
    shorter or longer than it reports, or runs on past the pages its first answer implies, is a
    ReadError."""
    page = first if first is not None else _list_page(what, list_fn, **params)
    expected = _total_count(what, page)
    pages = PageCount(what, _implied_pages(what, page, expected))
    found = list(page.result)
    # Stop at total_pages, or once every item reported is read: the SDK alone would ask for one more,
    # empty, page.
    while _more_pages(what, page) and page.has_next_page() and len(found) < expected:
        pages.another()
        previous, page = page, _list_page(what, page.get_next_page)
        if _ids(page) == _ids(previous):
            raise ReadError(what, "the listing does not end: the API answered the same page again "
                                  "(it ignores the page asked for)")
        found += page.result
    if len(found) != expected:
        raise ReadError(what, f"the listing is incomplete: {len(found)} {noun} read, {expected} reported")
    return found


def _ids(page) -> list:
    return [getattr(item, "id", None) for item in page.result]


def _list_page(what: str, list_fn, **params):
    """One page of a listing, whose `result` is a list."""
    page = _call(what, list_fn, **params)
    with answer_of(what):
        items(getattr(page, "result", None), "result")
    return page


def _result_info(what: str, page) -> tuple[int | None, int | None, int | None]:
    """(page, total_pages, total_count) as the answer gives them (None where it does not)."""
    info = getattr(page, "result_info", None)
    with answer_of(what):
        return tuple(None if (value := getattr(info, name, None)) is None else number(value, name)
                     for name in ("page", "total_pages", "total_count"))  # type: ignore[return-value]


def _total_count(what: str, page) -> int:
    total = _result_info(what, page)[2]
    if total is None:
        raise malformed(what, "its result_info has no total_count")
    return total


def _implied_pages(what: str, page, expected: int) -> int:
    """The pages the first answer says the listing has: its total_pages, else its total_count over the
    length of its page."""
    total_pages = _result_info(what, page)[1]
    return total_pages if total_pages is not None else max(1, math.ceil(expected / max(1, len(page.result))))


def _pages_left(what: str, page) -> int:
    current, total, _ = _result_info(what, page)
    return total - (current or 1) if total else 0


def _more_pages(what: str, page) -> bool:
    current, total, _ = _result_info(what, page)
    return total is None or (current or 1) < total


def _record(zone: str, r: Any) -> CfDnsRecord:
    """Named as the builder names an extra record, with the API ID's digest added (until paired: several
    records may share a name and type)."""
    record_id, rtype = text(getattr(r, "id", None), "id"), text(getattr(r, "type", None), "type")
    fqdn = text(getattr(r, "name", None), "name").rstrip(".").lower()
    data_pairs = _data(getattr(r, "data", None))
    proxied = getattr(r, "proxied", None)
    priority = getattr(r, "priority", None)
    return CfDnsRecord(f"{slug(fqdn, rtype.lower())}_{short_hash(record_id)}", (), zone, fqdn, rtype,
                       number(getattr(r, "ttl", None), "ttl"), False if proxied is None else flag(proxied, "proxied"),
                       content=None if data_pairs else optional_text(getattr(r, "content", None), "content"),
                       priority=None if priority is None else number(priority, "priority"),
                       comment=optional_text(getattr(r, "comment", None), "comment"), data=data_pairs)


def _data(data: Any) -> tuple[tuple[str, Any], ...] | None:
    """A record's structured data (SRV, CAA) as sorted pairs."""
    if not data:
        return None
    fields = data.model_dump() if hasattr(data, "model_dump") else data
    if not isinstance(fields, dict):
        raise Malformed(f"data {shown(fields)} is not an object")
    return tuple(sorted((k, _number(v)) for k, v in fields.items() if v is not None))


def _number(value: Any) -> Any:
    """The SDK types record data numbers as floats (5060.0): whole ones are ints, as the spec writes them."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _read_settings(client: cloudflare.Cloudflare, zone: str, zone_id: str) -> list[Resource]:
    """All of the zone's settings in one call ("Get all zone settings"). The SDK has no method for it,
    so it goes through the client's generic GET, which keeps the pacing, counting, retries and auth."""
    what = f"settings of {zone}"
    body = _call(what, client.get, f"/zones/{zone_id}/settings", cast_to=object)
    listed = body.get("result") if isinstance(body, dict) else None
    if not isinstance(listed, list):
        raise ReadError(what, "the API returned no list of settings")
    values = {s.get("id"): s.get("value") for s in listed if isinstance(s, dict)}
    out: list[Resource] = []
    for setting in ZONE_SETTINGS:
        if values.get(setting) is None:
            raise ReadError(f"setting {setting} of {zone}", "the API returned no value")
        out.append(CfZoneSetting(slug(zone, setting), (), zone, setting, _without_nulls(values[setting])))
    return out


def _without_nulls(value: Any) -> Any:
    # Unset fields of an object value may come back as null; the SDK's models dropped them, and so
    # must we, or they would show as differences from the spec.
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def _read_rulesets(client: cloudflare.Cloudflare, zone: str, zone_id: str) -> list[tuple[CfRuleset, str]]:
    """The zone's entry-point rulesets, with their IDs."""
    out = []
    for phase in PHASES:
        ruleset = _call(f"{phase} ruleset of {zone}", client.rulesets.phases.get, phase, zone_id=zone_id,
                        absent_ok=True)
        if ruleset is None:
            continue  # this zone has no entry point for the phase
        with answer_of(f"{phase} ruleset of {zone}"):
            rules = tuple(_rule(r) for r in items(getattr(ruleset, "rules", None) or [], "rules"))
            out.append((CfRuleset(slug(zone, phase.rsplit("_", 1)[-1]), (), zone, phase,
                                  optional_text(getattr(ruleset, "description", None), "description") or "", rules),
                        text(getattr(ruleset, "id", None), "id")))
    return out


def _rule(rule: Any) -> WafRule:
    if not hasattr(rule, "model_dump"):
        raise Malformed(f"rule {shown(rule)} is not an object")
    dump = rule.model_dump(exclude_none=True)
    parameters, ratelimit = dump.get("action_parameters"), dump.get("ratelimit")
    if not isinstance(parameters, (dict, type(None))) or not isinstance(ratelimit, (dict, type(None))):
        raise Malformed("a rule's action_parameters or ratelimit is not an object")
    return WafRule(text(dump.get("ref", dump.get("id", "")), "ref"), text(dump.get("description", ""), "description"),
                   text(dump.get("expression", ""), "expression"), text(dump.get("action", ""), "action"),
                   flag(dump.get("enabled", True), "enabled"), parameters, ratelimit)
