"""`edgec plan` against the fake Cloudflare API over HTTP, with the official SDK as client."""

import bisect
import collections
import json
import math
import re
import sys
import urllib.request

import pytest

from aws_support import applied_example
from conftest import ROOT, run_cli
from edgec.read.budget import DEFAULT_CLOUDFLARE_RATE, RateLimiter, cloudflare_burst
from edgec.sandbox.fake_cloudflare import FakeCloudflare
from edgec.sandbox.seed import seed_cloudflare
from edgec.spec.pem import fingerprint
from edgec.spec.validate import validate

SPEC_PATH = str(ROOT / "examples" / "public-api" / "edge.yaml")
SPEC = validate(SPEC_PATH).spec
pytestmark = pytest.mark.real_tool("moto_server")


@pytest.fixture()
def live(monkeypatch, tmp_path, moto_url):
    """The public-api example applied: AWS in moto, Cloudflare in the fake (records pointing at moto's NLBs)."""
    applied, _ = applied_example("public-api", tmp_path, monkeypatch, moto_url)
    with FakeCloudflare(token="test-token") as fake:
        zones = seed_cloudflare(fake, applied.spec, applied.desired, applied.nlb_dns_names)
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "test-token")
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", fake.base_url)
        monkeypatch.setattr(sys.modules[__name__], "SPEC_PATH", str(applied.spec_path))
        yield fake, zones["acme.com"]


def plan(*args):
    result = run_cli("plan", *args, SPEC_PATH)
    return result.exit_code, result.output


def plan_json():
    result = run_cli("plan", "--format", "json", SPEC_PATH)
    return result.exit_code, json.loads(result.stdout)  # progress lines go to stderr


def test_a_matching_estate_has_no_changes_in_every_format(live):
    code, output = plan()
    assert code == 0, output
    assert "No changes." in output and "API calls: aws " in output and ", cloudflare " in output
    code, report = plan_json()
    assert code == 0 and report["has_changes"] is False and report["changes"] == []
    code, markdown = plan("--format", "markdown")
    assert code == 0 and "✅ **No changes.**" in markdown
    assert report["schema_version"] == 1
    assert report["api_calls"]["cloudflare"] == 1 + 7  # the zone list, then acme.com: 6 calls and 1 for its client certificate
    assert report["layers_not_read"] == {
        "envoy": "no admin URL for gateway(s) partners, public (--envoy-admin GATEWAY=URL)"}
    assert report["layers_read"] == ["aws", "cloudflare"] and report["api_calls"]["aws"] > 0


def test_a_host_record_pointing_elsewhere_is_an_update(live):
    fake, zone_id = live
    fake.edit_dns_record(zone_id, "api.acme.com", "CNAME", content="someone-elses-lb.example.net")
    code, report = plan_json()
    assert code == 2
    (change,) = report["changes"]
    assert (change["action"], change["key"]) == ("update", "api.acme.com CNAME")
    assert change["attributes"][0]["live"] == "someone-elses-lb.example.net"


OLD_CLIENT_CERTIFICATE = (ROOT / "tests" / "testdata" / "origin-pull-old.pem").read_text()


def client_certificate_changes(report) -> list[tuple]:
    return [(c["action"], c["address"], [(a["desired"], a["live"]) for a in c["attributes"]])
            for c in report["changes"] if c["kind"] == "origin_pull_certificate"]


def test_a_client_certificate_uploaded_by_hand_is_shown_and_never_deleted(live):
    fake, zone_id = live
    by_hand = fake.add_client_certificate(zone_id, OLD_CLIENT_CERTIFICATE)
    code, report = plan_json()
    assert code == 0  # shown, but nothing to do
    [(action, address, attributes)] = client_certificate_changes(report)
    assert action == "unmanaged" and address.startswith("cloudflare_authenticated_origin_pulls_certificate.acme_com_")
    assert attributes[0][1] == f"sha256 {fingerprint(by_hand['certificate'])}"


