"""AWS credentials problems, said once for every command that reads AWS (plan, diff --live, drift, apply,
import): what the standard chain tried and the fix, as a failed read (exit 1), never an SDK traceback.
Only the chain's sources and the profile's name are shown; never a key or a token."""

from __future__ import annotations

import os

import boto3
import botocore.exceptions
import botocore.session

from edgec.read.budget import ReadError

WHAT = "AWS credentials"
CHAIN = ("environment variables (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), web identity (AWS_ROLE_ARN with "
         "AWS_WEB_IDENTITY_TOKEN_FILE), the shared credentials and config files ({profile}), "
         "container and EC2 instance metadata")
FIX_NONE = ("fix: run `aws configure` or `aws sso login --profile NAME` and set AWS_PROFILE, or export "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; in GitHub Actions, give the job `permissions: "
            "id-token: write` and a step with aws-actions/configure-aws-credentials")
# error codes AWS answers when it does not accept the credentials themselves ...
REJECTED = frozenset({"AuthFailure", "ExpiredToken", "ExpiredTokenException", "InvalidAccessKeyId",
                      "InvalidClientTokenId", "RequestExpired", "SignatureDoesNotMatch", "UnrecognizedClientException"})
# ... and when it accepts them but they do not allow the call
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation"})


def credentialed_session(core: botocore.session.Session, region: str | None) -> boto3.Session:
    """A session on `core` whose credentials are resolved now, before any call, so that a problem with them
    is said once, as such (not as the first read that happens to need them); else a ReadError."""
    profile = core.profile or "default"
    try:
        session = boto3.Session(region_name=region, botocore_session=core)  # reads the profile's config
        credentials = session.get_credentials()
        if credentials is not None:
            credentials.get_frozen_credentials()  # an SSO or assumed role's are fetched only now
    except botocore.exceptions.ProfileNotFound:
        raise ReadError(WHAT, _unknown_profile(core)) from None
    except (botocore.exceptions.SSOError, botocore.exceptions.TokenRetrievalError):
        raise ReadError(WHAT, f"the SSO session of profile '{profile}' has expired or was never started; "
                              f"fix: aws sso login --profile {profile}") from None
    except botocore.exceptions.BotoCoreError as exc:  # a partial pair, a failing credential_process, ...
        raise ReadError(WHAT, f"profile '{profile}' could not give credentials ({exc}); fix its entry in "
                              f"{_config_file()}, or name another with AWS_PROFILE") from None
    if credentials is None:
        raise ReadError(WHAT, f"none found; tried {_tried(core.profile)}; {_web_identity_hint() or FIX_NONE}")
    return session


def call_failure(what: str, exc: Exception) -> ReadError:
    """A failed call as a ReadError; where AWS refused the credentials, with the fix."""
    code = exc.response.get("Error", {}).get("Code") if isinstance(exc, botocore.exceptions.ClientError) else None
    message = (str(exc).splitlines() or [""])[0]
    if code in REJECTED:
        return ReadError(what, f"AWS does not accept the credentials ({message}); they are wrong or have "
                               "expired: fix: renew them (aws sso login, or new keys) or name another profile "
                               "with AWS_PROFILE")
    if code in DENIED:
        return ReadError(what, f"AWS denies it ({message}); fix: allow the identity edgec runs as the read-only "
                               "calls docs/plan.md lists (Describe*/List* on EC2, ELBv2, Route 53 and ACM)")
    return ReadError(what, message)


def _unknown_profile(core: botocore.session.Session) -> str:
    known = ", ".join(sorted(core.available_profiles)) or "none"
    return (f"profile '{core.profile}' (from AWS_PROFILE) is not in {_config_file()} or {_credentials_file()} "
            f"(profiles there: {known}); fix: set AWS_PROFILE to one of them, or create it with "
            f"`aws configure --profile {core.profile}` (or `aws configure sso`)")


def _tried(profile: str | None) -> str:
    return CHAIN.format(profile=f"profile '{profile}'" if profile else "the default profile")


def _web_identity_hint() -> str | None:
    """CI's usual mistake: a role to assume, but no OIDC token to assume it with."""
    if os.environ.get("AWS_ROLE_ARN") and not os.environ.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
        return ("AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not: fix: in GitHub Actions, give the job "
                "`permissions: id-token: write` and a step with aws-actions/configure-aws-credentials")
    return None


def _config_file() -> str:
    return os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config"


def _credentials_file() -> str:
    return os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
