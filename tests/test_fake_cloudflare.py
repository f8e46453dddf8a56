"""The fake Cloudflare API (edgec.sandbox.fake_cloudflare) on loopback.

Three angles: the official `cloudflare` SDK uses it as it would use Cloudflare; every kind of response
is checked against the response schemas in Cloudflare's OpenAPI document; and raw HTTP checks what the
SDK hides (status codes, headers, error codes, fault injection, call counts).
"""

import collections
import copy
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

import cloudflare
import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from conftest import ROOT
from edgec.sandbox.fake_cloudflare import DEFAULT_SETTINGS, ApiError, FakeCloudflare

OPENAPI_FILE = ROOT.parent / "shared" / "data" / "cloudflare-openapi-2024-08-07.json"
needs_openapi = pytest.mark.skipif(not OPENAPI_FILE.exists(), reason=f"{OPENAPI_FILE} not found (../shared/data)")

LIST_RECORDS = ("GET", "/zones/{zone_id}/dns_records")


@pytest.fixture
def fake():
    with FakeCloudflare() as server:
        yield server


@pytest.fixture
def zone_id(fake):
    return fake.add_zone("example.com")


@pytest.fixture
def client(fake):
    with cloudflare.Cloudflare(api_token=fake.token, base_url=fake.base_url, max_retries=0) as sdk:
        yield sdk


def call(fake, path, *, method="GET", query=None, body=None, token="test-token"):
    """One raw request; returns (status, headers, parsed JSON body)."""
    url = fake.base_url + path + ("?" + urllib.parse.urlencode(query) if query else "")
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.load(response)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, json.load(error)


def error_code(body):
    assert body["success"] is False and body["result"] is None
    return body["errors"][0]["code"]


