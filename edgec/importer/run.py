"""`edgec import`: read the live estate, turn each layer's part into the spec, write it, and check that
what was written validates."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass

from edgec.importer.aws import Gateways, estate_name, import_aws
from edgec.importer.cloudflare import OriginPulls, import_cloudflare
from edgec.importer.draft import Draft
from edgec.importer.envoy import import_envoy
from edgec.importer.read import ImportOptions, LiveEstate, read_estate
from edgec.importer.write import REPORT, report_lines, spec_files, write_files
from edgec.memory import cyclic_gc_paused
from edgec.read.progress import SILENT, Progress


@dataclass
class Imported:
    name: str
    files: dict[str, str]  # relative path -> text
    report: list[str]
    calls: dict[str, int]
    draft: Draft


def import_estate(options: ImportOptions, name: str | None = None,
                  progress: Progress = SILENT,
                  today: datetime.date | None = None) -> Imported:
    """Reads only (a ReadError when a read fails); the caller writes the files."""
    with cyclic_gc_paused():  # a large estate is a million small objects, and none of them cyclic
        return _import(options, name, progress, today)


def _import(options: ImportOptions, name: str | None, progress: Progress,
            today: datetime.date | None) -> Imported:
    live = read_estate(options, progress)
    draft = Draft()
    zones = sorted({r.zone for layer in (live.aws, live.cloudflare) if layer for r in layer.resources
                    if hasattr(r, "zone")})
    estate = estate_name(live.aws, name, zones)
    gateways = Gateways(estate)
    if live.aws is not None:
        assert live.region and live.vpc_id
        gateways = import_aws(draft, live.aws, estate, live.region, live.vpc_id, options.zones, tuple(live.envoy))
    pulls = OriginPulls()
    if live.cloudflare is not None:
        pulls = import_cloudflare(draft, live.cloudflare, gateways, live.cloudflare_accounts)
    import_envoy(draft, gateways, live.envoy, pulls)
    calls = live.calls.as_dict()
    source = ", ".join(part for part in (
        f"AWS {live.region} {live.vpc_id}" if live.aws is not None else "",
        "Cloudflare" if live.cloudflare is not None else "",
        f"Envoy ({', '.join(sorted(live.envoy))})" if live.envoy else "") if part)
    files = spec_files(draft, estate, source or "nothing", today or datetime.date.today())
    report = report_lines(draft, calls, _what_was_read(live))
    files[REPORT] = "\n".join([f"edgec import of estate '{estate}' from {source or 'nothing'}", *report]) + "\n"
    return Imported(estate, files, report, calls, draft)


def _what_was_read(live: LiveEstate) -> dict[str, dict[str, int]]:
    """Per layer, how many live objects of each kind were read."""
    read = {name: dict(sorted(Counter(r.kind for r in layer.resources).items()))
            for name, layer in (("aws", live.aws), ("cloudflare", live.cloudflare)) if layer is not None}
    if live.envoy:
        read["envoy"] = {"gateway": len(live.envoy)}
    return read


def write_import(imported: Imported, out_dir: str) -> None:
    write_files(out_dir, imported.files)
