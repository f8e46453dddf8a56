"""Every reader under faults: a proxy between edgec and its API (tests/fault_proxy.py) truncates,
edits, withholds, resets, fails or throttles answers. Each fault fails `edgec plan` with exit 1 and a
message naming the read, within the read timeout times the attempts (plus the clients' backoff), and
nothing is planned for that layer; the other layer is still read and compared."""

from __future__ import annotations

import itertools
import json
import re
import signal
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler

import pytest
from aws_support import applied_example
from conftest import ROOT, run_cli
from fault_proxy import (
    FaultProxy,
    Reply,
    answered,
    edited_json,
    edited_text,
    first_page_always,
    hang,
    reset,
    truncated,
)

from edgec.loopback import LoopbackServer
from edgec.sandbox.fake_cloudflare import FakeCloudflare
from edgec.sandbox.seed import seed_cloudflare

pytestmark = pytest.mark.real_tool("moto_server")

TIMEOUT = 0.5  # --read-timeout, seconds
ATTEMPTS = 5  # per call, for the Cloudflare SDK and boto3 alike
CLOUDFLARE_BACKOFF = 0.5 + 1 + 2 + 4  # the SDK's waits between its 5 attempts, at most
AWS_BACKOFF = 1 + 2 + 4 + 8  # boto3's standard mode, at most
SLACK = 5  # reading the rest, in-process on a busy machine
DNS = "/dns_records"


@pytest.fixture(scope="module")
def estate(moto_url, tmp_path_factory):
    """The public-api example applied: AWS in moto, Cloudflare in the fake. The faults change neither,
    so the module shares one."""
    with pytest.MonkeyPatch.context() as patch:
        applied, _ = applied_example("public-api", tmp_path_factory.mktemp("estate"), patch, moto_url)
        with FakeCloudflare(token="test-token") as fake:
            seed_cloudflare(fake, applied.spec, applied.desired, applied.nlb_dns_names)
            patch.setenv("CLOUDFLARE_API_TOKEN", "test-token")
            patch.setenv("CLOUDFLARE_BASE_URL", fake.base_url)
            yield applied.spec_path, fake, moto_url


@pytest.fixture()
def cloudflare(estate, monkeypatch):
    """A proxy in front of the fake Cloudflare, which edgec reads through."""
    _, fake, _ = estate
    with FaultProxy(fake.base_url) as proxy:
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", proxy.url)
        yield proxy


@pytest.fixture()
def aws(estate, monkeypatch):
    """A proxy in front of moto, which edgec reads through."""
    _, _, moto_url = estate
    with FaultProxy(moto_url) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        yield proxy


def plan(estate) -> tuple[int, dict, float]:
    start = time.monotonic()
    result = run_cli("plan", "--format", "json", "--read-timeout", str(TIMEOUT), str(estate[0]))
    return result.exit_code, json.loads(result.stdout), time.monotonic() - start


def assert_failed_read(estate, layer: str, message: str, bound: float) -> dict:
    """The plan fails (exit 1) in time, naming the read; the layer is not compared, the other one is."""
    code, report, seconds = plan(estate)
    assert code == 1, report
    assert any(message in error for error in report["errors"]), report["errors"]
    assert layer not in report["layers_read"]
    assert [c for c in report["changes"] if c["layer"] == layer] == []
    other = {"aws": "cloudflare", "cloudflare": "aws"}.get(layer)
    if other:
        assert other in report["layers_read"]
    assert seconds < bound, f"took {seconds:.1f} s"
    return report


def test_through_the_proxies_the_estate_has_no_changes(estate, cloudflare, aws):
    code, report, _ = plan(estate)
    assert code == 0, report
    assert report["layers_read"] == ["aws", "cloudflare"]
    assert aws.requests and cloudflare.requests


# --- Cloudflare --------------------------------------------------------------------------------

def first_record(edit):
    return edited_json(lambda data: edit(data["result"][0]))


def result_info(edit):
    return edited_json(lambda data: edit(data["result_info"]))


