"""Stable names: Terraform labels and AWS resource names derived from spec names, never positions."""

from __future__ import annotations

import hashlib
import re

AWS_NAME_LIMIT = 32  # load balancers and target groups


def slug(*parts: str) -> str:
    """'api.acme.com', 'CNAME' -> 'api_acme_com_cname': a valid Terraform label, readable in a diff."""
    text = "_".join(p for p in parts if p)
    text = re.sub(r"[^a-z0-9_-]", "_", text.lower().replace("*", "star"))
    return text if re.match(r"^[a-z_]", text) else f"r_{text}"


def short_hash(text: str, length: int = 6) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def aws_name(*parts: str, limit: int = AWS_NAME_LIMIT) -> str:
    """An AWS name of at most `limit` characters: 'acme-prod-public', shortened with a hash if long."""
    name = "-".join(parts).replace("_", "-")
    if len(name) <= limit:
        return name
    return f"{name[: limit - 7].rstrip('-')}-{short_hash(name)}"
