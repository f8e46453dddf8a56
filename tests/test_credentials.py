"""Credentials problems, as a person meets them, through the real clients: boto3 with AWS's credential
chain (profiles and SSO caches in files, moto in server mode checking signatures and permissions), the
Cloudflare SDK against the fake Cloudflare API. Every command that reads live state exits 1 saying what
is wrong and the fix, never 3 ("internal error"), and never shows a secret."""

from __future__ import annotations

import datetime
import hashlib
import json
import urllib.request

import boto3
import pytest
from conftest import ROOT, run_cli

from edgec.sandbox.fake_cloudflare import FakeCloudflare
from edgec.sandbox.run import reset_moto

pytestmark = pytest.mark.real_tool("moto_server")

SPEC = str(ROOT / "examples" / "public-api" / "edge.yaml")
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzSECRET"
CHAIN = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
         "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
         "AWS_CONTAINER_CREDENTIALS_FULL_URI")
SSO_CONFIG = """\
[profile dev]
region = eu-west-1

[profile prod-sso]
sso_start_url = https://acme.awsapps.com/start
sso_region = eu-west-1
sso_account_id = 123456789012
sso_role_name = ReadOnly

[profile ops-sso]
sso_session = acme
sso_account_id = 123456789012
sso_role_name = ReadOnly

[sso-session acme]
sso_start_url = https://acme.awsapps.com/start
sso_region = eu-west-1
"""


def commands(layer: str, tmp_path) -> dict[str, list[str]]:
    """Every command that reads `layer`, as a user would run it."""
    return {"plan": ["plan", "--layer", layer, SPEC],
            "drift": ["drift", "--layer", layer, SPEC],
            "diff --live": ["diff", "--live", "--layer", layer, SPEC, SPEC],
            "apply": ["apply", "--auto-approve", "--layer", layer, "-o", str(tmp_path / "out"), SPEC],
            "import": ["import", "--layer", layer, "--region", "eu-west-1", "-o", str(tmp_path / "imported")]}


@pytest.fixture()
def aws_home(tmp_path, monkeypatch, moto_url):
    """An AWS chain that finds nothing but what a test adds: a home of its own (config, SSO cache), no
    instance metadata; calls go to moto."""
    for name in CHAIN:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    (home / ".aws" / "sso" / "cache").mkdir(parents=True)
    (home / ".aws" / "config").write_text(SSO_CONFIG)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    return home


@pytest.fixture()
def moto_checks_credentials(moto_url):
    """moto that checks signatures and IAM permissions (as AWS does), with one user allowed nothing: its
    keys. Checking is a setting of the whole moto process: switched off again afterwards."""
    reset_moto(moto_url)
    iam = boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="setup",
                       aws_secret_access_key="setup")
    iam.create_user(UserName="reader")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    _moto_auth(moto_url, "0")
    yield key["AccessKeyId"], key["SecretAccessKey"]
    _moto_auth(moto_url, "inf")


def _moto_auth(url: str, unchecked_calls: str) -> None:
    request = urllib.request.Request(f"{url}/moto-api/reset-auth", data=unchecked_calls.encode(), method="POST",
                                     headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=10).read()


