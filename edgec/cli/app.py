"""The `edgec` command group and what every command shares: the console, exit codes, located
diagnostics, and the last line of defence that turns a bug into exit code 3."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click
from rich.console import Console
from rich.text import Text

from edgec import about
from edgec.diagnostics import Diagnostic, Severity, one_line
from edgec.render import inert
from edgec.spec.validate import Validation

EXIT_OK, EXIT_ERRORS, EXIT_CHANGES, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2, 3, 64
_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow"}


def make_console(**options) -> Console:
    """Every command prints through this: one diagnostic per line whatever the width (so grep and CI
    annotations work), and data shown as text, never as markup or terminal escapes (render/inert.py)."""
    return inert.console(plain=plain_output(), **options)


def plain_output() -> bool:
    """NO_COLOR set to anything (https://no-color.org) or --no-color: no escape sequence at all."""
    context = click.get_current_context(silent=True)
    return bool(os.environ.get("NO_COLOR")) or bool(context and context.find_root().params.get("no_color"))


def marks() -> tuple[str, str]:
    """✓ and ✗ where the output encoding has them (not on an ASCII or cp1252 console)."""
    try:
        "✓✗".encode(sys.stdout.encoding or "ascii")
        return "✓", "✗"
    except (UnicodeEncodeError, LookupError):
        return "OK", "FAIL"


def exit_interrupted(code: int) -> NoReturn:
    """Exit at once after Ctrl-C, without waiting for the reader threads still blocked on an API call
    (Python would join them first: up to the read timeout times the retries, with "Aborted!" already
    shown). Nothing is left half done: reads change nothing, `finally` blocks have run, Terraform runs
    handle signals themselves (edgec/apply/interrupt.py), and an Envoy delivery finishes its swaps
    before the interruption reaches here."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class _Group(click.Group):
    """Turns an unexpected exception (a bug in edgec) into a short message and exit code 3, so CI can
    tell it from a spec error (exit 1). EDGEC_DEBUG=1 shows the traceback. Usage errors exit 64
    (EX_USAGE), not click's 2, because 2 means "changes" for `plan`, as in terraform."""

    def main(self, *args, **kwargs):
        kwargs.pop("standalone_mode", None)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as exc:
            exc.show()
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Abort as exc:
            click.echo("Aborted!", err=True)
            if isinstance(exc.__context__, KeyboardInterrupt):
                exit_interrupted(EXIT_ERRORS)
            sys.exit(EXIT_ERRORS)
        sys.exit(code if isinstance(code, int) else EXIT_OK)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 (the last line of defence)
            if os.environ.get("EDGEC_DEBUG"):
                raise
            # the exception's text may quote data (a spec's or an API's): shown inert, as every renderer does
            click.echo(f"edgec: internal error: {type(exc).__name__}: {inert.visible(str(exc))}\n"
                       "This is a bug in edgec. Run again with EDGEC_DEBUG=1 for the traceback and report it "
                       "with the input that caused it.", err=True)
            sys.exit(EXIT_INTERNAL)


def _print_version(ctx: click.Context, _param, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(about.version_line())
        ctx.exit()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--version", "-V", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and the project's address, and exit.")
@click.option("--no-color", is_flag=True, help="No colour, bold or spinner: plain text (as NO_COLOR=1 does).")
def main(no_color: bool) -> None:
    """edgec: one spec for your edge, compiled to Cloudflare, AWS and Envoy.

    \b
    Examples:
      edgec validate examples/public-api/edge.yaml
      edgec validate examples/multi-team/            # a folder: every .yaml/.yml below it
      edgec validate --format json spec.yaml > diagnostics.json
      edgec compile examples/public-api/edge.yaml -o generated/public-api
      edgec schema > schemas/edge.schema.json
    """


def diagnostic_line(d: Diagnostic) -> Text:
    line = Text(one_line(f"{d.location}: "))
    line.append(d.severity.value, style=_STYLE[d.severity])
    line.append(one_line(f": {d.field_path}: "), style="bold")
    line.append(one_line(d.message))
    return line


def print_diagnostics(console: Console, result: Validation) -> None:
    for d in result.diagnostics:
        console.print(diagnostic_line(d))
