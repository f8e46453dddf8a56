"""Write an imported spec: a root file (estate, zones, certificates, gateways, ignore rules), a fragment
per zone (records, WAF) and per gateway (services, ingresses), the client certificates, the schemas
the files' modelines name, and the import report."""

from __future__ import annotations

import datetime
import os
import pathlib

from edgec.emit import yaml_text
from edgec.importer.draft import Draft
from edgec.importer.tidy import without_defaults
from edgec.spec.model import API_VERSION
from edgec.spec.schema import fragment_schema, spec_schema, to_text

ROOT = "edge.yaml"
REPORT = "import-report.txt"


def spec_files(draft: Draft, name: str, source: str, today: datetime.date) -> dict[str, str]:
    """Relative path -> text of every file of the imported spec."""
    root = {"apiVersion": API_VERSION, "name": name,
            "metadata": {"description": f"Imported by edgec import on {today.isoformat()} from {source}"}}
    for section in ("cloudflare", "aws", "zones", "certificates", "gateways"):
        if draft.root.get(section):
            root[section] = _sorted(draft.root[section]) if section != "aws" else draft.root[section]
    if draft.gaps:
        root["ignore"] = [gap.ignore_rule() for gap in _unique(draft.gaps)]
    root = without_defaults(root)
    for zone in root.get("zones", {}).values():
        if zone.get("tls") == {}:
            del zone["tls"]  # a zone without `tls` has the default settings
    files = {ROOT: _yaml(root, "schemas/edge.schema.json",
                         f"The estate '{name}' as edgec import found it; see {REPORT} for what it could not write.")}
    for zone, parts in sorted(draft.zones.items()):
        if parts:
            files[f"zones/{zone}.yaml"] = _yaml(without_defaults(parts), "../schemas/edge-fragment.schema.json",
                                                f"Zone {zone}: its records and WAF rules.")
    for gateway, parts in sorted(draft.gateways.items()):
        if parts:
            files[f"gateways/{gateway}.yaml"] = _yaml(without_defaults(parts), "../schemas/edge-fragment.schema.json",
                                                      f"Gateway {gateway}: its services and hostnames.")
    files.update(draft.files)
    files["schemas/edge.schema.json"] = to_text(spec_schema())
    files["schemas/edge-fragment.schema.json"] = to_text(fragment_schema())
    return files


def _sorted(section: dict) -> dict:
    return dict(sorted(section.items()))


def _unique(items: list) -> list:
    return list(dict.fromkeys(items))


def _yaml(data: dict, schema: str, title: str) -> str:
    return f"# yaml-language-server: $schema={schema}\n#\n# {title}\n\n{yaml_text.dump(data)}"


def report_lines(draft: Draft, calls: dict[str, int], read: dict[str, dict[str, int]]) -> list[str]:
    """The import report: what was read, with the API calls made; what could not be written (and is
    ignored), what was invented, and what the first plan will still show."""
    layers = [f"{layer}: " + ", ".join(f"{n} {kind}" for kind, n in kinds.items()) for layer, kinds in read.items()]
    lines = [f"Read: {'; '.join(layers) or 'nothing'}",
             f"API calls: {', '.join(f'{k} {v}' for k, v in sorted(calls.items())) or 'none'}"]
    gaps = _unique(draft.gaps)
    lines.append(f"Not expressible in the spec ({len(gaps)}; each written as an ignore rule with its reason):")
    lines += [f"  {gap.layer} {gap.kind} {gap.key}: {gap.reason}" for gap in gaps] or ["  nothing"]
    lines.append(f"Invented ({len(draft.invented)}; the live estate does not say, check them):")
    lines += [f"  {i.where}: {i.value} ({i.why})" for i in draft.invented] or ["  nothing"]
    notes = _unique(draft.notes)
    lines.append(f"Notes ({len(notes)}):")
    lines += [f"  {note}" for note in notes] or ["  nothing"]
    return lines


def write_files(out_dir: str, files: dict[str, str]) -> None:
    for relative, text in sorted(files.items()):
        path = pathlib.Path(out_dir, relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def is_empty(out_dir: str) -> bool:
    return not os.path.exists(out_dir) or not any(os.scandir(out_dir))
