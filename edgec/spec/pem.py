"""Client certificates named by the spec (an origin-pull certificate's `certificate_file`): read once,
checked to be PEM certificates with no private key beside them, and fingerprinted so that the one
Cloudflare holds can be compared with the spec's without showing either."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from functools import cache

MAX_PEM_BYTES = 64 * 1024  # a certificate chain is a few KiB
_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.DOTALL)


class PemError(ValueError):
    """What is wrong with a certificate file, said so the user can fix it."""


@dataclass(frozen=True)
class Pem:
    text: str  # the certificate block(s), normalised: no text around them, one newline at the end
    fingerprint: str  # SHA-256 of the first certificate's DER, hex: how the certificate is compared


@cache
def read_certificate(path: str) -> Pem:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_PEM_BYTES + 1)
    except OSError as exc:
        raise PemError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_PEM_BYTES:
        raise PemError(f"{path} is larger than {MAX_PEM_BYTES // 1024} KiB; it should hold one PEM certificate")
    try:
        return parse_certificate(raw.decode("ascii"))
    except UnicodeDecodeError:
        raise PemError(f"{path} is not a PEM file (PEM is ASCII text)") from None
    except PemError as exc:
        raise PemError(f"{path} {exc}") from None


def parse_certificate(text: str) -> Pem:
    blocks = _BLOCK.findall(text)
    if any("PRIVATE KEY" in kind for kind, _ in blocks):
        raise PemError("holds a private key: keep the key apart (key_file or key_secret) and the file to "
                       "the certificate only")
    certificates = [body for kind, body in blocks if kind == "CERTIFICATE"]
    if not certificates:
        raise PemError("holds no '-----BEGIN CERTIFICATE-----' block")
    try:
        der = [base64.b64decode("".join(body.split()), validate=True) for body in certificates]
    except binascii.Error:
        raise PemError("holds a certificate block that is not valid base64") from None
    text = "".join(f"-----BEGIN CERTIFICATE-----\n{body.strip()}\n-----END CERTIFICATE-----\n"
                   for body in certificates)
    return Pem(text, hashlib.sha256(der[0]).hexdigest())


def fingerprint(text: str) -> str | None:
    """The fingerprint of a PEM certificate from an API answer, or None when it is not one."""
    try:
        return parse_certificate(text).fingerprint
    except PemError:
        return None
