"""The `edgec` command line."""

from __future__ import annotations

import json
import os
import pathlib
import sys
import time

import click
from rich.console import Console
from rich.text import Text

from edgec import __version__
from edgec.diagnostics import Diagnostic, Severity, one_line
from edgec.apply.terraform import Terraform, TerraformError
from edgec.emit.compile import compile_ir
from edgec.layers import LAYER_NAMES, TERRAFORM_LAYERS
from edgec.layers.envoy.check import check_envoy
from edgec.read.budget import DEFAULT_CLOUDFLARE_RATE
from edgec.diff.plan import Plan, PlanOptions
from edgec.render.drift import drift_html, drift_json, drift_markdown, drift_text_lines
from edgec.diff.spec_changes import load_version, spec_changes
from edgec.policy.check import check_policies
from edgec.render.trace_text import print_trace
from edgec.trace import trace_url
from edgec.render.spec_changes import pr_comment, print_spec_changes, spec_changes_markdown
from edgec.render.check_report import ALL_POLICIES, check_json, check_junit, check_sarif, print_check
from edgec.render.plan_markdown import render_plan_markdown
from edgec.sandbox.run import run_in_sandbox, start_sandbox
from edgec.spec.loader import load_spec
from edgec.render.plan_text import print_plan
from edgec.spec.docs import render_markdown
from edgec.spec.schema import fragment_schema, spec_schema, to_text
from edgec.spec.validate import Validation, validate

# edgec.diff.make_plan and edgec.apply.run are imported in the commands that read live state: they
# bring the AWS and Cloudflare SDKs, whose import (~0.4 s) validate, check and compile need not pay.

EXIT_OK, EXIT_ERRORS, EXIT_CHANGES, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2, 3, 64
_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow"}


def _console() -> Console:
    # soft_wrap: one diagnostic per line whatever the width, so grep and CI annotations work.
    return Console(soft_wrap=True, highlight=False)


def _marks() -> tuple[str, str]:
    """✓ and ✗ where the output encoding has them (not on an ASCII or cp1252 console)."""
    try:
        "✓✗".encode(sys.stdout.encoding or "ascii")
        return "✓", "✗"
    except (UnicodeEncodeError, LookupError):
        return "OK", "FAIL"


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
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
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
            click.echo(f"edgec: internal error: {type(exc).__name__}: {exc}\n"
                       "This is a bug in edgec. Run again with EDGEC_DEBUG=1 for the traceback and report it "
                       "with the input that caused it.", err=True)
            sys.exit(EXIT_INTERNAL)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", "-V", prog_name="edgec")
def main() -> None:
    """edgec: one spec for your edge, compiled to Cloudflare, AWS and Envoy.

    \b
    Examples:
      edgec validate examples/public-api/edge.yaml
      edgec validate examples/multi-team/            # a folder: every .yaml/.yml below it
      edgec validate --format json spec.yaml > diagnostics.json
      edgec compile examples/public-api/edge.yaml -o generated/public-api
      edgec schema > schemas/edge.schema.json
    """


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


def _diagnostic_line(d: Diagnostic) -> Text:
    line = Text(one_line(f"{d.location}: "))
    line.append(d.severity.value, style=_STYLE[d.severity])
    line.append(one_line(f": {d.field_path}: "), style="bold")
    line.append(one_line(d.message))
    return line


def _print_diagnostics(console: Console, result: Validation) -> None:
    for d in result.diagnostics:
        console.print(_diagnostic_line(d))


def _print_text(results: list[Validation]) -> None:
    console = _console()
    for r in results:
        _print_diagnostics(console, r)
        errors, warnings = _counts(r)
        files = f"{len(r.files)} file{'s' * (len(r.files) != 1)}"
        if r.ok:
            summary = Text(f"{_marks()[0]} {r.target}: valid ({files}", style="green")
            summary.append(f", {warnings} warning{'s' * (warnings != 1)})" if warnings else ")")
        else:
            summary = Text(f"{_marks()[1]} {r.target}: {errors} error{'s' * (errors != 1)}, "
                           f"{warnings} warning{'s' * (warnings != 1)} ({files})", style="bold red")
        console.print(summary)


@main.command("check")
@click.argument("spec", metavar="SPEC", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "junit"]), default="text",
              show_default=True, help="sarif for GitHub code scanning, junit for CI test reports.")
