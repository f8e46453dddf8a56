"""Commands that change an estate, or stand one up: apply (through Terraform) and sandbox."""

from __future__ import annotations

import pathlib
import shlex
import sys
import time
from typing import NoReturn

import click
from rich.text import Text

from edgec.apply.terraform import Terraform, TerraformError, TerraformInterrupted
from edgec.cli.app import EXIT_ERRORS, exit_interrupted, main, make_console, marks, plain_output, print_diagnostics
from edgec.cli.live import gateway_pairs, plan_options, read_options
from edgec.layers import LAYER_NAMES
from edgec.sandbox.run import command_problem, run_in_sandbox, start_sandbox
from edgec.spec.loader import load_spec
from edgec.spec.validate import validate


def read_options_for_apply(command):
    return read_options(command, ("cloudflare_rate", "envoy_admins", "read_timeout", "ignore_files"))


@main.command("apply")
@click.argument("target", metavar="SPEC|PLANFILE")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False),
              help="Folder to compile into and run Terraform in (default: generated/<spec name>).")
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for CI). The safety rails still apply.")
@click.option("--force", is_flag=True, help="Apply even what a safety rail refuses (see docs/apply.md).")
@click.option("--adopt", is_flag=True,
              help="Import existing resources that carry no edgec ownership marker into Terraform's state "
                   "(they may belong to someone else) instead of refusing.")
@click.option("--full-refresh", is_flag=True,
              help="Let Terraform refresh every resource itself (one API call or more each) instead of only "
                   "those edgec's live read finds differing or cannot vouch for.")
@click.option("--verify", is_flag=True, help="Read the live state again after applying and show what still differs.")
@click.option("--terraform-bin", default="terraform", show_default=True, envvar="EDGEC_TERRAFORM_BIN",
              help="terraform, or tofu for OpenTofu (env EDGEC_TERRAFORM_BIN).")
@click.option("--plugin-dir", type=click.Path(file_okay=False, exists=True), envvar="EDGEC_PLUGIN_DIR",
              help="Passed to `terraform init -plugin-dir` (env EDGEC_PLUGIN_DIR); by default Terraform's own "
                   "CLI configuration (mirrors, caches) applies.")
@click.option("--layer", "layers", multiple=True, type=click.Choice(LAYER_NAMES),
              help="Apply only this layer (repeatable; default: every layer, AWS first, Envoy last).")
@click.option("--envoy-dir", "envoy_dirs", multiple=True, metavar="GATEWAY=DIR",
              help="Deliver GATEWAY's Envoy config into DIR, its config dir on this machine (a host's folder or a "
                   "mounted volume); repeatable, or comma-separated. Gateways without one are not delivered.")
@click.option("--envoy-config-dir", metavar="DIR",
              help="Where the gateways' Envoy finds the --envoy-dir folder (default: the same path).")
@click.option("--envoy-timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds for a gateway to report each new version before it is rolled back.")
@click.option("--envoy-batch", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
              help="Deliver to N gateways at once (canary style: the first N, confirmed, then the next N); "
                   "none after a batch in which one failed.")