MALFORMED_CLOUDFLARE = {
    "truncated JSON": (DNS, truncated,
                       "could not read DNS records of acme.com: the API's answer is malformed (JSONDecodeError"),
    "result null": ("/origin_tls_client_auth/settings", edited_json(lambda data: data.update(result=None)),
                    "could not read authenticated origin pulls of acme.com: the API's answer is malformed "
                    "(its result is null)"),
    "list result null": (DNS, edited_json(lambda data: data.update(result=None)),
                         "DNS records of acme.com: the API's answer is malformed (result None is not a list)"),
    "ttl not a number": (DNS, first_record(lambda record: record.update(ttl="abc")),
                         "DNS records of acme.com: the API's answer is malformed (ttl 'abc' is not a number)"),
    "name null": (DNS, first_record(lambda record: record.update(name=None)),
                  "DNS records of acme.com: the API's answer is malformed (name None is not a string)"),
    "proxied not a flag": (DNS, first_record(lambda record: record.update(proxied="maybe")),
                           "(proxied 'maybe' is not true or false)"),
    "no total_count": (DNS, result_info(lambda info: info.pop("total_count")),
                       "DNS records of acme.com: the API's answer is malformed (its result_info has no total_count)"),
    "total_count not a number": ("/zones?", result_info(lambda info: info.update(total_count="many")),
                                 "could not read the zones of account 5f2c1e8a9b7d4c3e8f1a2b3c4d5e6f70: the API's "
                                 "answer is malformed (total_count 'many' is not a number)"),
    "rules not a list": ("/phases/http_request_firewall_custom/", edited_json(
        lambda data: data["result"].update(rules="everything")),
        "http_request_firewall_custom ruleset of acme.com: the API's answer is malformed "
        "(rules 'everything' is not a list)"),
    "an answer that is not an object": (DNS, answered(200, "[1, 2, 3]"), "DNS records of acme.com"),
    "HTML, not JSON": (DNS, answered(200, "<html>maintenance</html>", "text/html"), "DNS records of acme.com"),
}


@pytest.mark.parametrize(("where", "fault", "message"), MALFORMED_CLOUDFLARE.values(), ids=MALFORMED_CLOUDFLARE)
def test_a_malformed_cloudflare_answer_fails_the_read(estate, cloudflare, aws, where, fault, message):
    cloudflare.fault(where, fault)
    assert_failed_read(estate, "cloudflare", message, bound=SLACK)


def ignoring_pages(exchange) -> Reply:
    """Every page the first, without total_pages, and a million records reported."""
    reply = first_page_always(exchange)
    data = json.loads(reply.body)
    data["result_info"]["total_count"] = 10 ** 6
    return Reply(reply.status, reply.headers, json.dumps(data).encode())


def test_a_listing_that_ignores_the_page_asked_for_ends_at_once(estate, cloudflare, aws):
    """edgec stops at the repeated page, not after 462 requests (nor at the page cap)."""
    cloudflare.fault(DNS, ignoring_pages)
    assert_failed_read(estate, "cloudflare", "DNS records of acme.com: the listing does not end: the API answered "
                                             "the same page again", bound=SLACK)
    assert sum(DNS in line for line in cloudflare.requests) == 2


def endless_pages(exchange) -> Reply:
    """Every page after the first holds one new record, and none says how many pages there are."""
    asked = re.search(r"[?&]page=(\d+)", exchange.target)
    page = int(asked.group(1)) if asked else 1
    reply = exchange.forward(re.sub(r"([?&])page=\d+", r"\1page=1", exchange.target))
    data = json.loads(reply.body)
    data["result_info"].pop("total_pages")
    data["result_info"]["total_count"] = 3 * len(data["result"])  # three pages of this size, it says
    if page > 1:
        data["result"] = [{**data["result"][0], "id": f"{page:032x}"}]
    return Reply(reply.status, reply.headers, json.dumps(data).encode())


def test_a_listing_stops_a_little_after_the_pages_its_first_answer_implies(estate, cloudflare, aws):
    cloudflare.fault(DNS, endless_pages)
    assert_failed_read(estate, "cloudflare", "DNS records of acme.com: the listing does not end: stopped after 5 "
                                             "pages, where its first answer implied 3", bound=SLACK)
    assert sum(DNS in line for line in cloudflare.requests) == 5


CLOUDFLARE_FAILURES = {
    "hangs": (hang, "Request timed out"),
    "resets": (reset, "Connection error"),
    "5xx storm": (answered(503, '{"success": false, "errors": [{"code": 10000, "message": "unavailable"}]}'),
                  "HTTP 503"),
    "429 storm": (answered(429, '{"success": false, "errors": [{"code": 971, "message": "Please wait"}]}',
                           headers={"Retry-After": "1"}), "HTTP 429"),
}


@pytest.mark.parametrize(("fault", "message"), CLOUDFLARE_FAILURES.values(), ids=CLOUDFLARE_FAILURES)
def test_a_cloudflare_api_that_keeps_failing_fails_the_read_in_time(estate, cloudflare, aws, fault, message):
    cloudflare.fault(DNS, fault)
    report = assert_failed_read(estate, "cloudflare", message,
                                bound=ATTEMPTS * TIMEOUT + max(CLOUDFLARE_BACKOFF, 4 * 1) + SLACK)
    assert "DNS records of acme.com" in " ".join(report["errors"])
    assert sum(DNS in line for line in cloudflare.requests) == ATTEMPTS


# --- AWS ---------------------------------------------------------------------------------------

