"""Commands that work offline, from the spec alone: validate, check, trace, compile, schema."""

from __future__ import annotations

import json
import pathlib
import sys
import tempfile
import time

import click
from rich.console import Console
from rich.text import Text

from edgec.cli.app import (
    EXIT_ERRORS,
    EXIT_OK,
    diagnostic_line,
    main,
    make_console,
    marks,
    print_diagnostics,
)
from edgec.diagnostics import Severity
from edgec.emit import yaml_text
from edgec.emit.compile import compile_ir
from edgec.ir.serial import dump_ir
from edgec.layers.base import EmitOptions, OutputRefused
from edgec.layers.envoy.check import check_envoy
from edgec.policy.check import check_policies
from edgec.render.check_report import (
    ALL_POLICIES,
    check_json,
    check_junit,
    check_sarif,
    print_check,
)
from edgec.render.trace_text import print_trace
from edgec.spec.docs import render_markdown
from edgec.spec.schema import fragment_schema, spec_schema, to_text
from edgec.spec.validate import Validation, validate
from edgec.trace import trace_url


@main.command("validate")
@click.argument("specs", nargs=-1, required=True, metavar="SPEC...")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people, json for tools.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1 on any warning).")
def validate_command(specs: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Check each SPEC (a file, or a directory of team files) and report every problem at once.

    Each problem is printed as FILE:LINE:COL: SEVERITY: FIELD.PATH: MESSAGE. Nothing is contacted:
    validation works offline.

    \b
    Exit codes: 0 valid (warnings allowed), 1 errors found (or warnings with --strict),
    3 internal error (a bug in edgec), 64 wrong usage of the command.

    \b
    Examples:
      edgec validate examples/public-api/edge.yaml
      edgec validate examples/*/ --strict
      edgec validate --format json edge.yaml | jq '.results[].diagnostics[]'
    """
    results = [validate(spec) for spec in specs]
    if fmt == "json":
        click.echo(json.dumps(_json_report(results), indent=2))
    else:
        _print_text(results)
    failed = any(not r.ok or (strict and r.diagnostics) for r in results)
    sys.exit(EXIT_ERRORS if failed else EXIT_OK)


def _counts(result: Validation) -> tuple[int, int]:
    errors = sum(d.severity is Severity.ERROR for d in result.diagnostics)
    return errors, len(result.diagnostics) - errors


def _json_report(results: list[Validation]) -> dict:
    report = []
    for r in results:
        errors, warnings = _counts(r)
        report.append({"target": r.target, "files": r.files, "valid": r.ok, "errors": errors,
                       "warnings": warnings, "diagnostics": [d.to_json() for d in r.diagnostics]})
    return {"schema_version": 1, "results": report}


def _print_text(results: list[Validation]) -> None:
    console = make_console()
    for r in results:
        print_diagnostics(console, r)
        errors, warnings = _counts(r)
        files = f"{len(r.files)} file{'s' * (len(r.files) != 1)}"
        if r.ok:
            summary = Text(f"{marks()[0]} {r.target}: valid ({files}", style="green")
            summary.append(f", {warnings} warning{'s' * (warnings != 1)})" if warnings else ")")
        else:
            summary = Text(f"{marks()[1]} {r.target}: {errors} error{'s' * (errors != 1)}, "
                           f"{warnings} warning{'s' * (warnings != 1)} ({files})", style="bold red")
        console.print(summary)


@main.command("check")
@click.argument("specs", nargs=-1, metavar="SPEC...")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "junit"]), default="text",
              show_default=True, help="sarif for GitHub code scanning, junit for CI test reports.")
@click.option("--fail-on", type=click.Choice(["note", "warning", "error", "never"]), default="error",
              show_default=True, help="Exit 1 when an unsuppressed finding is at least this severe.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write here, not stdout.")
@click.option("--list", "list_policies", is_flag=True, help="List the policies (ID, severity, title) and exit.")
def check_command(specs: tuple[str, ...], fmt: str, fail_on: str, output: str | None, list_policies: bool) -> None:
    """Check SPEC, what it resolves to and its output against edgec's policies (EDGE001...), offline.
    Several SPECs (text format only, as the pre-commit hook passes them) are checked in turn.

    Each finding names its policy, severity, the spec FILE:LINE:COL, why it matters and the fix.
    Suppress one inline, with a reason (required), on the finding's line or above the element:

    \b
      # edgec:allow EDGE011 the admin UI is behind Cloudflare Access
      - host: admin.acme.com

    \b
    Exit codes: 0 no finding at or above --fail-on, 1 findings (or an invalid spec),
    3 internal error, 64 wrong usage.

    \b
    Examples:
      edgec check examples/public-api/edge.yaml
      edgec check --format sarif -o edgec.sarif edge.yaml     # upload with github/codeql-action/upload-sarif
      edgec check --format junit -o edgec-junit.xml --fail-on warning edge.yaml
      edgec check --list
    """
    console = make_console()
    if list_policies:
        for p in ALL_POLICIES:
            console.print(f"{p.id}  {p.severity:<7}  {p.title}")
        return
    if not specs:
        raise click.UsageError("missing argument SPEC (or use --list)")
    if len(specs) > 1 and (fmt != "text" or output):
        raise click.UsageError(f"{'-o' if output else '--format ' + fmt} takes one SPEC, got {len(specs)}")
    sys.exit(max(_check_one(console, spec, fmt, fail_on, output) for spec in specs))


def _check_one(console, spec: str, fmt: str, fail_on: str, output: str | None) -> int:
    result = validate(spec)
    if not result.ok:
        print_diagnostics(console, result)
        return EXIT_ERRORS
    results = check_policies(result)
    if fmt == "text" and output:
        with open(output, "w", encoding="utf-8") as fh:
            print_check(make_console(file=fh), spec, results, fail_on)
    elif fmt == "text":
        print_check(console, spec, results, fail_on)
    else:
        text = {"json": lambda: json.dumps(check_json(spec, results, fail_on), indent=2) + "\n",
                "sarif": lambda: json.dumps(check_sarif(results), indent=2) + "\n",
                "junit": lambda: check_junit(spec, results, fail_on)}[fmt]()
        if output:
            pathlib.Path(output).write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)
    return EXIT_ERRORS if any(r.fails(fail_on) for r in results) else EXIT_OK


@main.command("trace")
@click.argument("url", metavar="URL")
@click.argument("spec", metavar="SPEC")
@click.option("-X", "--method", default="GET", show_default=True, help="HTTP method of the request.")
@click.option("-H", "--header", "headers", multiple=True, metavar="NAME:VALUE", help="A request header (repeatable).")
def trace_command(url: str, spec: str, method: str, headers: tuple[str, ...]) -> None:
    """Walk one URL through every layer of SPEC, statically: DNS, Cloudflare, WAF, NLB, Envoy
    listener, filter chain, virtual host and route, and the cluster it reaches.

    WAF rules are evaluated where their conditions are on the host, path, query or method; the rest
    are "may match". When nothing matches, the last line says at which layer the request dies.

    \b
    Exit codes: 0 the request reaches a cluster (or a redirect), 1 it dies at a layer (or the
    spec is invalid), 64 wrong usage (e.g. not an http(s) URL).

    \b
    Examples:
      edgec trace https://api.acme.com/v1/payments examples/public-api/edge.yaml -X POST
      edgec trace https://grpc.initech.internal/initech.orders.v1.OrderService/Get \\
          -H content-type:application/grpc examples/private-internal/edge.yaml
    """
    console = make_console()
    parsed = {}
    for entry in headers:
        name, sep, value = entry.partition(":")
        if not sep or not name.strip():
            raise click.BadParameter(f"'{entry}' is not NAME:VALUE", param_hint="--header")
        parsed[name.strip().lower()] = value.strip()
    result = validate(spec)
    if not result.ok:
        print_diagnostics(console, result)
        sys.exit(EXIT_ERRORS)
    try:
        trace = trace_url(result.spec, url, method.upper(), parsed, ir=result.ir)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URL")
    print_trace(console, trace)
    sys.exit(EXIT_ERRORS if trace.dies_at is not None else EXIT_OK)


def envoy_output_options(command):
    """--envoy-form and --envoy-config-dir (compile; apply takes --envoy-config-dir)."""
    command = ENVOY_CONFIG_DIR(command)
    return click.option(
        "--envoy-form", type=click.Choice(["static", "dynamic", "kubernetes"]), default="static", show_default=True,
        help="static: one complete bootstrap per gateway (a change needs a restart); dynamic: listeners and "
             "clusters in watched files, for edgec apply --layer envoy; kubernetes: the dynamic form's files as "
             "ConfigMap manifests (docs/envoy.md).")(command)


ENVOY_CONFIG_DIR = click.option(
    "--envoy-config-dir", default="/etc/envoy", show_default=True, metavar="DIR",
    help="Where the gateways find edgec's Envoy files: every path in them hangs from it.")


@main.command("compile")
@click.argument("spec", metavar="SPEC")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False),
              help="Folder to write into (default: generated/<spec name>).")
@click.option("--check", is_flag=True,
              help="Run `envoy --mode validate` on each generated gateway (needs envoy and openssl: without "
                   "them, exit 1).")
@click.option("--skip-envoy-check", is_flag=True,
              help="With --check, where envoy or openssl is missing, say so and go on (exit 0) instead of failing.")
@click.option("--ir", "ir_path", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="Also write the IR (every resource the spec resolves to, in every layer) as YAML to FILE.")
@envoy_output_options
def compile_command(spec: str, out_dir: str | None, check: bool, skip_envoy_check: bool, ir_path: str | None,
                    envoy_form: str, envoy_config_dir: str) -> None:
    """Compile SPEC into Terraform for AWS and Cloudflare (v5) and Envoy config, after validating it.

    \b
    Writes, under the output folder:
      terraform/aws/         NLBs, listeners, target groups, security groups, Route 53, ACM
      terraform/cloudflare/  DNS records, WAF rulesets, zone settings, origin certificates
      envoy/<gateway>.yaml   an Envoy v3 bootstrap per gateway (mount envoy/ at /etc/envoy)
      envoy/sds/<cert>.yaml  file-based SDS secrets, so certificates rotate without a restart
    With --envoy-form dynamic, per gateway a small bootstrap that loads its listeners and
    clusters from watched files instead, delivered without a restart by `edgec apply --layer
    envoy` (docs/envoy.md):
      envoy/<gateway>/bootstrap.yaml, envoy/<gateway>/lds/lds.yaml, envoy/<gateway>/cds/cds.yaml
    With --envoy-form kubernetes, the same files as ConfigMaps, to mount where the bootstrap
    expects them (docs/envoy.md, "Kubernetes"); a ConfigMap holds at most 1 MiB:
      envoy/kubernetes/<gateway>.yaml, envoy/kubernetes/sds.yaml
    Apply the AWS layer first: the Cloudflare layer finds each NLB by name. Output is
    deterministic; only changed files are rewritten, and files edgec no longer produces
    are removed (other files in the folder are left alone).

    \b
    Exit codes: 0 compiled, 1 the spec has errors or does not fit the chosen form (nothing
    is written) or, with --check, Envoy rejects a gateway or cannot be run (unless
    --skip-envoy-check), 3 internal error (a bug in edgec), 64 wrong usage.

    \b
    Examples:
      edgec compile examples/public-api/edge.yaml
      edgec compile examples/multi-team/ -o generated/multi-team
      edgec compile --check examples/private-internal/edge.yaml
      edgec compile --check --skip-envoy-check edge.yaml   # where Envoy may not be installed
      edgec compile edge.yaml --ir ir.yaml      # what each route's timeout, retries, ... resolve to
      edgec compile edge.yaml --envoy-form dynamic --envoy-config-dir /srv/envoy
    """
    if skip_envoy_check and not check:
        raise click.UsageError("--skip-envoy-check is about --check: use it with --check")
    console = make_console()
    started = time.perf_counter()
    result = validate(spec)
    if not result.ok:
        print_diagnostics(console, result)
        console.print(Text(f"{marks()[1]} {spec}: not compiled, fix the errors above", style="bold red"))
        sys.exit(EXIT_ERRORS)
    try:
        compiled = compile_ir(result.ir, out_dir or f"generated/{result.spec.name}",
                              EmitOptions(envoy_form, envoy_config_dir))
    except OutputRefused as exc:
        console.print(Text(f"{marks()[1]} {spec}: not compiled: {exc}", style="bold red"))
        sys.exit(EXIT_ERRORS)
    counts = ", ".join(f"{provider} {n}" for provider, n in sorted(compiled.resources.items())) or "none"
    elapsed = time.perf_counter() - started
    console.print(Text(f"{marks()[0]} compiled {result.spec.name} into {compiled.out_dir} in {elapsed:.2f}s",
                       style="green"))
    console.print(f"  resources: {counts}")
    console.print(f"  files: {len(compiled.files)} ({len(compiled.written)} written, "
                  f"{len(compiled.unchanged)} unchanged, {len(compiled.removed)} removed)")
    for path in compiled.written + compiled.removed:
        console.print(f"  {'removed' if path in compiled.removed else 'wrote'} {path}")
    if ir_path:
        pathlib.Path(ir_path).write_text(yaml_text.dump(dump_ir(result.ir)), encoding="utf-8")
        console.print(f"  wrote the IR to {ir_path}")
    if check:
        _check_envoy(console, compiled.out_dir, result, envoy_config_dir, envoy_form, skip_envoy_check)


def _check_envoy(console: Console, out_dir: str, result: Validation, config_dir: str, form: str,
                 may_skip: bool) -> None:
    with console.status("envoy --mode validate on each gateway..."), tempfile.TemporaryDirectory() as staged:
        if form == "kubernetes":  # the ConfigMaps hold the dynamic form's files: Envoy checks those
            out_dir = compile_ir(result.ir, staged, EmitOptions("dynamic", config_dir)).out_dir
        diagnostics, missing = check_envoy(out_dir, result.spec, result.source, config_dir)
    if missing and may_skip:
        console.print(Text(f"  envoy check skipped (--skip-envoy-check): {missing}", style="yellow"))
        return
    if missing:  # a gate that passes without checking would pass anything
        console.print(Text(f"{marks()[1]} envoy check could not run: {missing}; or give --skip-envoy-check "
                           "to compile without it", style="bold red"))
        sys.exit(EXIT_ERRORS)
    for d in diagnostics:
        console.print(diagnostic_line(d))
    if diagnostics:
        sys.exit(EXIT_ERRORS)
    console.print(Text(f"  envoy accepts all {len(result.spec.gateways)} gateways", style="green"))


@main.command("schema")
@click.option("--fragment", is_flag=True, help="Schema of one team file of a split estate (nothing required).")
@click.option("--format", "fmt", type=click.Choice(["json", "markdown"]), default="json", show_default=True,
              help="json: JSON Schema; markdown: the field reference (docs/spec-reference.md).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write here, not stdout.")
def schema_command(fragment: bool, fmt: str, output: str | None) -> None:
    """Print the JSON Schema of the spec, generated from edgec's own models.

    Point your editor at it with a modeline as the first line of a spec:

    \b
      # yaml-language-server: $schema=../../schemas/edge.schema.json

    \b
    Examples:
      edgec schema -o schemas/edge.schema.json
      edgec schema --fragment -o schemas/edge-fragment.schema.json
      edgec schema --format markdown -o docs/spec-reference.md
    """
    schema = fragment_schema() if fragment else spec_schema()
    text = render_markdown(schema) if fmt == "markdown" else to_text(schema)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=False)