@click.option("--fail-on", type=click.Choice(["note", "warning", "error", "never"]), default="error",
              show_default=True, help="Exit 1 when an unsuppressed finding is at least this severe.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write here, not stdout.")
@click.option("--list", "list_policies", is_flag=True, help="List the policies (ID, severity, title) and exit.")
def check_command(spec: str | None, fmt: str, fail_on: str, output: str | None, list_policies: bool) -> None:
    """Check SPEC and its compiled output against edgec's policies (EDGE001...), offline.

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
    console = _console()
    if list_policies:
        for p in ALL_POLICIES:
            console.print(f"{p.id}  {p.severity:<7}  {p.title}")
        return
    if spec is None:
        raise click.UsageError("missing argument SPEC (or use --list)")
    result = validate(spec)
    if not result.ok:
        _print_diagnostics(console, result)
        sys.exit(EXIT_ERRORS)
    results = check_policies(result)
    if fmt == "text" and output:
        with open(output, "w", encoding="utf-8") as fh:
            print_check(Console(file=fh, soft_wrap=True, highlight=False), spec, results, fail_on)
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
    sys.exit(EXIT_ERRORS if any(r.fails(fail_on) for r in results) else EXIT_OK)


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
    console = _console()
    parsed = {}
    for entry in headers:
        name, sep, value = entry.partition(":")
        if not sep or not name.strip():
            raise click.BadParameter(f"'{entry}' is not NAME:VALUE", param_hint="--header")
        parsed[name.strip().lower()] = value.strip()
    result = validate(spec)
    if not result.ok:
        _print_diagnostics(console, result)
        sys.exit(EXIT_ERRORS)
    try:
        trace = trace_url(result.spec, url, method.upper(), parsed, ir=result.ir)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URL")
    print_trace(console, trace)
    sys.exit(EXIT_ERRORS if trace.dies_at is not None else EXIT_OK)


@main.command("compile")
@click.argument("spec", metavar="SPEC")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False),
              help="Folder to write into (default: generated/<spec name>).")
@click.option("--check", is_flag=True,
              help="Run `envoy --mode validate` on each generated gateway (needs envoy and openssl).")
def compile_command(spec: str, out_dir: str | None, check: bool) -> None:
    """Compile SPEC into Terraform for AWS and Cloudflare (v5), after validating it.

    \b
    Writes, under the output folder:
      terraform/aws/         NLBs, listeners, target groups, security groups, Route 53, ACM
      terraform/cloudflare/  DNS records, WAF rulesets, zone settings, origin certificates
      envoy/<gateway>.yaml   an Envoy v3 bootstrap per gateway (mount envoy/ at /etc/envoy)
      envoy/sds/<cert>.yaml  file-based SDS secrets, so certificates rotate without a restart
    Apply the AWS layer first: the Cloudflare layer finds each NLB by name. Output is
    deterministic; only changed files are rewritten, and files edgec no longer produces
    are removed (other files in the folder are left alone).

    \b
    Exit codes: 0 compiled, 1 the spec has errors (nothing is written) or, with --check,
    Envoy rejects a gateway, 3 internal error (a bug in edgec), 64 wrong usage.

    \b
    Examples:
      edgec compile examples/public-api/edge.yaml
      edgec compile examples/multi-team/ -o generated/multi-team
      edgec compile --check examples/private-internal/edge.yaml
    """
    console = _console()
    started = time.perf_counter()
    result = validate(spec)
    if not result.ok:
        _print_diagnostics(console, result)
        console.print(Text(f"{_marks()[1]} {spec}: not compiled, fix the errors above", style="bold red"))
        sys.exit(EXIT_ERRORS)
    compiled = compile_ir(result.ir, out_dir or f"generated/{result.spec.name}")
    counts = ", ".join(f"{provider} {n}" for provider, n in sorted(compiled.resources.items())) or "none"
    elapsed = time.perf_counter() - started
    console.print(Text(f"{_marks()[0]} compiled {result.spec.name} into {compiled.out_dir} in {elapsed:.2f}s",
                       style="green"))
    console.print(f"  resources: {counts}")
    console.print(f"  files: {len(compiled.files)} ({len(compiled.written)} written, "
                  f"{len(compiled.unchanged)} unchanged, {len(compiled.removed)} removed)")
    for path in compiled.written + compiled.removed:
        console.print(f"  {'removed' if path in compiled.removed else 'wrote'} {path}")
    if check:
        _check_envoy(console, compiled.out_dir, result)


def _check_envoy(console: Console, out_dir: str, result: Validation) -> None:
    with console.status("envoy --mode validate on each gateway..."):
        diagnostics, skipped = check_envoy(out_dir, result.spec, result.source)
    if skipped:
        console.print(Text(f"  envoy check skipped: {skipped}", style="yellow"))
        return
    for d in diagnostics:
        console.print(_diagnostic_line(d))
    if diagnostics:
        sys.exit(EXIT_ERRORS)
    console.print(Text(f"  envoy accepts all {len(result.spec.gateways)} gateways", style="green"))


_READ_OPTIONS = {
    "cloudflare_rate": click.option(
        "--cloudflare-rate", type=click.FloatRange(min=0.1), default=DEFAULT_CLOUDFLARE_RATE, show_default=True,
        help="Cloudflare API requests per second, sustained; after a burst of what Cloudflare's budget of "
             "1,200 per 5 minutes leaves at that rate (150 at 3.5)."),
    "layers": click.option("--layer", "layers", multiple=True, type=click.Choice(LAYER_NAMES),
                           help="Compare only this layer (repeatable; default: every layer the spec uses)."),
    "envoy_admins": click.option(
        "--envoy-admin", "envoy_admins", multiple=True, metavar="GATEWAY=URL",
        help="Admin URL of a running gateway, e.g. public=http://127.0.0.1:9901 (repeatable)."),
    "read_timeout": click.option("--read-timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
                                 help="Seconds to wait for each Cloudflare API response before retrying."),
    "ignore_files": click.option("--ignore-file", "ignore_files", multiple=True, type=click.Path(dir_okay=False),
                                 help="A YAML file of `ignore:` rules, added to the spec's (repeatable)."),
}


def _read_options(command, names=tuple(_READ_OPTIONS)):
    """The options of commands that read live state (plan, drift; apply takes some)."""
    for name in reversed(names):
        command = _READ_OPTIONS[name](command)
    return command


def _plan_options(cloudflare_rate: float, layers: tuple[str, ...], envoy_admins: tuple[str, ...],
                  read_timeout: float) -> PlanOptions:
    admins = {}
    for entry in envoy_admins:
        gateway, sep, url = entry.partition("=")
        if not sep or not url:
            raise click.BadParameter(f"'{entry}' is not GATEWAY=URL", param_hint="--envoy-admin")
        admins[gateway] = url
    return PlanOptions(cloudflare_rate=cloudflare_rate, layers=frozenset(layers) or None, envoy_admins=admins,
                       timeout=read_timeout)


def _read_live(console: Console, spec: str, ignore_files: tuple[str, ...], **read) -> tuple[Validation, Plan]:
    result = validate(spec, ignore_files)
    if not result.ok:
        _print_diagnostics(console, result)
        sys.exit(EXIT_ERRORS)
    from edgec.diff.make_plan import make_plan

    options = _plan_options(**read)
    with console.status("reading live state...") as status:
        return result, make_plan(result.ir, result.spec.ignore, options,
                                 progress=lambda message: status.update(message))


def _plan_exit(plan: Plan) -> None:
    sys.exit(EXIT_ERRORS if plan.errors else EXIT_CHANGES if plan.has_changes else EXIT_OK)


@main.command("plan")
@click.argument("spec", metavar="SPEC")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="text for people, json for tools, markdown for a pull-request comment.")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), metavar="PLANFILE",
              help="Save the reviewed plan, pinned to the spec, compiled output and live state, for `edgec apply`.")
@_read_options
def plan_command(spec: str, fmt: str, out: str | None, **read) -> None:
    """Compare SPEC with what is live, and show what would change. Changes nothing.

    Reads Cloudflare (token from CLOUDFLARE_API_TOKEN; CLOUDFLARE_BASE_URL overrides the API
    address) and AWS (the standard credential chain; AWS_ENDPOINT_URL for an emulator) at the
    same time, and running Envoy gateways through their admin /config_dump (--envoy-admin).
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
    from edgec.apply.run import plan_file

    console = _console()
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
        Console(stderr=True, highlight=False).print(f"Saved the plan to {out}; apply it with: edgec apply {out}")
    _plan_exit(plan)