LOAD_BALANCERS = "Action=DescribeLoadBalancers&"
TARGET_GROUPS = "Action=DescribeTargetGroups&"
SECURITY_GROUPS = "Action=DescribeSecurityGroups&"
AWS_ERROR = ("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
             "<RequestId>1</RequestId></ErrorResponse>")

MALFORMED_AWS = {
    "ELBv2 answer not XML": (LOAD_BALANCERS, answered(200, "Service Unavailable, try later", "text/plain"),
                             "could not read load balancers: the API's answer is malformed (ResponseParserError"),
    "truncated XML": (TARGET_GROUPS, truncated, "the API's answer is malformed (ResponseParserError"),
    "no DNSName": (LOAD_BALANCERS, edited_text(r"<DNSName>[^<]*</DNSName>", ""),
                   "the API's answer is malformed (it has no DNSName)"),
    "port not a number": (TARGET_GROUPS, edited_text(r"<Port>\d+</Port>", "<Port>abc</Port>"),
                          "the API's answer is malformed (ValueError"),
    "no group ID": (SECURITY_GROUPS, edited_text(r"<groupId>[^<]*</groupId>", ""),
                    "could not read security groups: the API's answer is malformed (it has no GroupId)"),
}


@pytest.mark.parametrize(("where", "fault", "message"), MALFORMED_AWS.values(), ids=MALFORMED_AWS)
def test_a_malformed_aws_answer_fails_the_read(estate, cloudflare, aws, where, fault, message):
    aws.fault(where, fault)
    assert_failed_read(estate, "aws", message, bound=ATTEMPTS * TIMEOUT + AWS_BACKOFF + SLACK)


def test_an_nlb_without_a_scheme_reads_as_aws_default_internet_facing(estate, cloudflare, aws):
    """moto leaves Scheme out when the client (the AWS provider) did not send it; AWS's default is meant."""
    aws.fault(LOAD_BALANCERS, edited_text(r"<Scheme>internet-facing</Scheme>", ""))
    code, report, _ = plan(estate)
    assert code == 0, report
    assert report["layers_read"] == ["aws", "cloudflare"]


def with_next_marker(markers):
    """ELBv2 pages that always say there is another (moto sees no marker, so answers the first page)."""
    def fault(exchange) -> Reply:
        reply = exchange.forward(body=re.sub(rb"&Marker=[^&]*", b"", exchange.body))
        marker = f"<NextMarker>{next(markers)}</NextMarker></DescribeLoadBalancersResult>"
        return Reply(reply.status, reply.headers, reply.body.replace(b"</DescribeLoadBalancersResult>",
                                                                     marker.encode()))
    return fault


def test_an_aws_listing_that_repeats_its_next_token_fails_at_once(estate, cloudflare, aws):
    aws.fault(LOAD_BALANCERS, with_next_marker(itertools.repeat("again")))
    assert_failed_read(estate, "aws", "could not read load balancers: Error during pagination: The same next token "
                                      "was received twice",
                       bound=SLACK)
    assert sum(LOAD_BALANCERS in line for line in aws.requests) <= 2


def test_an_aws_listing_that_never_ends_stops_at_the_page_cap(estate, cloudflare, aws, monkeypatch):
    monkeypatch.setattr("edgec.read.answers.MAX_PAGES", 4)
    aws.fault(LOAD_BALANCERS, with_next_marker(f"page{n}" for n in itertools.count(2)))
    assert_failed_read(estate, "aws", "could not read load balancers: the listing does not end: stopped after 4 pages",
                       bound=SLACK)


AWS_FAILURES = {
    "hangs": (hang, "Read timeout"),
    "resets": (reset, "Connection was closed"),
    "5xx storm": (answered(503, AWS_ERROR.format(code="ServiceUnavailable", message="try later"), "text/xml"),
                  "ServiceUnavailable"),
    "throttling storm": (answered(400, AWS_ERROR.format(code="Throttling", message="Rate exceeded"), "text/xml"),
                         "Throttling"),
}


@pytest.mark.parametrize(("fault", "message"), AWS_FAILURES.values(), ids=AWS_FAILURES)
def test_an_aws_api_that_keeps_failing_fails_the_read_in_time(estate, cloudflare, aws, fault, message):
    aws.fault(SECURITY_GROUPS, fault)
    report = assert_failed_read(estate, "aws", message, bound=ATTEMPTS * TIMEOUT + AWS_BACKOFF + SLACK)
    assert "could not read security groups" in " ".join(report["errors"])
    assert sum(SECURITY_GROUPS in line for line in aws.requests) == ATTEMPTS, aws.requests


# --- Envoy -------------------------------------------------------------------------------------

ENVOY_SPEC = ROOT / "tests" / "testdata" / "spec-to-ir" / "envoy-routes.in.yaml"
ENVOY_DUMP = (ROOT / "tests" / "testdata" / "live-to-ir" / "envoy" / "envoy-routes.in.json").read_bytes()


