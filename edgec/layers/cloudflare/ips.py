"""Cloudflare's published edge IP ranges, kept as versioned data in the package.

Public gateways admit only these ranges. They change rarely; refresh them where the network reaches
Cloudflare's API with `python -m edgec.layers.cloudflare.ips --refresh` (or `make refresh-cloudflare-ips`),
review the diff and commit it: the generated security-group rules change with it.
"""

from __future__ import annotations

import datetime
import json
import sys
import urllib.request
from functools import cache
from importlib import resources

DATA_FILE = "cloudflare-ips.json"
SOURCE = "https://api.cloudflare.com/client/v4/ips"


@cache
def cloudflare_ranges() -> dict:
    return json.loads(resources.files("edgec.data").joinpath(DATA_FILE).read_text())


def cloudflare_cidrs() -> list[str]:
    data = cloudflare_ranges()
    return data["ipv4_cidrs"] + data["ipv6_cidrs"]


def refresh(path: str) -> None:
    """Fetch the current ranges from Cloudflare's API (no token needed) and rewrite `path`."""
    with urllib.request.urlopen(SOURCE, timeout=30) as response:  # noqa: S310 (fixed https URL)
        result = json.load(response)["result"]
    data = {"source": SOURCE, "retrieved": datetime.date.today().isoformat(),
            "ipv4_cidrs": result["ipv4_cidrs"], "ipv6_cidrs": result["ipv6_cidrs"]}
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] != ["--refresh"]:
        sys.exit("usage: python -m edgec.layers.cloudflare.ips --refresh")
    target = str(resources.files("edgec.data").joinpath(DATA_FILE))
    refresh(target)
    print(f"updated {target}; review the diff and commit it")