@main.command("diff")
@click.argument("base", metavar="BASE")
@click.argument("head", metavar="HEAD")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True,
              help="markdown for a pull-request comment.")
@click.option("--live", is_flag=True, help="Also read live state for HEAD (as `edgec plan`) and combine both into "
                                          "one comment (markdown) or report.")
@_read_options
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
    console = _console()
    if ignore_files and not live:
        raise click.UsageError("--ignore-file hides differences from the live estate: use it with --live")
    versions = []
    for target in (base, head):
        try:
            result = load_version(target, ignore_files=ignore_files if target is head else ())
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="BASE" if target is base else "HEAD")
        if not result.ok:
            _print_diagnostics(console, result)
            console.print(Text(f"{_marks()[1]} {target}: not compared, fix the errors above", style="bold red"))
            sys.exit(EXIT_ERRORS)
        versions.append(result)
    changes = spec_changes(versions[0].spec, versions[1].spec, base_label=base, head_label=head)
    plan = None
    if live:
        from edgec.diff.make_plan import make_plan

        with console.status("reading live state...") as status:
            plan = make_plan(versions[1].ir, versions[1].spec.ignore, _plan_options(**read),
                             progress=lambda message: status.update(message))
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
@_read_options
def drift_command(spec: str, fmt: str, output: str | None, **read) -> None:
    """Report what differs between SPEC and the live estate, by the team that owns it.

    The same reads and comparison as `plan`, framed for scheduled jobs: each difference (changed
    out of band, missing, stray) is attributed to the owner of its hostname, zone or gateway.
    Changes nothing.

    \b
    Exit codes: 0 no drift, 2 drift found, 1 error (a read that failed).

    \b
    Examples:
      edgec drift examples/multi-team/ --format html -o drift.html
      edgec drift edge.yaml --format json | jq '.by_owner'
    """
    console = _console()
    result, plan = _read_live(console, spec, **read)
    if fmt == "text":
        print_plan(console, plan)
        for line in drift_text_lines(result.spec, plan):
            console.print(line)
    else:
        text = {"json": lambda: json.dumps(drift_json(result.spec, plan), indent=2) + "\n",
                "markdown": lambda: drift_markdown(result.spec, plan),
                "html": lambda: drift_html(result.spec, plan)}[fmt]()
        if output:
            pathlib.Path(output).write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)
    _plan_exit(plan)