@pytest.fixture()
def envoy_admin():
    """An Envoy admin answering the dump of the running config of ENVOY_SPEC, behind a proxy."""
    class Admin(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(ENVOY_DUMP)))
            self.end_headers()
            self.wfile.write(ENVOY_DUMP)

        def log_message(self, format, *args) -> None:
            """Silent."""

    server = LoopbackServer(Admin)
    server.serve_in_background("envoy-admin")
    with FaultProxy(f"http://127.0.0.1:{server.port}") as proxy:
        yield proxy
    server.stop()


def plan_envoy(proxy) -> tuple[int, dict, float]:
    start = time.monotonic()
    result = run_cli("plan", "--format", "json", "--layer", "envoy", "--read-timeout", str(TIMEOUT),
                     "--envoy-admin", f"edge={proxy.url}", str(ENVOY_SPEC))
    return result.exit_code, json.loads(result.stdout), time.monotonic() - start


def first_listener(edit):
    return edited_json(lambda dump: edit(next(c for c in dump["configs"] if c["@type"].endswith(
        "ListenersConfigDump"))["static_listeners"][0]["listener"]))


def test_through_the_proxy_the_running_gateway_has_no_changes(envoy_admin):
    code, report, _ = plan_envoy(envoy_admin)
    assert code == 0, report


ENVOY_FAULTS = {
    "truncated JSON": (truncated, "the API's answer is malformed (JSONDecodeError"),
    "port not a number": (first_listener(lambda listener: listener["address"]["socket_address"].update(
        port_value="abc")), "the config dump of gateway edge: it is not what Envoy writes (listener edge: https: "
                            "port: 'abc' is not a number)"),
    "name null": (first_listener(lambda listener: listener.update(name=None)), "the config dump of gateway edge"),
    "configs null": (edited_json(lambda dump: dump.update(configs=None)), "the config dump of gateway edge"),
    "hangs": (hang, "timed out"),
    "resets": (reset, "Envoy admin of gateway edge"),
    "5xx": (answered(503, "no healthy upstream", "text/plain"), "HTTP Error 503"),
}


@pytest.mark.parametrize(("fault", "message"), ENVOY_FAULTS.values(), ids=ENVOY_FAULTS)
def test_a_faulty_envoy_admin_fails_the_read_in_time(envoy_admin, fault, message):
    envoy_admin.fault("/config_dump", fault)
    code, report, seconds = plan_envoy(envoy_admin)
    assert code == 1, report
    assert any(message in error for error in report["errors"]), report["errors"]
    assert report["changes"] == [] and report["layers_read"] == []
    assert seconds < TIMEOUT + SLACK


# --- edgec import ------------------------------------------------------------------------------

@pytest.mark.parametrize(("layer", "fault_on", "message"), [
    ("cloudflare", DNS, "could not read DNS records of acme.com: the API's answer is malformed (JSONDecodeError"),
    ("aws", LOAD_BALANCERS, "could not read AWS load balancers: the API's answer is malformed (ResponseParserError"),
])
def test_a_malformed_answer_fails_an_import_and_writes_nothing(estate, cloudflare, aws, tmp_path, layer, fault_on,
                                                               message):
    (cloudflare if layer == "cloudflare" else aws).fault(fault_on, truncated)
    result = run_cli("import", "-o", str(tmp_path / "imported"), "--layer", layer, "--read-timeout", str(TIMEOUT))
    assert result.exit_code == 1, result.output
    assert message in " ".join(result.output.split()) and "nothing was written" in result.output
    assert not (tmp_path / "imported").exists()


# --- Ctrl-C while a read hangs -----------------------------------------------------------------

@pytest.mark.parametrize(("command", "code", "said"), [
    (["plan"], 1, "Aborted!"),
    (["apply", "--auto-approve", "-o", "{tmp}/out"], 130, "interrupted; run edgec apply again to finish"),
])
def test_ctrl_c_while_a_read_hangs_stops_edgec_at_once(estate, cloudflare, tmp_path, command, code, said):
    """Without waiting for the reader blocked on the API (Python would join it first: the read timeout
    times the SDK's attempts, here 5 x 30 s, with "Aborted!" already shown)."""
    spec, _, _ = estate
    cloudflare.fault(DNS, hang)
    command = [arg.format(tmp=tmp_path) for arg in command]
    process = subprocess.Popen([sys.executable, "-m", "edgec", *command, "--layer", "cloudflare",
                                "--read-timeout", "30", str(spec)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not any(DNS in line for line in cloudflare.requests) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any(DNS in line for line in cloudflare.requests), "edgec never reached the DNS read"
    time.sleep(0.3)  # in the read
    process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"edgec still ran 10 s after Ctrl-C:\n{out}\n{err}")
    assert process.returncode == code, out + err
    assert said in out + err and "Traceback" not in out + err
