"""The Cloudflare API token, and every problem with it said once for every command that reads Cloudflare
(plan, diff --live, drift, apply, import): what is wrong and the fix, as a failed read (exit 1). The token
itself is never shown."""

from __future__ import annotations

import os

import cloudflare

from edgec.read.budget import ReadError

WHAT = "Cloudflare"
TOKENS_PAGE = "https://dash.cloudflare.com/profile/api-tokens"
PERMISSIONS = "Zone Read, DNS Read, Zone Settings Read, Zone WAF Read and SSL and Certificates Read"
VERIFY = ('curl -s -H "Authorization: Bearer $CLOUDFLARE_API_TOKEN" '
          "https://api.cloudflare.com/client/v4/user/tokens/verify")


def api_token() -> str:
    """CLOUDFLARE_API_TOKEN, or a ReadError saying what is wrong with it, before any call is made."""
    token = os.environ.get("CLOUDFLARE_API_TOKEN")
    if not token:
        raise ReadError(WHAT, f"CLOUDFLARE_API_TOKEN is not set; fix: create a token at {TOKENS_PAGE} with "
                              f"{PERMISSIONS} on the spec's zones, and export CLOUDFLARE_API_TOKEN")
    problem = token_problem(token)
    if problem:
        raise ReadError(WHAT, f"CLOUDFLARE_API_TOKEN {problem}")
    return token


def token_problem(token: str) -> str | None:
    """What is wrong with a token's form, said at once (an HTTP header cannot carry it), never showing it."""
    if token != token.strip():
        return "starts or ends with white space (a newline copied with it?); remove it"
    if not token.isascii() or not token.isprintable() or " " in token:
        return "holds characters no API token has (only printable ASCII, no spaces); copy it again"
    return None


def refused(what: str, exc: cloudflare.APIStatusError, detail: str) -> ReadError | None:
    """A 401 or 403 as the token's problem, with the fix; None for any other failure."""
    if exc.status_code not in (401, 403):
        return None
    return ReadError(what, f"Cloudflare refused the token in CLOUDFLARE_API_TOKEN (HTTP {exc.status_code}: {detail}): "
                           f"it is invalid, expired or revoked, or lacks a permission; fix: check it with `{VERIFY}`, "
                           f"and give it {PERMISSIONS} on the spec's zones ({TOKENS_PAGE})")
