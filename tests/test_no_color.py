"""NO_COLOR (https://no-color.org) and --no-color, on a real terminal (a pseudo-terminal): not one escape
sequence from any command, not even bold or the spinner's cursor moves. Without them, the same commands
do colour their output (so the check below can fail)."""

from __future__ import annotations

import os
import pty
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.real_tool("moto_server")

SPEC = str(ROOT / "examples" / "public-api" / "edge.yaml")
COMMANDS = {
    "validate": ["validate", str(ROOT / "tests" / "fixtures" / "five-mistakes.yaml")],
    "check": ["check", SPEC],
    "compile --check": ["compile", "--check", SPEC, "-o", "{tmp}/out"],
    "trace": ["trace", "https://api.acme.com/v1/payments", SPEC],
    "diff": ["diff", SPEC, str(ROOT / "examples" / "private-internal" / "edge.yaml")],
    # the sandbox's spinner, then a plan of the drift it seeds (read spinner, changes in colour)
    "sandbox, plan": ["sandbox", SPEC, "--dir", "{tmp}/s", "--", sys.executable, "-m", "edgec", "plan", "{spec}"],
}


def on_a_terminal(args: list[str], env: dict[str, str]) -> bytes:
    """Everything `python -m edgec ARGS` writes to its terminal (stdout and stderr)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdin, stdout and stderr are the terminal
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "edgec", *args], {**os.environ, **env})
    out = b""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        out += data
    os.waitpid(pid, 0)
    return out


def _args(name: str, tmp_path) -> list[str]:
    return [arg.replace("{tmp}", str(tmp_path)) for arg in COMMANDS[name]]


@pytest.mark.parametrize("name", COMMANDS)
def test_no_color_leaves_no_escape_sequence(tmp_path, name):
    output = on_a_terminal(_args(name, tmp_path), {"NO_COLOR": "1", "COLUMNS": "200"})
    assert len(output) > 40 and b"\x1b" not in output, output


@pytest.mark.parametrize("name", ["validate", "sandbox, plan"])
def test_the_no_color_flag_does_the_same(tmp_path, name):
    output = on_a_terminal(["--no-color", *_args(name, tmp_path)], {"NO_COLOR": ""})
    assert len(output) > 40 and b"\x1b" not in output, output


def test_without_either_a_terminal_gets_colour(tmp_path):
    output = on_a_terminal(_args("validate", tmp_path), {"NO_COLOR": ""})
    assert b"\x1b[" in output
