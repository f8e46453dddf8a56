"""`edgec import`: write the spec of a live estate that edgec did not build (read-only)."""

from __future__ import annotations

import sys

import click
from rich.text import Text

from edgec.cli.app import (
    EXIT_ERRORS,
    EXIT_OK,
    main,
    make_console,
    marks,
    print_diagnostics,
)
from edgec.cli.live import READ_OPTIONS, gateway_pairs, plan_options
from edgec.read.budget import ReadError
from edgec.render.progress import read_progress
from edgec.sandbox.run import ENVOY_CONFIG_ENV


@main.command("import")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder to write the spec into; it must be empty or not exist.")
@click.option("--name", help="The estate's name (default: what its NLB names share, e.g. acme-prod for "
                             "acme-prod-public and acme-prod-internal).")
@click.option("--zone", "zones", multiple=True, help="Import only this zone (repeatable; default: every zone).")
@click.option("--region", help="AWS region (default: the AWS credential chain's, e.g. AWS_REGION).")
@click.option("--vpc", "vpc_id", help="VPC of the gateways (default: the one VPC with network load balancers).")
@click.option("--account", help="Cloudflare account ID (default: every zone the token can see).")
@click.option("--envoy-config", "envoy_configs", multiple=True, metavar="GATEWAY=FILE", envvar=ENVOY_CONFIG_ENV,
              help=f"A gateway's Envoy bootstrap or saved /config_dump (repeatable; env {ENVOY_CONFIG_ENV}, "
                   "comma-separated).")
@READ_OPTIONS["envoy_admins"]
@READ_OPTIONS["layers"]
@READ_OPTIONS["cloudflare_rate"]
@READ_OPTIONS["read_timeout"]
def import_command(out_dir: str, name: str | None, zones: tuple[str, ...], region: str | None, vpc_id: str | None,
                   account: str | None, envoy_configs: tuple[str, ...], envoy_admins: tuple[str, ...],
                   layers: tuple[str, ...], cloudflare_rate: float, read_timeout: float) -> None:
    """Read a live estate built without edgec and write the spec that describes it.

    Reads, with the credentials, endpoints and API budget of `edgec plan`, every Cloudflare zone
    the token can see (records, WAF rulesets, TLS settings, origin pulls), the network load
    balancers, listeners, target groups, security groups, Route 53 zones and ACM certificates of
    one AWS VPC, and each gateway's Envoy configuration. Writes DIR/edge.yaml (the estate, zones,
    certificates, gateways), DIR/zones/ZONE.yaml (records, WAF), DIR/gateways/GATEWAY.yaml
    (services, ingresses) and DIR/import-report.txt. Changes nothing.

    What the spec cannot express is listed in the report and written as an ignore rule with its
    reason, so the first plan is quiet and the gap stays visible. Then `edgec plan DIR` shows
    what `edgec apply --adopt DIR` would take over (see docs/import.md).

    \b
    Exit codes: 0 written and valid, 1 a read failed, DIR is not empty, or the written spec
    does not validate (the errors are shown), 3 internal error, 64 wrong usage.

    \b
    Examples:
      edgec import -o edge/ --envoy-config public=/etc/envoy/envoy.yaml
      edgec import -o edge/ --zone acme.com --layer cloudflare
      edgec import -o edge/ --region eu-west-1 --vpc vpc-0abc1234 --envoy-admin public=http://10.0.3.7:9901
      edgec sandbox --foreign examples/public-api/edge.yaml -- sh -c 'edgec import -o D && edgec plan D'
    """
    from edgec.importer.read import ImportOptions
    from edgec.importer.run import import_estate, write_import
    from edgec.importer.write import REPORT, is_empty
    from edgec.spec.validate import validate

    console = make_console()
    if not is_empty(out_dir):
        console.print(Text(f"{marks()[1]} {out_dir} is not empty: import writes a whole spec; give a new folder",
                           style="bold red"))
        sys.exit(EXIT_ERRORS)
    read = plan_options(cloudflare_rate, layers, envoy_admins, read_timeout)
    options = ImportOptions(read, zones, region, vpc_id, account, read.envoy_admins,
                            gateway_pairs(envoy_configs, "--envoy-config", "FILE"))
    try:
        with read_progress(console, "reading the live estate...") as progress:
            imported = import_estate(options, name, progress=progress)
    except ReadError as exc:
        console.print(Text(f"{marks()[1]} {exc}; nothing was written", style="bold red"))
        sys.exit(EXIT_ERRORS)
    write_import(imported, out_dir)
    for line in imported.report:
        console.print(line)
    result = validate(out_dir)
    if not result.ok:
        print_diagnostics(console, result)
        console.print(Text(f"{marks()[1]} wrote {out_dir}, which does not validate: fix the errors above "
                           f"(and see {REPORT})", style="bold red"))
        sys.exit(EXIT_ERRORS)
    console.print(Text(f"{marks()[0]} wrote estate '{imported.name}' to {out_dir} ({len(imported.files)} files); "
                       f"it validates. Next: edgec plan {out_dir}", style="green"))
    sys.exit(EXIT_OK)