@read_options_for_apply
def apply_command(target: str, out_dir: str | None, auto_approve: bool, force: bool, adopt: bool, full_refresh: bool,
                  verify: bool, terraform_bin: str, plugin_dir: str | None, layers: tuple[str, ...],
                  envoy_dirs: tuple[str, ...], envoy_config_dir: str | None, envoy_timeout: float, envoy_batch: int,
                  ignore_files: tuple[str, ...], cloudflare_rate: float, envoy_admins: tuple[str, ...],
                  read_timeout: float) -> None:
    """Apply SPEC, or a reviewed PLANFILE from `edgec plan --out`: AWS and Cloudflare through
    Terraform, and the Envoy config to each gateway given an --envoy-dir.


    A folder or a .yaml/.yml file is a SPEC; any other file is a PLANFILE, refused unless it
    is exactly as `edgec plan --out` wrote it (its seal covers every byte that matters).

    \b
    1. compile into the output folder (default generated/<spec name>)
    2. read live state; with a PLANFILE, refuse if the spec, the compiled output or the
       live state changed since the plan was reviewed
    3. terraform init and plan -out, per layer: AWS, then Cloudflare (planned after the
       AWS apply when it needs load balancers that apply creates); where Terraform would
       create what exists live, plan again with import blocks, so it imports instead
    4. show each plan with the hostnames every change affects; check the safety rails
    5. ask (or --auto-approve), apply exactly the saved plans, streaming Terraform's output
    6. deliver each --envoy-dir gateway's Envoy config, in batches (below)
    7. with --verify, read live state again and say what, if anything, still differs

    \b
    Refresh by list: Terraform does not read every resource one by one (hours for
    thousands of records at Cloudflare's limits). It plans from its state after
    refreshing only the resources edgec's live read found differing, missing or
    recreated, and those of types edgec does not read in full (docs/apply.md);
    --full-refresh restores Terraform's own refresh of everything. Writes keep to the
    APIs' budgets: Terraform's Cloudflare provider goes through a proxy on 127.0.0.1
    paced at --cloudflare-rate (429s waited out), the AWS provider retries adaptively.

    \b
    Envoy (docs/envoy.md): each gateway's listeners and clusters are written as new versions
    beside the current ones in DIR/GATEWAY/ and swapped in by an atomic rename, which the
    gateway's Envoy (started from DIR/GATEWAY/bootstrap.yaml) loads without a restart. Its
    admin API (--envoy-admin, default http://127.0.0.1:<the spec's admin port>) must then
    report each new version; if Envoy rejects one or does not report it within
    --envoy-timeout, the previous version is swapped back and confirmed, and apply exits 1
    with Envoy's reason. The first delivery to an empty DIR installs the files. Gateways
    are delivered one at a time, or --envoy-batch N at once, each batch confirmed before
    the next; none after a batch in which one failed.


    \b
    Adoption: what exists without edgec's ownership marker (built by hand or by other
    tools) is imported only with --adopt; without it, apply refuses and names it. What
    carries the marker but is missing from Terraform's state is imported either way.

    \b
    Safety rails (refused unless --force): creates, updates and deletes over 30% of a
    zone's or gateway's owned resources (when it has 10 or more; tune with apply_limits in
    the spec), a public hostname losing its DNS record, a load balancer replaced or
    destroyed, a certificate covering a live host destroyed before its replacement exists,
    apex or NS record changes, and Terraform's plan disagreeing with edgec's (creating what
    exists, replacing or destroying what edgec keeps).

    \b
    Credentials: the standard AWS chain for the AWS layer; CLOUDFLARE_API_TOKEN for the
    Cloudflare layer (its zone IDs go in terraform/cloudflare/terraform.tfvars).

    \b
    Interrupted (Ctrl-C, SIGTERM) while Terraform runs: edgec sends Terraform one SIGINT,
    waits for it to stop and save its state, says what was not applied, and exits; run
    edgec apply again to converge. A second signal is only reported; a third stops
    Terraform at once (it may then not record what it was changing).

    \b
    Exit codes: 0 applied (or nothing to do), 1 refused, cancelled, invalid spec, failed
    read or failed Terraform command, 3 internal error, 64 wrong usage, 130/143
    interrupted by SIGINT/SIGTERM while Terraform ran.

    \b
    Examples:
      edgec apply examples/public-api/edge.yaml
      edgec plan edge.yaml --out reviewed.plan && edgec apply reviewed.plan
      edgec apply --auto-approve --layer aws edge.yaml          # in CI, AWS credentials only
      edgec apply --adopt edge.yaml                             # take over an estate built without edgec
      edgec apply --full-refresh --verify edge.yaml             # Terraform refreshes all; read again after
      edgec apply --terraform-bin tofu --plugin-dir /opt/tf-plugins edge.yaml
      edgec apply --layer envoy --envoy-dir public=/etc/envoy edge.yaml   # on the gateway's host
      edgec apply --layer envoy --envoy-dir public=/mnt/gw1 --envoy-config-dir /etc/envoy \
        --envoy-admin public=http://gw1:9901 --auto-approve edge.yaml
    """
    from edgec.apply.envoy_delivery import Timing
    from edgec.apply.run import Applier, ApplyFailed, ApplyOptions

    console = make_console()
    options = ApplyOptions(Terraform(terraform_bin, plugin_dir),
                           plan_options(cloudflare_rate, tuple(layers), envoy_admins, read_timeout),
                           out_dir, auto_approve, force, ignore_files, adopt, full_refresh, verify,
                           gateway_pairs(envoy_dirs, "--envoy-dir", "DIR"), envoy_config_dir,
                           Timing(timeout=envoy_timeout), envoy_batch)
    try:
        failed = Applier(console, options, _confirm_apply).run(target)
    except KeyboardInterrupt:
        console.print(Text(f"{marks()[1]} interrupted; run edgec apply again to finish", style="bold red"))
        exit_interrupted(130)
    except TerraformInterrupted as exc:
        console.print(Text(f"{marks()[1]} {exc}", style="bold red"))
        sys.exit(exc.exit_code)
    except (ApplyFailed, TerraformError, ValueError) as exc:
        console.print(Text(f"{marks()[1]} {exc}", style="bold red"))
        sys.exit(EXIT_ERRORS)
    if failed is not None:
        print_diagnostics(console, failed)
        sys.exit(EXIT_ERRORS)


