"""The `edgec` command line: the group and its commands, one module per kind of command."""

from edgec.cli import import_command, live, offline, operate  # noqa: F401 (each registers its commands on `main`)
from edgec.cli.app import main

__all__ = ["main"]
