"""API answers are data from elsewhere: each value a reader uses is checked where it is converted, so a
malformed answer (a value of the wrong type, a null, a missing field, a body that does not parse) is
a failed read naming the read and what was wrong, never a crash and never a guess.

    with answer_of("DNS records of acme.com"):
        ttl = number(record.ttl, "ttl")   # ReadError: ... malformed (ttl 'abc' is not a number)
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from edgec.read.budget import ReadError

MAX_PAGES = 1000  # per listing, whatever an answer claims: within one five-minute Cloudflare budget
PAGE_MARGIN = 2  # pages read beyond what the first answer implies before a listing is called endless


class Malformed(ValueError):
    """A value in an API answer that is not what the API documents."""


def malformed(what: str, why: str) -> ReadError:
    return ReadError(what, f"the API's answer is malformed ({why})")


def unparsable(what: str, exc: Exception) -> ReadError:
    """A body the client could not parse (truncated JSON, HTML where XML was due), as a failed read."""
    return malformed(what, f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}")


@contextmanager
def answer_of(what: str) -> Iterator[None]:
    """Turns a Malformed value met while converting the answer to `what` into a ReadError naming it."""
    try:
        yield
    except Malformed as exc:
        raise malformed(what, str(exc)) from None


def text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise Malformed(f"{name} {shown(value)} is not a string")
    return value


def optional_text(value: Any, name: str) -> str | None:
    return None if value is None else text(value, name)


def number(value: Any, name: str) -> int:
    """A whole number; JSON numbers may come as floats (300.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Malformed(f"{name} {shown(value)} is not a number")
    return value


def flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise Malformed(f"{name} {shown(value)} is not true or false")
    return value


def items(value: Any, name: str) -> list:
    if not isinstance(value, list):
        raise Malformed(f"{name} {shown(value)} is not a list")
    return value


def required(mapping: Any, key: str) -> Any:
    """A field the API always sends (an ID, a name): its absence is a malformed answer."""
    if not isinstance(mapping, dict):
        raise Malformed(f"{shown(mapping)} is not an object")
    if mapping.get(key) is None:
        raise Malformed(f"it has no {key}")
    return mapping[key]


def required_text(mapping: Any, key: str) -> str:
    return text(required(mapping, key), key)


def shown(value: Any) -> str:
    """A value as an error message quotes it: its repr, cut short."""
    quoted = repr(value)
    return quoted if len(quoted) <= 60 else quoted[:57] + "..."


class PageCount:
    """Counts the pages of one listing: more than the first answer implies (plus PAGE_MARGIN), or than
    MAX_PAGES, is an API that never ends the listing (one that ignores the page asked for, say)."""

    def __init__(self, what: str, implied: int | None = None):
        self.what, self.implied, self.read = what, implied, 1
        self.limit = MAX_PAGES if implied is None else min(MAX_PAGES, implied + PAGE_MARGIN)

    def another(self) -> None:
        self.read += 1
        if self.read > self.limit:
            said = f", where its first answer implied {self.implied}" if self.implied is not None else ""
            raise ReadError(self.what, f"the listing does not end: stopped after {self.limit} pages{said}")