def test_a_rotated_client_certificate_is_a_replace_and_a_missing_one_a_create(live):
    fake, zone_id = live
    [seeded] = client_certificates(fake, zone_id)
    fake.set_client_certificate_status(zone_id, seeded["id"], "pending_deletion")  # gone: never paired
    assert client_certificate_changes(plan_json()[1]) == [
        ("create", "cloudflare_authenticated_origin_pulls_certificate.acme_com",
         [(f"sha256 {fingerprint(seeded['certificate'])}", None)])]
    fake.add_client_certificate(zone_id, OLD_CLIENT_CERTIFICATE)  # the zone still presents the old one
    code, report = plan_json()
    assert code == 2
    assert client_certificate_changes(report) == [
        ("replace", "cloudflare_authenticated_origin_pulls_certificate.acme_com",
         [(f"sha256 {fingerprint(seeded['certificate'])}", f"sha256 {fingerprint(OLD_CLIENT_CERTIFICATE)}")])]


def client_certificates(fake, zone_id) -> list[dict]:
    request = urllib.request.Request(f"{fake.base_url}/zones/{zone_id}/origin_tls_client_auth",
                                     headers={"Authorization": "Bearer test-token"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["result"]


def test_out_of_band_changes_are_classified(live):
    fake, zone_id = live
    fake.edit_dns_record(zone_id, "www.acme.com", "CNAME", content="evil.example.net")
    fake.delete_dns_record(zone_id, "sip.acme.com", "A")
    fake.add_dns_record(zone_id, name="legacy.acme.com", type="A", content="192.0.2.7", ttl=300)
    code, report = plan_json()
    assert code == 2
    found = {(c["action"], c["key"]) for c in report["changes"]}
    assert found == {("update", "www.acme.com CNAME"), ("create", "sip.acme.com A"),
                     ("unmanaged", "legacy.acme.com A")}
    code, output = plan()
    assert "~ dns_record www.acme.com CNAME" in output and "+ dns_record sip.acme.com A" in output
    assert "? dns_record legacy.acme.com A" in output and "never deleted" in output
    assert "Plan: 1 to create, 1 to update, 0 to replace, 0 to delete; 1 live only (never deleted)." in output


@pytest.mark.parametrize("inject, reason", [
    (lambda fake: fake.fail_next(50, status=500), "HTTP 500"),
    (lambda fake: fake.truncate_next_page(), "incomplete"),
    (lambda fake: fake.throttle_next(50, retry_after=0), "HTTP 429"),
])
def test_a_failed_read_fails_the_plan_and_invents_nothing(live, inject, reason):
    fake, _ = live
    fake.add_dns_record(live[1], name="extra.acme.com", type="A", content="192.0.2.1", comment="edgec:acme-prod")
    fake.reset_calls()
    inject(fake)
    code, report = plan_json()
    assert code == 1
    assert report["errors"] and reason in report["errors"][0]
    assert not any(c["action"] in ("create", "delete") for c in report["changes"])


def test_10000_records_are_read_within_the_call_budget(live):
    fake, zone_id = live
    for i in range(10_000):
        fake.add_dns_record(zone_id, name=f"h{i}.acme.com", type="A", content="192.0.2.1", ttl=300,
                            comment="edgec:acme-prod")
    fake.reset_calls()
    code, report = plan_json()
    assert code == 2  # the 10,000 are edgec's and not in the spec: deletes
    dns_list_calls = sum(1 for method, path in fake.calls if method == "GET" and path.endswith("/dns_records"))
    assert dns_list_calls <= math.ceil(10_000 / 5000) + 2, dns_list_calls  # plus the example's own records
    # zone list, settings, 3 rulesets, origin pulls and the zone's client certificate
    assert report["api_calls"]["cloudflare"] == 1 + dns_list_calls + 6
    assert report["counts"]["delete"] == 10_000


ACCOUNT = "0123456789abcdef0123456789abcdef"
THREE_ZONES = f"""\
apiVersion: edgec/v1
name: three-zones
cloudflare: {{account_id: {ACCOUNT}}}
zones:
  acme.com: {{provider: cloudflare}}
  acme.net: {{provider: cloudflare}}
  acme.org: {{provider: cloudflare}}
"""


@pytest.fixture()
def three_zones(tmp_path, monkeypatch):
    """A spec of three Cloudflare zones (no AWS), applied in the fake, in the spec's account."""
    path = tmp_path / "edge.yaml"
    path.write_text(THREE_ZONES)
    validation = validate(str(path))
    with FakeCloudflare(token="test-token") as fake:
        zones = seed_cloudflare(fake, validation.spec, validation.ir, {})
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "test-token")
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", fake.base_url)
        yield fake, path, zones


def plan_cloudflare(spec_path):
    result = run_cli("plan", "--format", "json", "--cloudflare-rate", "100", str(spec_path))
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize("others_in_account", [0, 117])
def test_calls_are_one_zone_list_per_50_zones_then_6_per_zone(three_zones, others_in_account):
    fake, spec_path, zones = three_zones
    for i in range(others_in_account):
        fake.add_zone(f"other{i}.example", account_id=ACCOUNT)
    for i in range(60):  # another account's zones: the spec's account_id keeps them out of the listing
        fake.add_zone(f"elsewhere{i}.example", account_id="f" * 32)
    for i in range(5000):  # a full DNS page is still one call
        fake.add_dns_record(zones["acme.com"], type="A", name=f"h{i}", content="192.0.2.1", ttl=300)
    fake.reset_calls()

    code, report = plan_cloudflare(spec_path)

    assert code == 0 and report["errors"] == [] and report["counts"] == {"unmanaged": 5000}
    zone_lists = math.ceil((3 + others_in_account) / 50)
    assert report["api_calls"] == {"cloudflare": zone_lists + 6 * 3} and len(fake.calls) == zone_lists + 6 * 3
    assert collections.Counter(path for _, path in fake.calls) == {
        "/zones": zone_lists, "/zones/{zone_id}/dns_records": 3, "/zones/{zone_id}/settings": 3,
        "/zones/{zone_id}/rulesets/phases/{ruleset_phase}/entrypoint": 9,
        "/zones/{zone_id}/origin_tls_client_auth/settings": 3}


def test_in_a_large_account_the_spec_zones_are_looked_up_by_name(three_zones):
    fake, spec_path, zones = three_zones
    for i in range(250):  # 6 pages of zones: listing them all costs more than 3 lookups
        fake.add_zone(f"other{i}.example", account_id=ACCOUNT)
    fake.reset_calls()

    code, report = plan_cloudflare(spec_path)

    assert code == 0 and report["errors"] == [] and report["changes"] == []
    assert report["api_calls"] == {"cloudflare": 1 + 3 + 6 * 3}  # the first page, a lookup per zone, the zones
    assert collections.Counter(path for _, path in fake.calls)["/zones"] == 1 + 3


NOT_FOUND_FIX = "; fix: check the zone's name and account, and that the token has Zone Read on it"


@pytest.mark.parametrize("inject, reason", [
    (lambda fake, zones, path: path.write_text(THREE_ZONES + "  acme.io: {provider: cloudflare}\n"),
     f"could not read zone acme.io: not found in account {ACCOUNT}{NOT_FOUND_FIX}"),
    (lambda fake, zones, path: path.write_text(THREE_ZONES.replace(ACCOUNT, "f" * 32)),
     f"could not read zone acme.com: not found in account {'f' * 32}{NOT_FOUND_FIX}"),
    (lambda fake, zones, path: fake.truncate_next_page(),
     f"could not read the zones of account {ACCOUNT}: the listing is incomplete: 2 zones read, 3 reported"),
    (lambda fake, zones, path: fake.fail_next(50, route="/zones/{zone_id}/settings"),
     "could not read settings of acme.com: HTTP 500: Unexpected internal server error"),
    (lambda fake, zones, path: fake.remove_setting(zones["acme.net"], "tls_1_3"),
     "could not read setting tls_1_3 of acme.net: the API returned no value"),
    (lambda fake, zones, path: fake.set_setting(zones["acme.org"], "ssl", None),
     "could not read setting ssl of acme.org: the API returned no value"),
], ids=["zone missing", "zones in another account", "zone list incomplete", "settings failing",
        "setting missing", "setting null"])
def test_a_failed_zone_or_settings_read_fails_the_plan(three_zones, inject, reason):
    fake, spec_path, zones = three_zones
    inject(fake, zones, spec_path)
    code, report = plan_cloudflare(spec_path)
    assert code == 1 and report["errors"] == [reason]
    assert report["changes"] == [] and report["layers_read"] == []


def test_the_rate_limiter_paces_requests():
    now, slept = [0.0], []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds
    limiter = RateLimiter(rate=4, burst=4, clock=lambda: now[0], sleep=sleep)
    for _ in range(24):
        limiter.acquire()
    assert now[0] == pytest.approx(5.0)  # 4 at once, then 20 more at 4 per second


def test_the_default_pacing_never_exceeds_cloudflares_budget_in_any_five_minutes():
    now, stamps = [0.0], []

    def sleep(seconds):
        now[0] += seconds
    limiter = RateLimiter(DEFAULT_CLOUDFLARE_RATE, cloudflare_burst(DEFAULT_CLOUDFLARE_RATE), clock=lambda: now[0],
                          sleep=sleep)
    for _ in range(3000):
        limiter.acquire()
        stamps.append(now[0])
    assert stamps[149] == 0.0 and stamps[150] > 0  # a plan of 150 calls does not wait
    busiest = max(bisect.bisect_right(stamps, start + 300 - 1e-9) - i for i, start in enumerate(stamps))
    assert 1150 < busiest <= 1200  # Cloudflare's budget, 1,200 requests per 5 minutes: used, never exceeded


def test_no_token_is_an_error_not_an_empty_estate(live, monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    code, output = plan()
    assert code == 1 and "CLOUDFLARE_API_TOKEN is not set" in output


@pytest.mark.parametrize(("token", "said"), [("secret-token\n", "ends with white space"),
                                             ("sécret", "characters no API token has")])
def test_a_malformed_token_is_said_at_once_and_never_shown(live, monkeypatch, token, said):
    """A newline copied with the token, or a character no token has: said before any call is made."""
    import time

    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", token)
    started = time.monotonic()
    code, output = plan()
    assert code == 1 and said in output and time.monotonic() - started < 5
    assert token.strip() not in output


def test_ignore_rules_hide_until_they_expire(live, tmp_path, monkeypatch):
    fake, zone_id = live
    fake.add_dns_record(zone_id, name="legacy.acme.com", type="A", content="192.0.2.7", ttl=300)
    spec_text = open(SPEC_PATH).read()
    rule = ("ignore:\n  - {key: 'legacy.*', kind: dns_record, reason: mail team's box, expires: %s}\n")
    for expires, expected_code, action in (("2999-01-01", 0, "ignored"), ("2000-01-01", 0, "unmanaged")):
        path = tmp_path / f"edge-{expires}.yaml"
        path.write_text(spec_text + rule % expires)
        monkeypatch.setattr(sys.modules[__name__], "SPEC_PATH", str(path))
        code, report = plan_json()
        assert code == expected_code  # neither ignored nor unmanaged changes anything
        assert [(c["action"], c["key"]) for c in report["changes"]] == [(action, "legacy.acme.com A")]
        assert bool(report["notes"]) == (expires == "2000-01-01")
    code, output = plan()
    assert "expired on 2000-01-01" in output


def test_an_expired_rule_stops_hiding_an_update(live, tmp_path, monkeypatch):
    fake, zone_id = live
    fake.edit_dns_record(zone_id, "www.acme.com", "CNAME", content="elsewhere.example.net")
    spec_text = open(SPEC_PATH).read()
    for expires, code_expected in (("2999-01-01", 0), ("2000-01-01", 2)):
        path = tmp_path / f"e-{expires}.yaml"
        path.write_text(spec_text + f"ignore:\n  - {{key: www.acme.com CNAME, attribute: content, "
                                    f"reason: migration, expires: {expires}}}\n")
        monkeypatch.setattr(sys.modules[__name__], "SPEC_PATH", str(path))
        assert plan_json()[0] == code_expected


def test_the_token_never_appears_in_any_output(live, monkeypatch):
    fake, _ = live
    secret = "test-token"  # what the fake accepts; make sure no format echoes it
    for fmt in ("text", "json", "markdown"):
        code, output = plan("--format", fmt)
        assert secret not in output
    fake.throttle_next(50, retry_after=0)  # error paths too
    code, output = plan()
    assert code == 1 and secret not in output


def test_a_missing_acm_certificate_is_planned(live, moto_url):
    import boto3

    acm = boto3.Session(region_name=SPEC.aws.region).client("acm", endpoint_url=moto_url)
    for cert in acm.list_certificates()["CertificateSummaryList"]:
        acm.delete_certificate(CertificateArn=cert["CertificateArn"])
    code, report = plan_json()
    assert code == 2
    assert [(c["action"], c["kind"], c["key"]) for c in report["changes"]] == [
        ("create", "acm_certificate", "partners-acm (partners.acme.com)")]


def test_an_ignore_file_adds_rules_and_holds_nothing_else(live, tmp_path):
    fake, zone_id = live
    fake.add_dns_record(zone_id, name="legacy.acme.com", type="A", content="192.0.2.7", ttl=300)
    rules = tmp_path / "ignore.yaml"
    rules.write_text("ignore:\n  - {key: legacy.acme.com A, reason: the mail team's box}\n")
    result = run_cli("plan", "--format", "json", "--ignore-file", str(rules), SPEC_PATH)
    assert [(c["action"], c["note"]) for c in json.loads(result.stdout)["changes"]] == [
        ("ignored", "ignored: the mail team's box")]
    rules.write_text("services: {}\nignore: []\n")
    result = run_cli("plan", "--ignore-file", str(rules), SPEC_PATH)
    assert result.exit_code == 1 and f"{rules}:1:1: error: services: an ignore file holds only" in result.output


def test_a_cloudflare_api_that_never_answers_fails_the_plan(live, monkeypatch):
    import socket
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections, never answers
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", f"http://127.0.0.1:{silent.getsockname()[1]}/client/v4")
    started = time.monotonic()
    try:
        result = run_cli("plan", "--format", "json", "--read-timeout", "0.3", "--layer", "cloudflare", SPEC_PATH)
    finally:
        silent.close()
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and "timed out" in report["errors"][0].lower()
    assert report["changes"] == [] and time.monotonic() - started < 30


def test_a_long_read_shows_its_progress_per_layer_on_stderr_and_a_quick_one_nothing(live, monkeypatch):
    """In a CI log (no terminal) a slow read must not look hung: a line when it has run a while, its calls so far
    every few seconds (here every half second), and when it is done; stdout stays the report alone."""
    import edgec.render.progress

    fake, _ = live
    fake.throttle_next(3, retry_after=1)  # the SDK waits 3 s in all before its read goes on
    with monkeypatch.context() as patch:
        patch.setattr(edgec.render.progress, "QUIET_FOR", 1.0)
        patch.setattr(edgec.render.progress, "INTERVAL", 0.5)
        slow = run_cli("plan", "--format", "json", SPEC_PATH)
    assert slow.exit_code == 0 and json.loads(slow.stdout)["has_changes"] is False
    lines = slow.stderr.splitlines()
    assert re.fullmatch(r"edgec: reading Cloudflare: started 1 s ago, \d+ calls? so far", lines[0]), lines
    assert len([line for line in lines if re.fullmatch(r"edgec: reading Cloudflare: \d+ calls? so far", line)]) >= 2
    assert re.fullmatch(r"edgec: reading Cloudflare: done after \d s, \d+ calls", lines[-1]), lines
    quick = run_cli("plan", "--format", "json", SPEC_PATH)  # within the 2 s a read may take before a line
    assert quick.exit_code == 0 and quick.stderr == ""