def _read_options_for_apply(command):
    return _read_options(command, ("cloudflare_rate", "read_timeout", "ignore_files"))


@main.command("apply")
@click.argument("target", metavar="SPEC|PLANFILE")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False),
              help="Folder to compile into and run Terraform in (default: generated/<spec name>).")
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for CI). The safety rails still apply.")
@click.option("--force", is_flag=True, help="Apply even what a safety rail refuses (see docs/apply.md).")
@click.option("--terraform-bin", default="terraform", show_default=True, envvar="EDGEC_TERRAFORM_BIN",
              help="terraform, or tofu for OpenTofu (env EDGEC_TERRAFORM_BIN).")
@click.option("--plugin-dir", type=click.Path(file_okay=False, exists=True), envvar="EDGEC_PLUGIN_DIR",
              help="Passed to `terraform init -plugin-dir` (env EDGEC_PLUGIN_DIR); by default Terraform's own "
                   "CLI configuration (mirrors, caches) applies.")
@click.option("--layer", "layers", multiple=True, type=click.Choice([layer.name for layer in TERRAFORM_LAYERS]),
              help="Apply only this Terraform layer (repeatable; default: both, AWS first).")
@_read_options_for_apply
def apply_command(target: str, out_dir: str | None, auto_approve: bool, force: bool, terraform_bin: str,
                  plugin_dir: str | None, layers: tuple[str, ...], ignore_files: tuple[str, ...],
                  cloudflare_rate: float, read_timeout: float) -> None:
    """Apply SPEC, or a reviewed PLANFILE from `edgec plan --out`, through Terraform.

    \b
    1. compile into the output folder (default generated/<spec name>)
    2. read live state; with a PLANFILE, refuse if the spec, the compiled output or the
       live state changed since the plan was reviewed
    3. terraform init and plan -out, per layer: AWS, then Cloudflare (planned after the
       AWS apply when it needs load balancers that apply creates)
    4. show each plan with the hostnames every change affects; check the safety rails
    5. ask (or --auto-approve), apply exactly the saved plans, streaming Terraform's output
    6. read live state again and say what, if anything, still differs

    \b
    Safety rails (refused unless --force): updates and deletes over 30% of a zone's or
    gateway's owned resources (when it has 10 or more; tune with apply_limits in the spec),
    a public hostname losing its DNS record, a load balancer replaced or destroyed, a
    certificate covering a live host destroyed before its replacement exists, apex or NS
    record changes. Envoy configuration is compiled, not deployed.

    \b
    Credentials: the standard AWS chain for the AWS layer; CLOUDFLARE_API_TOKEN for the
    Cloudflare layer (its zone IDs go in terraform/cloudflare/terraform.tfvars).

    \b
    Exit codes: 0 applied (or nothing to do), 1 refused, cancelled, invalid spec, failed
    read or failed Terraform command, 3 internal error, 64 wrong usage.

    \b
    Examples:
      edgec apply examples/public-api/edge.yaml
      edgec plan edge.yaml --out reviewed.plan && edgec apply reviewed.plan
      edgec apply --auto-approve --layer aws edge.yaml          # in CI, AWS credentials only
      edgec apply --terraform-bin tofu --plugin-dir /opt/tf-plugins edge.yaml
    """
    from edgec.apply.run import Applier, ApplyFailed, ApplyOptions

    console = _console()
    options = ApplyOptions(Terraform(terraform_bin, plugin_dir),
                           _plan_options(cloudflare_rate, tuple(layers), (), read_timeout),
                           out_dir, auto_approve, force, ignore_files)
    try:
        failed = Applier(console, options, _confirm_apply).run(target)
    except (ApplyFailed, TerraformError, ValueError) as exc:
        console.print(Text(f"{_marks()[1]} {exc}", style="bold red"))
        sys.exit(EXIT_ERRORS)
    if failed is not None:
        _print_diagnostics(console, failed)
        sys.exit(EXIT_ERRORS)