def seed_records(fake, zone_id, n):
    for i in range(n):
        fake.add_dns_record(zone_id, type="A", name=f"host{i}", content=f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")


# --- the official SDK as the client ------------------------------------------------------------

def test_start_returns_the_loopback_base_url():
    fake = FakeCloudflare()
    try:
        url = fake.start()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/client/v4", url) and url == fake.base_url
    finally:
        fake.stop()
    with pytest.raises(RuntimeError):
        fake.base_url


def test_sdk_lists_zones_across_pages_with_filters(fake, client):
    names = [f"zone{i}.example" for i in range(7)]
    other_account = "a" * 32
    ids = [fake.add_zone(name, account_id=other_account if i % 2 else "b" * 32) for i, name in enumerate(names)]

    assert [z.name for z in client.zones.list(per_page=5)] == names
    # The SDK stops on an empty page, not on total_pages: two pages of zones cost three calls.
    assert fake.calls == [("GET", "/zones")] * 3
    assert [z.id for z in client.zones.list(name="Zone3.example")] == [ids[3]]
    assert [z.name for z in client.zones.list(account={"id": other_account})] == names[1::2]


def test_sdk_auto_paginates_dns_records_and_filters(fake, zone_id, client):
    seed_records(fake, zone_id, 23)
    fake.add_dns_record(zone_id, type="TXT", name="host5", content="v=spf1 -all")
    fake.reset_calls()

    records = list(client.dns.records.list(zone_id=zone_id, per_page=10))

    assert len({r.id for r in records}) == 24
    assert records[0].name == "host0.example.com" and records[0].content == "10.0.0.0"
    assert fake.calls == [LIST_RECORDS] * 4  # 3 pages and the empty one that ends the SDK's loop
    by_name = list(client.dns.records.list(zone_id=zone_id, name={"exact": "HOST5.example.com"}))
    assert sorted(r.type for r in by_name) == ["A", "TXT"]
    assert [r.content for r in client.dns.records.list(zone_id=zone_id, type="TXT")] == ["v=spf1 -all"]


def test_sdk_reads_settings_rulesets_and_origin_pulls(fake, zone_id, client):
    fake.set_setting(zone_id, "min_tls_version", "1.2")
    fake.set_entrypoint_ruleset(zone_id, "http_request_firewall_custom",
                                [{"action": "block", "expression": 'http.request.uri.path eq "/admin"'}],
                                description="edgec:acme custom rules")
    fake.set_origin_pulls(zone_id, True)

    assert client.zones.settings.get("min_tls_version", zone_id=zone_id).value == "1.2"
    assert client.zones.settings.get("ssl", zone_id=zone_id).value == DEFAULT_SETTINGS["ssl"]
    ruleset = client.rulesets.phases.get("http_request_firewall_custom", zone_id=zone_id)
    assert (ruleset.phase, ruleset.kind, ruleset.description) == (
        "http_request_firewall_custom", "zone", "edgec:acme custom rules")
    assert [(r.action, r.expression, r.enabled) for r in ruleset.rules] == [
        ("block", 'http.request.uri.path eq "/admin"', True)]
    assert client.origin_tls_client_auth.settings.get(zone_id=zone_id).enabled is True


def test_all_settings_of_a_zone_in_one_call(fake, zone_id, client):
    """The SDK has no method for "Get all zone settings"; its generic GET reaches it."""
    fake.set_setting(zone_id, "min_tls_version", "1.2")
    fake.reset_calls()

    body = client.get(f"/zones/{zone_id}/settings", cast_to=object)

    assert {s["id"]: s["value"] for s in body["result"]} == {**DEFAULT_SETTINGS, "min_tls_version": "1.2"}
    assert fake.calls == [("GET", "/zones/{zone_id}/settings")]
    fake.remove_setting(zone_id, "tls_1_3")
    assert "tls_1_3" not in {s["id"] for s in client.get(f"/zones/{zone_id}/settings", cast_to=object)["result"]}


def test_sdk_writes_dns_records(fake, zone_id, client):
    created = client.dns.records.create(zone_id=zone_id, type="A", name="api", content="192.0.2.10",
                                        ttl=300, proxied=True, comment="edgec:acme")
    assert (created.name, created.proxied, created.proxiable, created.ttl) == ("api.example.com", True, True, 300)

    # PATCH keeps what it is not given (the comment, proxied); PUT replaces the whole record.
    patched = client.dns.records.edit(created.id, zone_id=zone_id, type="A", name="api", ttl=300,
                                      content="192.0.2.11")
    assert (patched.content, patched.comment, patched.proxied) == ("192.0.2.11", "edgec:acme", True)
    replaced = client.dns.records.update(created.id, zone_id=zone_id, type="CNAME", name="api", ttl=1,
                                         content="lb.example.net")
    assert (replaced.type, replaced.comment, replaced.proxied, replaced.created_on) == (
        "CNAME", None, False, created.created_on)
    assert client.dns.records.get(created.id, zone_id=zone_id).content == "lb.example.net"
    assert [r.id for r in client.dns.records.list(zone_id=zone_id, type="CNAME")] == [created.id]
    assert list(client.dns.records.list(zone_id=zone_id, type="A")) == []

    assert client.dns.records.delete(created.id, zone_id=zone_id).id == created.id
    with pytest.raises(cloudflare.NotFoundError):
        client.dns.records.get(created.id, zone_id=zone_id)
    assert list(client.dns.records.list(zone_id=zone_id, name={"exact": "api.example.com"})) == []


def test_sdk_sees_cloudflare_error_statuses(fake, zone_id, client):
    with cloudflare.Cloudflare(api_token="wrong", base_url=fake.base_url, max_retries=0) as intruder:
        with pytest.raises(cloudflare.PermissionDeniedError):
            intruder.zones.get(zone_id=zone_id)
    with pytest.raises(cloudflare.NotFoundError):
        client.zones.get(zone_id="0" * 32)
    fake.throttle_next(1, retry_after=3)
    with pytest.raises(cloudflare.RateLimitError) as throttled:
        client.zones.get(zone_id=zone_id)
    assert throttled.value.response.headers["retry-after"] == "3"


# --- responses against Cloudflare's OpenAPI document ------------------------------------------

# Where the live API and the 2024 document disagree, the fake follows the live API; each such spot
# is patched here (a path under components/schemas), so the deviations stay few and visible.
LIVE_API_DEVIATIONS = {
    # A record without a comment comes back with "comment": null; the document says string.
    "dns-records_comment": {"nullable": True},
    # The API's rate-limit error is code 971; the document puts every error code at 1000 or above.
    "zones_messages/items/properties/code": {"minimum": 1},
}
DOC_URI = "urn:cloudflare-openapi-2024-08-07"


def to_json_schema(node):
    """OpenAPI 3.0 schema objects -> JSON Schema: `nullable: true` becomes "or null".

    Only a boolean `nullable` is the keyword; a dict under that name would be a property called
    "nullable". Everything else OpenAPI adds (discriminator, readOnly, example) is ignored by
    JSON Schema validators anyway."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: to_json_schema(value) for key, value in node.items()
                 if not (key == "nullable" and isinstance(value, bool))}
    return {"anyOf": [{"type": "null"}, converted]} if node.get("nullable") is True else converted


@pytest.fixture(scope="module")
def openapi():
    doc = json.loads(OPENAPI_FILE.read_text())
    patched = copy.deepcopy(doc)
    for path, patch in LIVE_API_DEVIATIONS.items():
        target = patched["components"]["schemas"]
        for key in path.split("/"):
            target = target[key]
        target.update(patch)
    registry = Registry().with_resource(DOC_URI, Resource(to_json_schema(patched), specification=DRAFT7))
    return doc, registry


def operation_schema(doc, path, method, status):
    """A $ref to the JSON response schema of one operation (following a shared response $ref)."""
    response = doc["paths"][path][method]["responses"][status]
    pointer = response["$ref"][1:] if "$ref" in response else "/".join(
        ["", "paths", path.replace("~", "~0").replace("/", "~1"), method, "responses", status])
    return {"$ref": DOC_URI + "#" + urllib.parse.quote(pointer + "/content/application~1json/schema")}


def component_schema(name):
    return {"$ref": f"{DOC_URI}#/components/schemas/{name}"}


def schema_errors(openapi, schema, body):
    # Draft 7 ignores keywords beside $ref, as OpenAPI 3.0 does; formats (date-time, ipv4) are checked.
    validator = Draft7Validator(schema, registry=openapi[1], format_checker=Draft7Validator.FORMAT_CHECKER)
    return [f"{list(e.absolute_path)}: {e.message[:300]}" for e in validator.iter_errors(body)]


@pytest.fixture
def estate(fake, zone_id):
    """A zone with one record of each type edgec writes, a ruleset and an object-valued setting."""
    records = [
        dict(type="A", name="www", content="192.0.2.1", proxied=True),
        dict(type="AAAA", name="www", content="2001:db8::1", comment="edgec:acme", tags=["owner:edge"]),
        dict(type="CNAME", name="api", content="lb.example.net", proxied=True, ttl=300),
        dict(type="MX", name="@", content="mx.example.com", priority=10),
        dict(type="TXT", name="@", content="v=spf1 -all"),
        dict(type="SRV", name="_sip._tcp",
             data={"priority": 10, "weight": 5, "port": 5060, "target": "sip.example.com"}),
        dict(type="CAA", name="@", data={"flags": 0, "tag": "issue", "value": "letsencrypt.org"}),
    ]
    ids = [fake.add_dns_record(zone_id, **fields)["id"] for fields in records]
    fake.set_entrypoint_ruleset(zone_id, "http_request_firewall_custom", [
        {"action": "block", "expression": 'http.request.uri.path eq "/admin"', "description": "no admin"},
        {"action": "skip", "expression": "ip.src in {192.0.2.0/24}", "action_parameters": {"ruleset": "current"}},
    ])
    fake.set_setting(zone_id, "min_tls_version", "1.2")
    fake.add_client_certificate(zone_id, (ROOT / "tests" / "testdata" / "origin-pull.pem").read_text())
    return {"zone": zone_id, "record": ids[0], "srv": ids[5], "missing": "0" * 32}


READ_CASES = {
    "zones list": ("/zones", ("/zones", "get", "200")),
    "zone": ("/zones/{zone}", ("/zones/{zone_id}", "get", "200")),
    "dns records list": ("/zones/{zone}/dns_records", ("/zones/{zone_id}/dns_records", "get", "200")),
    "dns record": ("/zones/{zone}/dns_records/{record}",
                   ("/zones/{zone_id}/dns_records/{dns_record_id}", "get", "200")),
    "srv record": ("/zones/{zone}/dns_records/{srv}", ("/zones/{zone_id}/dns_records/{dns_record_id}", "get", "200")),
    "entrypoint ruleset": ("/zones/{zone}/rulesets/phases/http_request_firewall_custom/entrypoint",
                           ("/zones/{zone_id}/rulesets/phases/{ruleset_phase}/entrypoint", "get", "200")),
    "setting (string)": ("/zones/{zone}/settings/min_tls_version",
                         ("/zones/{zone_id}/settings/{setting_id}", "get", "200")),
    "setting (object)": ("/zones/{zone}/settings/security_header",
                         ("/zones/{zone_id}/settings/{setting_id}", "get", "200")),
    "all settings": ("/zones/{zone}/settings", ("/zones/{zone_id}/settings", "get", "200")),
    "origin pulls": ("/zones/{zone}/origin_tls_client_auth/settings",
                     ("/zones/{zone_id}/origin_tls_client_auth/settings", "get", "200")),
    "client certificates": ("/zones/{zone}/origin_tls_client_auth",
                            ("/zones/{zone_id}/origin_tls_client_auth", "get", "200")),
    "error: unknown zone": ("/zones/{missing}", ("/zones/{zone_id}", "get", "4XX")),
    "error: all settings of an unknown zone": ("/zones/{missing}/settings",
                                               ("/zones/{zone_id}/settings", "get", "4XX")),
    "error: no entrypoint": ("/zones/{zone}/rulesets/phases/http_ratelimit/entrypoint",
                             ("/zones/{zone_id}/rulesets/phases/{ruleset_phase}/entrypoint", "get", "4XX")),
    # The document's own 4xx schema for DNS records cannot be met (see the test below), so errors
    # are checked against the failure envelope it is built from.
    "error: unknown record": ("/zones/{zone}/dns_records/{missing}", "dns-records_api-response-common-failure"),
}


@needs_openapi
@pytest.mark.parametrize("case", READ_CASES)
def test_read_responses_match_openapi(openapi, fake, estate, case):
    path, schema = READ_CASES[case]
    status, _, body = call(fake, path.format(**estate))
    assert (status < 400) == (not case.startswith("error")), body
    schema = operation_schema(openapi[0], *schema) if isinstance(schema, tuple) else component_schema(schema)
    assert schema_errors(openapi, schema, body) == []


@needs_openapi
def test_write_responses_match_openapi(openapi, fake, estate):
    zone, doc = estate["zone"], openapi[0]
    collection, single = "/zones/{zone_id}/dns_records", "/zones/{zone_id}/dns_records/{dns_record_id}"
    writes = [
        ("POST", f"/zones/{zone}/dns_records", {"type": "A", "name": "new", "content": "192.0.2.7"}, collection),
        ("PATCH", f"/zones/{zone}/dns_records/{estate['record']}", {"proxied": False}, single),
        ("PUT", f"/zones/{zone}/dns_records/{estate['record']}",
         {"type": "TXT", "name": "www", "content": "hello"}, single),
        ("DELETE", f"/zones/{zone}/dns_records/{estate['record']}", None, single),
        ("PATCH", f"/zones/{zone}/settings/always_use_https", {"value": "on"},
         "/zones/{zone_id}/settings/{setting_id}"),
    ]
    for method, path, body, doc_path in writes:
        status, _, answer = call(fake, path, method=method, body=body)
        assert status == 200, answer
        assert schema_errors(openapi, operation_schema(doc, doc_path, method.lower(), "200"), answer) == [], method


@needs_openapi
@pytest.mark.parametrize("provoke", ["no token", "throttled", "failed"])
def test_refusals_match_the_openapi_failure_envelope(openapi, fake, zone_id, provoke):
    if provoke == "throttled":
        fake.throttle_next(1)
    if provoke == "failed":
        fake.fail_next(1)
    _, _, body = call(fake, f"/zones/{zone_id}", token=None if provoke == "no token" else "test-token")
    assert schema_errors(openapi, component_schema("zones_api-response-common-failure"), body) == []


@needs_openapi
def test_openapi_dns_error_schema_cannot_be_met(openapi):
    """Why DNS errors are checked against the failure component: the operation's 4xx schema is
    allOf(success envelope with success: true, failure envelope with success: false)."""
    example_failure = {"success": False, "errors": [{"code": 7003, "message": "No route for the URI"}],
                       "messages": [], "result": None}
    schema = operation_schema(openapi[0], "/zones/{zone_id}/dns_records/{dns_record_id}", "get", "4xx")
    assert any("success" in error for error in schema_errors(openapi, schema, example_failure))


@needs_openapi
def test_default_settings_are_the_documented_defaults(openapi):
    schemas = openapi[0]["components"]["schemas"]
    for setting in ("ssl", "min_tls_version", "always_use_https", "tls_1_3"):
        assert DEFAULT_SETTINGS[setting] == schemas[f"zones_{setting}_value"]["default"], setting


# --- auth, errors and fault injection over raw HTTP ----------------------------------------------

def test_requests_without_the_right_token_get_403(fake, zone_id):
    for token in (None, "wrong-token"):
        status, _, body = call(fake, f"/zones/{zone_id}", token=token)
        assert status == 403 and error_code(body) == 10000
        assert body["errors"][0]["message"] == "Authentication error"
    assert fake.calls == [("GET", "/zones/{zone_id}")] * 2  # refused requests are counted too


def test_unknown_objects_and_routes_get_404(fake, zone_id):
    status, _, body = call(fake, f"/zones/{'0' * 32}")
    assert status == 404 and error_code(body) == 7003
    status, _, body = call(fake, f"/zones/{zone_id}/dns_records/{'0' * 32}")
    assert status == 404 and error_code(body) == 81044
    status, _, body = call(fake, f"/zones/{zone_id}/rulesets/phases/http_ratelimit/entrypoint")
    assert status == 404 and error_code(body) == 10003
    status, _, body = call(fake, f"/zones/{zone_id}/settings/not_a_setting")
    assert status == 404 and error_code(body) == 7003
    status, _, body = call(fake, f"/zones/{zone_id}/workers")
    assert status == 404 and error_code(body) == 7000


def test_throttle_next_answers_429_with_retry_after(fake, zone_id):
    fake.throttle_next(2, retry_after=7)
    for _ in range(2):
        status, headers, body = call(fake, f"/zones/{zone_id}")
        assert (status, headers["Retry-After"], error_code(body)) == (429, "7", 971)
    assert call(fake, f"/zones/{zone_id}")[0] == 200


def test_fail_next_fails_that_many_requests(fake, zone_id):
    fake.fail_next(1, status=503)
    fake.fail_next(1)
    assert [call(fake, f"/zones/{zone_id}")[0] for _ in range(3)] == [503, 500, 200]


def test_fail_next_can_pick_a_route(fake, zone_id):
    fake.fail_next(1, status=502, route="/zones/{zone_id}/settings")
    assert call(fake, f"/zones/{zone_id}")[0] == 200
    assert call(fake, f"/zones/{zone_id}/settings/ssl")[0] == 200
    assert [call(fake, f"/zones/{zone_id}/settings")[0] for _ in range(2)] == [502, 200]


def test_truncated_page_is_detectable_from_result_info(fake, zone_id):
    seed_records(fake, zone_id, 25)
    fake.truncate_next_page()

    _, _, short = call(fake, f"/zones/{zone_id}/dns_records", query={"per_page": 10})
    assert len(short["result"]) == 9
    assert short["result_info"] == {"page": 1, "per_page": 10, "count": 10, "total_count": 25, "total_pages": 3}
    _, _, whole = call(fake, f"/zones/{zone_id}/dns_records", query={"per_page": 10})
    assert len(whole["result"]) == whole["result_info"]["count"] == 10


def test_page_size_limits(fake, zone_id):
    status, _, body = call(fake, f"/zones/{zone_id}/dns_records", query={"per_page": 5001})
    assert status == 400 and error_code(body) == 1004
    assert call(fake, f"/zones/{zone_id}/dns_records", query={"per_page": 5000})[0] == 200
    assert call(fake, "/zones", query={"per_page": 51})[0] == 400
    assert call(fake, "/zones", query={"per_page": 50, "page": 2})[0] == 200


def test_unimplemented_filters_are_refused_not_ignored(fake, zone_id):
    status, _, body = call(fake, f"/zones/{zone_id}/dns_records", query={"content": "192.0.2.1"})
    assert status == 400 and "content" in body["errors"][0]["message"]
    assert call(fake, "/zones", query={"name": "contains:example"})[0] == 400


def test_ten_thousand_records_seed_fast_and_list_in_two_calls(fake, zone_id):
    started = time.perf_counter()
    seed_records(fake, zone_id, 10_000)
    assert time.perf_counter() - started < 3

    fake.reset_calls()
    ids, page, total_pages = set(), 1, 1
    while page <= total_pages:  # what a careful client does: trust result_info, not an empty page
        _, _, body = call(fake, f"/zones/{zone_id}/dns_records", query={"per_page": 5000, "page": page})
        assert len(body["result"]) == body["result_info"]["count"]
        ids.update(record["id"] for record in body["result"])
        total_pages, page = body["result_info"]["total_pages"], page + 1

    assert len(ids) == 10_000
    assert fake.calls == [LIST_RECORDS] * 2


def test_rate_limit_blocks_for_the_whole_window():
    now = [1000.0]
    with FakeCloudflare(rate_limit=(3, 300), clock=lambda: now[0]) as fake:
        zone_id = fake.add_zone("example.com")
        assert [call(fake, f"/zones/{zone_id}")[0] for _ in range(3)] == [200] * 3
        status, headers, body = call(fake, f"/zones/{zone_id}")
        assert (status, headers["Retry-After"], error_code(body)) == (429, "300", 971)
        now[0] += 100
        assert call(fake, f"/zones/{zone_id}")[1]["Retry-After"] == "200"
        now[0] += 200
        assert call(fake, f"/zones/{zone_id}")[0] == 200


def test_malformed_writes_get_400(fake, zone_id):
    status, _, body = call(fake, f"/zones/{zone_id}/dns_records", method="POST",
                           body={"type": "TXT", "name": "x", "content": "y", "proxied": True})
    assert status == 400 and error_code(body) == 1004
    status, _, body = call(fake, f"/zones/{zone_id}/settings/ssl", method="PATCH", body={"vlaue": "strict"})
    assert status == 400 and error_code(body) == 1007
    assert collections.Counter(fake.calls)[("POST", "/zones/{zone_id}/dns_records")] == 1


def test_seeding_validates_like_the_api(fake, zone_id):
    with pytest.raises(ApiError, match="priority"):
        fake.add_dns_record(zone_id, type="MX", name="@", content="mx.example.com")
    with pytest.raises(ApiError, match="ttl"):
        fake.add_dns_record(zone_id, type="A", name="a", content="192.0.2.1", ttl=5)
    with pytest.raises(KeyError):
        fake.add_dns_record("f" * 32, type="A", name="a", content="192.0.2.1")
    with pytest.raises(ValueError, match="already exists"):
        fake.add_zone("Example.com.")
    assert fake.calls == []
