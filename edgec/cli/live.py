"""Commands that read live state (read-only): plan, diff, drift.

edgec.diff.make_plan and edgec.apply.run are imported inside the commands: they bring the AWS and
Cloudflare SDKs, whose import (~0.4 s) the offline commands need not pay.
"""

from __future__ import annotations

import json
import pathlib
import sys

import click
from rich.console import Console
from rich.text import Text

from edgec.cli.app import (
    EXIT_CHANGES,
    EXIT_ERRORS,
    EXIT_OK,
    main,
    make_console,
    marks,
    print_diagnostics,
)
from edgec.diff.plan import Plan, PlanOptions
from edgec.diff.spec_changes import spec_changes
from edgec.diff.versions import load_version
from edgec.layers import LAYER_NAMES
from edgec.read.budget import DEFAULT_CLOUDFLARE_RATE
from edgec.render.drift import drift_html, drift_json, drift_markdown, drift_text_lines, read_history
from edgec.render.plan_markdown import render_plan_markdown
from edgec.render.plan_text import print_plan
from edgec.render.progress import read_progress
from edgec.render.spec_changes import (
    pr_comment,
    print_spec_changes,
    spec_changes_markdown,
)
from edgec.spec.validate import Validation, validate

READ_OPTIONS = {
    "cloudflare_rate": click.option(
        "--cloudflare-rate", type=click.FloatRange(min=0.1), default=DEFAULT_CLOUDFLARE_RATE, show_default=True,
        help="Cloudflare API requests per second, sustained; after a burst of what Cloudflare's budget of "
             "1,200 per 5 minutes leaves at that rate (150 at 3.5)."),
    "layers": click.option("--layer", "layers", multiple=True, type=click.Choice(LAYER_NAMES),
                           help="Compare only this layer (repeatable; default: every layer the spec uses)."),
    "envoy_admins": click.option(
        "--envoy-admin", "envoy_admins", multiple=True, metavar="GATEWAY=URL",
        help="Admin URL of a running gateway, e.g. public=http://127.0.0.1:9901 (repeatable, or comma-separated)."),
    "envoy_config_dir": click.option(
        "--envoy-config-dir", metavar="DIR",
        help="Where the gateways' Envoy finds its config files (default /etc/envoy, as compiled): a gateway that "
             "reports the versions the spec compiles to for it is compared in one call, others by content."),
    "read_timeout": click.option(
        "--read-timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
        help="Seconds to wait to connect and for each answer, from every API (Cloudflare, AWS, an Envoy admin), "
             "before retrying; a call that still fails after 5 attempts (1 for Envoy) fails the read."),
    "ignore_files": click.option("--ignore-file", "ignore_files", multiple=True, type=click.Path(dir_okay=False),
                                 help="A YAML file of `ignore:` rules, added to the spec's (repeatable)."),
}


def read_options(command, names=tuple(READ_OPTIONS)):
    """The options of commands that read live state (plan, drift; apply takes some)."""
    for name in reversed(names):
        command = READ_OPTIONS[name](command)
    return command


def gateway_pairs(entries: tuple[str, ...], option: str, what: str) -> dict[str, str]:
    """GATEWAY=VALUE entries; several may come in one, separated by commas (as in the environment)."""
    out = {}
    for entry in (e for given in entries for e in given.split(",") if e.strip()):
        gateway, sep, value = entry.strip().partition("=")
        if not sep or not gateway or not value:
            raise click.BadParameter(f"'{entry}' is not GATEWAY={what}", param_hint=option)
        out[gateway] = value
    return out


def plan_options(cloudflare_rate: float, layers: tuple[str, ...], envoy_admins: tuple[str, ...],
                 read_timeout: float, envoy_config_dir: str | None = None) -> PlanOptions:
    return PlanOptions(cloudflare_rate=cloudflare_rate, layers=frozenset(layers) or None,
                       envoy_admins=gateway_pairs(envoy_admins, "--envoy-admin", "URL"), timeout=read_timeout,
                       envoy_config_dir=envoy_config_dir)


