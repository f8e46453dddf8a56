"""The project's addresses, read from edgec's installed metadata (the Project-URL fields that
pyproject.toml's [project.urls] writes): pyproject.toml is the one place they are written."""

from __future__ import annotations

import functools
import re
from importlib.metadata import PackageNotFoundError, metadata

from edgec import __version__


def _label(name: str) -> str:
    """'Homepage', 'home-page' and 'HomePage' are one label (as packaging normalises them)."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


@functools.cache
def project_urls() -> dict[str, str]:
    """{normalised label: URL}, e.g. {'homepage': 'https://github.com/edgec/edgec', ...}; empty when
    edgec runs from a source tree that is not installed (there is no metadata to read)."""
    try:
        fields = metadata("edgec").get_all("Project-URL") or []
    except PackageNotFoundError:
        return {}
    urls = {}
    for field in fields:
        label, _, url = field.partition(",")
        urls[_label(label)] = url.strip()
    return urls


def homepage() -> str | None:
    return project_urls().get("homepage")


def version_line() -> str:
    """What `edgec --version` prints: 'edgec 0.1.0 (https://github.com/edgec/edgec)'."""
    url = homepage()
    return f"edgec {__version__}" + (f" ({url})" if url else "")