def _confirm_apply() -> bool:
    from edgec.apply.run import ApplyFailed

    if not sys.stdin.isatty():
        raise ApplyFailed("no terminal to ask for confirmation; review the plan above and use --auto-approve")
    return click.prompt('Apply these changes? Only "yes" applies', default="", show_default=False) == "yes"


@main.command("sandbox", context_settings={"ignore_unknown_options": True})
@click.argument("spec", metavar="SPEC")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, metavar="[-- COMMAND...]")
@click.option("--drift/--no-drift", default=None,
              help="Change a few things out of band after seeding, as happens in real estates "
                   "(default: yes, but not with --foreign).")
@click.option("--foreign", is_flag=True,
              help="Seed the estate as if it had been built without edgec: no ownership tags or markers, "
                   "no Terraform state (to try adoption: edgec apply --adopt).")
@click.option("--dir", "workdir", default=".edgec-sandbox", show_default=True, type=click.Path(file_okay=False),
              help="Where to write the sandbox's copy of the spec.")
def sandbox_command(spec: str, command: tuple[str, ...], drift: bool | None, foreign: bool, workdir: str) -> None:
    """Start a local sandbox for SPEC: AWS (moto) and a fake Cloudflare API on loopback, seeded with
    the estate SPEC describes as if it had been applied, plus some drift (a port opened by hand,
    an edited record, a stray record). With --foreign, as if it had been built without edgec
    (no ownership tags on AWS resources, no `edgec:` marker in record comments, ruleset
    descriptions or Route 53 zone comments, no Terraform state) and without drift.

    The sandbox has its own VPC and subnet IDs, so it writes a copy of the spec that names them
    (DIR/edge.yaml), and each gateway's compiled Envoy bootstrap (DIR/envoy/<gateway>.yaml, named
    in EDGEC_ENVOY_CONFIG as GATEWAY=PATH,...). With a COMMAND after `--`, it runs it against the
    sandbox (`{spec}` stands for that copy), stops, and exits with the command's exit code (1,
    before starting anything, if it cannot be run); without, it prints the environment to use and
    runs until Ctrl-C. Needs the sandbox extra (moto): pip install 'edgec[sandbox]'.

    \b
    Examples:
      edgec sandbox examples/public-api/edge.yaml -- edgec plan {spec}
      edgec sandbox examples/multi-team/            # then, in another shell, as printed
      edgec sandbox --foreign examples/private-internal/edge.yaml -- edgec plan {spec}
    """
    console = make_console()
    result = validate(spec)
    if not result.ok:
        print_diagnostics(console, result)
        sys.exit(EXIT_ERRORS)
    problem = command_problem(list(command)) if command else None
    if problem:
        _fail(console, problem)
    with console.status("starting the sandbox..."):
        try:
            sandbox = start_sandbox(load_spec(spec), pathlib.Path(workdir), not foreign if drift is None else drift,
                                    foreign)
        except RuntimeError as exc:
            _fail(console, exc)
    try:
        built = " (built without edgec: nothing carries its ownership markers)" if foreign else ""
        console.print(Text(f"{marks()[0]} sandbox for {result.spec.name} is up{built}; its spec: {sandbox.spec_path}",
                           style="green"))
        for change in sandbox.drift:
            console.print(f"  drift: {change}")
        if command:
            if plain_output():  # --no-color holds for the command it runs too
                sandbox.env["NO_COLOR"] = "1"
            sys.exit(run_in_sandbox(sandbox, list(command)))
        console.print("Point edgec at it (in another shell):")
        for key, value in sandbox.env.items():
            console.print(f"  export {key}={shlex.quote(value)}")
        console.print(f"  edgec plan {sandbox.spec_path}\nCtrl-C stops the sandbox.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


def _fail(console, problem: Exception | str) -> NoReturn:
    console.print(Text(f"{marks()[1]} {problem}", style="bold red"))
    sys.exit(EXIT_ERRORS)