def _read_live(console: Console, spec: str, ignore_files: tuple[str, ...], **read) -> tuple[Validation, Plan]:
    result = validate(spec, ignore_files)
    if not result.ok:
        print_diagnostics(console, result)
        sys.exit(EXIT_ERRORS)
    from edgec.diff.make_plan import make_plan

    options = plan_options(**read)
    with read_progress(console) as progress:
        return result, make_plan(result.ir, result.spec.ignore, options, progress)


def _plan_exit(plan: Plan) -> None:
    sys.exit(EXIT_ERRORS if plan.errors else EXIT_CHANGES if plan.has_changes else EXIT_OK)


@main.command("plan")
@click.argument("spec", metavar="SPEC")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="text for people, json for tools, markdown for a pull-request comment.")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), metavar="PLANFILE",
              help="Save the reviewed plan, pinned to the spec, compiled output and live state, for `edgec apply`.")
@read_options
def plan_command(spec: str, fmt: str, out: str | None, **read) -> None:
    """Compare SPEC with what is live, and show what would change. Changes nothing.

    Reads Cloudflare (token from CLOUDFLARE_API_TOKEN; CLOUDFLARE_BASE_URL overrides the API
    address) and AWS (the standard credential chain; AWS_ENDPOINT_URL for an emulator) at the
    same time, and running Envoy gateways through their admin API (--envoy-admin): by version
    first (one call when a gateway runs the versions the spec compiles to), else its whole
    /config_dump, compared by content.
    Layers that cannot or may not be read are listed as "not compared", never guessed.

    \b
    Exit codes (as terraform plan -detailed-exitcode): 0 no changes, 2 changes,
    1 error (an invalid spec, or a read that failed: nothing is assumed about what was not read).

    \b
    Examples:
      CLOUDFLARE_API_TOKEN=... edgec plan examples/public-api/edge.yaml
      edgec plan --format json examples/multi-team/ > plan.json
      edgec plan --format markdown edge.yaml > comment.md   # for a PR comment
      edgec plan --layer envoy --envoy-admin public=http://127.0.0.1:9901 edge.yaml
      edgec plan edge.yaml --out reviewed.plan && edgec apply reviewed.plan
    """
    from edgec.apply.pin import is_plan_file
    from edgec.apply.run import plan_file

    if out and not is_plan_file(out):
        raise click.BadParameter(f"'{out}' would be taken for a spec by edgec apply (a folder or a .yaml/.yml "
                                 "file); name the plan file otherwise, such as reviewed.plan", param_hint="--out")
    console = make_console()
    result, plan = _read_live(console, spec, **read)
    if out and not plan.errors:
        plan_file(spec, read["ignore_files"], result, plan, read["layers"]).write(out)
    if fmt == "json":
        click.echo(json.dumps(plan.to_json(), indent=2, sort_keys=False))
    elif fmt == "markdown":
        click.echo(render_plan_markdown(plan), nl=False)
    else:
        print_plan(console, plan)
    if out and not plan.errors:
        make_console(stderr=True).print(f"Saved the plan to {out}; apply it with: edgec apply {out}")
    _plan_exit(plan)


@main.command("diff")
@click.argument("base", metavar="BASE")
@click.argument("head", metavar="HEAD")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True,
              help="markdown for a pull-request comment.")
@click.option("--live", is_flag=True, help="Also read live state for HEAD (as `edgec plan`) and combine both into "
                                          "one comment (markdown) or report.")
