"""TXT values in Route 53's text form: one or more quoted character-strings of at most 255 bytes,
separated by a space ('"v=DKIM1; p=MIIB..." "...rest"'); a quote or backslash inside is escaped with a
backslash, any byte outside printable ASCII as three octal digits (a newline is \\012)."""

from __future__ import annotations

import re

MAX_STRING = 255  # bytes in one DNS character-string
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def txt_value(content: str) -> str:
    """The spec's text as Route 53 holds it."""
    data = content.encode()
    chunks = [data[i:i + MAX_STRING] for i in range(0, len(data), MAX_STRING)] or [b""]
    return " ".join(f'"{_escaped(chunk)}"' for chunk in chunks)


def _escaped(chunk: bytes) -> str:
    out = []
    for byte in chunk:
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "".join(out)


def txt_strings(value: str) -> list[str]:
    """The character-strings of a value in Route 53's form, still escaped; a value that is not quoted
    is one string."""
    found = _STRING.findall(value)
    return found if found else [value]


def canonical_txt(value: str) -> str:
    """One spelling of a value: '"a""b"' (as the AWS provider writes long values) is '"a" "b"'."""
    return " ".join(f'"{s}"' for s in txt_strings(value))
