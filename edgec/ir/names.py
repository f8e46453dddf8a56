"""Stable names: Terraform labels and AWS resource names derived from spec names, never positions.

A Terraform label may hold only letters, digits, '_' and '-', so names are written readably
('api.acme.com', 'CNAME' -> 'api_acme_com_cname'; '*.acme.com' -> 'star_acme_com'). That mapping is
ambiguous for a few spellings ('a_b' and 'a.b', '*.x' and 'star.x'), so a part written in one of them
gets a short digest of its exact text appended: two different spec names never share a label. (The
IR builder still checks every address, and reports a clash as a located error, never a crash.)
"""

from __future__ import annotations

import hashlib
import re

AWS_NAME_LIMIT = 32  # load balancers and target groups
SECURITY_GROUP_NAME_LIMIT = 255
# A part that maps one to one: a name of letters, digits, '_' and '-' (an identifier, a record type), or
# a DNS name whose labels are letters, digits and '-', each optionally led by one '_' (_dmarc, _sip._tcp),
# the first possibly '*' (but then no first label may be 'star', which '*' is written as); or a CIDR.
_WORD = re.compile(r"[a-z0-9_-]+")
_DNS_NAME = re.compile(r"(\*|_?[a-z0-9-]+)(\._?[a-z0-9-]+)+")
_CIDR = re.compile(r"[0-9a-f.:]+/[0-9]+")  # canonical (validation rewrites them so): one spelling each


def _unambiguous(part: str) -> bool:
    if _WORD.fullmatch(part) or _CIDR.fullmatch(part):
        return True
    return bool(_DNS_NAME.fullmatch(part)) and not part.startswith("star.")


def slug(*parts: str) -> str:
    """A valid, readable Terraform label for these parts, distinct for distinct parts."""
    given = [p for p in parts if p]
    text = re.sub(r"[^a-z0-9_-]", "_", "_".join(given).lower().replace("*", "star"))
    if not all(_unambiguous(p) for p in given):  # upper case is ambiguous too: pass record types lowered
        text = f"{text}_{short_hash(chr(0).join(given))}"
    return text if re.match(r"^[a-z_]", text) else f"r_{text}"


def record_label(fqdn: str, rtype: str, zone: str, served_by: str | None) -> str:
    """A record set's label: its name and type; and its zone, when a zone nested in that one holds the
    name too (the same name and type may then stand in both)."""
    return slug(fqdn, rtype.lower()) if served_by in (zone, None) else slug(fqdn, rtype.lower(), "in", zone)


def short_hash(text: str, length: int = 6) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def aws_name(*parts: str, limit: int = AWS_NAME_LIMIT) -> str:
    """An AWS name of at most `limit` characters: 'acme-prod-public', shortened with a hash if long."""
    # letters, digits and single hyphens, ending with a letter or digit (target groups refuse '--')
    name = re.sub(r"-{2,}", "-", "-".join(parts).replace("_", "-")).rstrip("-")
    if len(name) <= limit:
        return name
    return f"{name[: limit - 7].rstrip('-')}-{short_hash(name)}"