@read_options
def diff_command(base: str, head: str, fmt: str, live: bool, ignore_files: tuple[str, ...], **read) -> None:
    """What changes between two versions of a spec, grouped by hostname.

    BASE and HEAD are spec paths (files or folders) or git revisions of one, as REV:PATH
    (origin/main:edge/, HEAD~1:edge.yaml; PATH from the top of the repository). Destructive
    changes (a host, route, record or WAF rule removed, TLS weakened, exposure changed) are flagged.
    With --live, HEAD is also compared with the live estate (its ignore rules, and those of any
    --ignore-file, hide accepted differences), and --format markdown gives the one pull-request
    comment: a single line, "edgec: no changes.", when nothing differs.

    \b
    Exit codes: 0 no changes, 2 changes, 1 an invalid spec or a failed read, 64 wrong usage.

    \b
    Examples:
      edgec diff origin/main:examples/multi-team/ examples/multi-team/
      edgec diff HEAD~1:edge.yaml HEAD:edge.yaml --format markdown
      edgec diff origin/main:edge/ edge/ --live --format markdown > comment.md
      edgec diff main:edge.yaml edge.yaml --live --ignore-file accepted-drift.yaml
    """
    console = make_console()
    if ignore_files and not live:
        raise click.UsageError("--ignore-file hides differences from the live estate: use it with --live")
    versions = []
    for target in (base, head):
        try:
            result = load_version(target, ignore_files=ignore_files if target is head else ())
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="BASE" if target is base else "HEAD")
        if not result.ok:
            print_diagnostics(console, result)
            console.print(Text(f"{marks()[1]} {target}: not compared, fix the errors above", style="bold red"))
            sys.exit(EXIT_ERRORS)
        versions.append(result)
    changes = spec_changes(versions[0].spec, versions[1].spec, base_label=base, head_label=head)
    plan = None
    if live:
        from edgec.diff.make_plan import make_plan

        with read_progress(console) as progress:
            plan = make_plan(versions[1].ir, versions[1].spec.ignore, plan_options(**read), progress)
    if fmt == "markdown":
        text = pr_comment(changes, plan) if live else spec_changes_markdown(changes)
        click.echo(text, nl=not text.endswith("\n"))
    elif fmt == "json":
        click.echo(json.dumps({"spec": changes.to_json(), "plan": plan.to_json() if plan else None}, indent=2))
    else:
        print_spec_changes(console, changes)
        if plan is not None:
            print_plan(console, plan)
    if plan is not None and plan.errors:
        sys.exit(EXIT_ERRORS)
    sys.exit(EXIT_CHANGES if changes.has_changes or (plan is not None and plan.has_changes) else EXIT_OK)


@main.command("drift")
@click.argument("spec", metavar="SPEC")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "html"]), default="text",
              show_default=True, help="html is a self-contained page, for a scheduled job's artifacts.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write here, not stdout.")
@click.option("--history", type=click.Path(exists=True, file_okay=False),
              help="A folder of earlier `--format json` reports: the HTML page charts drift per owner over time.")
@read_options
def drift_command(spec: str, fmt: str, output: str | None, history: str | None, **read) -> None:
    """Report what differs between SPEC and the live estate, by the team that owns it.

    The same reads and comparison as `plan`, framed for scheduled jobs: each difference (changed
    out of band, missing, stray) is attributed to the owner of its hostname, zone or gateway.
    Changes nothing.

    \b
    The HTML page opens with a summary (differences by owner and action), then the findings
    most urgent first: a security group rule open to the internet that the spec does not
    have, then what an apply would delete or replace, other differences, live-only objects.
    With --history, it charts each owner's differences over the earlier JSON reports (dated
    by their files' modification times).

    \b
    Exit codes: 0 no drift, 2 drift found, 1 error (a read that failed), 64 wrong usage.

    \b
    Examples:
      edgec drift examples/multi-team/ --format html -o drift.html
      edgec drift edge.yaml --format json -o reports/$(date +%F).json
      edgec drift edge.yaml --format html --history reports/ -o drift.html
      edgec drift edge.yaml --format json | jq '.by_owner'
    """
    if history and fmt != "html":
        raise click.UsageError("--history charts drift over time in the HTML page: use it with --format html")
    console = make_console()
    result, plan = _read_live(console, spec, **read)
    if fmt == "text":
        print_plan(console, plan, drift=True)
        for line in drift_text_lines(result.spec, plan):
            console.print(line)
    else:
        text = {"json": lambda: json.dumps(drift_json(result.spec, plan), indent=2) + "\n",
                "markdown": lambda: drift_markdown(result.spec, plan),
                "html": lambda: drift_html(result.spec, plan, history=history and read_history(history))}[fmt]()
        if output:
            pathlib.Path(output).write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)
    _plan_exit(plan)