def _sso_token(home, key: str, expires: datetime.datetime) -> None:
    """A token in the SSO cache as `aws sso login` leaves it (by the start URL's or session name's hash)."""
    name = hashlib.sha1(key.encode()).hexdigest() + ".json"
    (home / ".aws" / "sso" / "cache" / name).write_text(json.dumps({
        "startUrl": "https://acme.awsapps.com/start", "region": "eu-west-1", "accessToken": SECRET,
        "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}))


def assert_said(result, *phrases: str) -> None:
    output = result.output
    assert result.exit_code == 1, output
    assert "internal error" not in output and "Traceback" not in output
    assert SECRET not in output
    for phrase in phrases:
        assert phrase in output, output


@pytest.mark.parametrize("command", ["plan", "drift", "diff --live", "apply", "import"])
def test_no_aws_credentials_says_what_was_tried_and_how_to_get_some(aws_home, tmp_path, command):
    assert_said(run_cli(*commands("aws", tmp_path)[command]), "AWS credentials: none found",
                "tried environment variables", "instance metadata", "fix: run `aws configure`")


@pytest.mark.parametrize("command", ["plan", "drift", "diff --live", "apply", "import"])
def test_an_unknown_aws_profile_is_named_with_the_profiles_there_are(aws_home, tmp_path, monkeypatch, command):
    monkeypatch.setenv("AWS_PROFILE", "prod-ssso")
    assert_said(run_cli(*commands("aws", tmp_path)[command]), "profile 'prod-ssso' (from AWS_PROFILE) is not in",
                "profiles there: dev, ops-sso, prod-sso", "fix: set AWS_PROFILE")


@pytest.mark.parametrize("command", ["plan", "import"])
def test_an_sso_profile_never_logged_in_says_to_log_in(aws_home, tmp_path, monkeypatch, command):
    monkeypatch.setenv("AWS_PROFILE", "prod-sso")
    assert_said(run_cli(*commands("aws", tmp_path)[command]), "SSO session of profile 'prod-sso' has expired or "
                "was never started", "fix: aws sso login --profile prod-sso")


@pytest.mark.parametrize(("profile", "cache_key"), [("prod-sso", "https://acme.awsapps.com/start"),
                                                    ("ops-sso", "acme")])
def test_an_expired_sso_session_says_to_log_in_again(aws_home, tmp_path, monkeypatch, profile, cache_key):
    _sso_token(aws_home, cache_key, datetime.datetime(2020, 1, 1))
    monkeypatch.setenv("AWS_PROFILE", profile)
    assert_said(run_cli(*commands("aws", tmp_path)["drift"]), f"fix: aws sso login --profile {profile}")


def test_a_role_without_a_web_identity_token_says_how_ci_gets_one(aws_home, tmp_path, monkeypatch):
    """The GitHub workflow of issue 18: AWS_ROLE_ARN set, but the job may not ask for an OIDC token."""
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/edgec-plan")
    assert_said(run_cli(*commands("aws", tmp_path)["plan"]), "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE "
                "is not", "permissions: id-token: write", "aws-actions/configure-aws-credentials")


@pytest.mark.parametrize("command", ["plan", "apply", "import"])
def test_keys_aws_does_not_accept_are_said_to_be_wrong_or_expired(aws_home, moto_checks_credentials, tmp_path,
                                                                  monkeypatch, command):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    assert_said(run_cli(*commands("aws", tmp_path)[command]), "AWS does not accept the credentials",
                "fix: renew them")


@pytest.mark.parametrize("command", ["plan", "drift", "import"])
def test_credentials_without_permission_name_the_call_denied(aws_home, moto_checks_credentials, tmp_path,
                                                            monkeypatch, command):
    key_id, secret = moto_checks_credentials
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    result = run_cli(*commands("aws", tmp_path)[command])
    assert_said(result, "AWS denies it", "user/reader is not authorized to perform", "fix: allow the identity")
    assert secret not in result.output


@pytest.fixture()
def fake_cloudflare(monkeypatch):
    with FakeCloudflare(token="the-right-token") as fake:
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", fake.base_url)
        yield fake


@pytest.mark.parametrize("command", ["plan", "drift", "diff --live", "apply", "import"])
def test_no_cloudflare_token_says_how_to_make_one(fake_cloudflare, tmp_path, monkeypatch, command):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    assert_said(run_cli(*commands("cloudflare", tmp_path)[command]), "CLOUDFLARE_API_TOKEN is not set",
                "fix: create a token", "Zone Read, DNS Read")
    assert not fake_cloudflare.calls


@pytest.mark.parametrize("command", ["plan", "drift", "diff --live", "apply", "import"])
def test_a_token_cloudflare_refuses_says_how_to_check_it(fake_cloudflare, tmp_path, monkeypatch, command):
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", SECRET)  # not the fake's: it answers 403, as Cloudflare does
    assert_said(run_cli(*commands("cloudflare", tmp_path)[command]),
                "Cloudflare refused the token in CLOUDFLARE_API_TOKEN (HTTP 403", "user/tokens/verify")


def test_a_401_from_cloudflare_is_the_tokens_problem_too(fake_cloudflare, tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "the-right-token")
    fake_cloudflare.fail_next(10, status=401)
    assert_said(run_cli(*commands("cloudflare", tmp_path)["plan"]),
                "Cloudflare refused the token in CLOUDFLARE_API_TOKEN (HTTP 401", "fix: check it")
