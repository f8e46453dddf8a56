"""The ownership marker: how edgec recognises what it created where a provider has no tags.

Cloudflare records, rulesets and Route 53 zones carry `edgec:<spec>` (then any comment of the spec's)
in their comment or description; AWS resources carry tags instead (the AWS layer's `ownership_tags`).
Only what carries the marker of this spec is ever deleted; the rest is reported as unmanaged.
"""

from __future__ import annotations


def marker(spec_name: str, comment: str | None = None) -> str:
    text = f"edgec:{spec_name}"
    return f"{text} {comment}" if comment else text


def carries_marker(spec_name: str, text: str | None) -> bool:
    own = marker(spec_name)
    return bool(text) and (text == own or text.startswith(own + " "))


def unmarked(spec_name: str, text: str | None) -> str | None:
    """`text` without this spec's marker: what the marker was added to (None when nothing is left)."""
    if not carries_marker(spec_name, text):
        return text or None
    assert text is not None
    return text[len(marker(spec_name)):].lstrip(" ") or None