def _confirm_apply() -> bool:
    from edgec.apply.run import ApplyFailed

    if not sys.stdin.isatty():
        raise ApplyFailed("no terminal to ask for confirmation; review the plan above and use --auto-approve")
    return click.prompt('Apply these changes? Only "yes" applies', default="", show_default=False) == "yes"


@main.command("sandbox", context_settings={"ignore_unknown_options": True})
@click.argument("spec", metavar="SPEC")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, metavar="[-- COMMAND...]")
@click.option("--drift/--no-drift", default=True, show_default=True,
              help="Change a few things out of band after seeding, as happens in real estates.")
@click.option("--dir", "workdir", default=".edgec-sandbox", show_default=True, type=click.Path(file_okay=False),
              help="Where to write the sandbox's copy of the spec.")
def sandbox_command(spec: str, command: tuple[str, ...], drift: bool, workdir: str) -> None:
    """Start a local sandbox for SPEC: AWS (moto) and a fake Cloudflare API on loopback, seeded with
    the estate SPEC describes as if it had been applied, plus some drift (a port opened by hand,
    an edited record, a stray record).

    The sandbox has its own VPC and subnet IDs, so it writes a copy of the spec that names them
    (DIR/edge.yaml). With a COMMAND after `--`, it runs it against the sandbox (`{spec}` stands for
    that copy), stops, and exits with the command's exit code; without, it prints the environment
    to use and runs until Ctrl-C. Needs the dev extra (moto).

    \b
    Examples:
      edgec sandbox examples/public-api/edge.yaml -- edgec plan {spec}
      edgec sandbox examples/multi-team/            # then, in another shell, as printed
    """
    console = _console()
    result = validate(spec)
    if not result.ok:
        _print_diagnostics(console, result)
        sys.exit(EXIT_ERRORS)
    with console.status("starting the sandbox..."):
        try:
            sandbox = start_sandbox(load_spec(spec), pathlib.Path(workdir), drift)
        except RuntimeError as exc:
            console.print(Text(f"✗ {exc}", style="bold red"))
            sys.exit(EXIT_ERRORS)
    try:
        console.print(Text(f"{_marks()[0]} sandbox for {result.spec.name} is up; its spec: {sandbox.spec_path}",
                           style="green"))
        for change in sandbox.drift:
            console.print(f"  drift: {change}")
        if command:
            sys.exit(run_in_sandbox(sandbox, list(command)))
        console.print("Point edgec at it (in another shell):")
        for key, value in sandbox.env.items():
            console.print(f"  export {key}={value}")
        console.print(f"  edgec plan {sandbox.spec_path}\nCtrl-C stops the sandbox.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


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
