"""A live estate seeded from a spec (moto in server mode and edgec's fake Cloudflare), imported back
with `edgec import`'s machinery."""

from __future__ import annotations

import pathlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import boto3

from edgec.emit.compile import render_files
from edgec.importer.read import ImportOptions
from edgec.importer.run import Imported, import_estate, write_import
from edgec.sandbox.fake_cloudflare import FakeCloudflare
from edgec.sandbox.run import AppliedAws, apply_to_moto, reset_moto
from edgec.sandbox.seed import seed_cloudflare
from edgec.spec.validate import Validation, validate

TOKEN = "import-test-token"


@dataclass
class RoundTrip:
    applied: AppliedAws  # the original, as seeded
    imported: Imported
    out_dir: pathlib.Path
    validation: Validation  # of what import wrote
    envoy_files: dict[str, str]  # the original's compiled Envoy files, by path


@dataclass
class Live:
    applied: AppliedAws
    cloudflare: FakeCloudflare
    zone_ids: dict[str, str]  # Cloudflare zone name -> ID
    envoy_configs: dict[str, str]  # gateway -> its bootstrap file


def seed(data: dict, tmp_path: pathlib.Path, moto_url: str, monkeypatch) -> tuple[Live, dict[str, str]]:
    """Empty moto, apply `data` to it and to a fresh fake Cloudflare, write its Envoy files; edgec's
    environment points at all three. The caller stops the fake."""
    reset_moto(moto_url)
    region = (data.get("aws") or {}).get("region", "us-east-1")
    for key, value in {"AWS_ENDPOINT_URL": moto_url, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": region,
                       "CLOUDFLARE_API_TOKEN": TOKEN}.items():
        monkeypatch.setenv(key, value)
    applied = apply_to_moto(boto3.Session(region_name=region), moto_url, data, tmp_path / "live" / "edge.yaml")
    fake = FakeCloudflare(token=TOKEN)
    fake.start()
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", fake.base_url)
    zone_ids = seed_cloudflare(fake, applied.spec, applied.desired, applied.nlb_dns_names)
    configs, files = envoy_configs(applied, tmp_path / "gateways")
    return Live(applied, fake, zone_ids, configs), files


def envoy_configs(applied: AppliedAws, folder: pathlib.Path) -> tuple[dict[str, str], dict[str, str]]:
    """The original's Envoy files written to `folder` (as on the gateways): gateway -> bootstrap path."""
    files = {path: text for path, text in render_files(applied.desired).items() if path.startswith("envoy/")}
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    configs = {pathlib.Path(p).stem: str(folder / p) for p in files if p.count("/") == 1}
    return configs, files


@contextmanager
def round_trip(data: dict, tmp_path: pathlib.Path, moto_url: str, monkeypatch, name: str | None = None,
               live_changes=lambda live: None, **options) -> Iterator[RoundTrip]:
    """Seed `data`, let `live_changes(live)` change the live estate, import it; the live estate stays up
    while the caller looks (to plan the imported spec against it)."""
    live, files = seed(data, tmp_path, moto_url, monkeypatch)
    try:
        live_changes(live)
        options.setdefault("envoy_configs", live.envoy_configs)
        vpc = live.applied.spec.aws.vpc_id if live.applied.spec.aws else None
        imported = import_estate(ImportOptions(vpc_id=vpc, **options), name)
        out = tmp_path / "imported"
        write_import(imported, str(out))
        yield RoundTrip(live.applied, imported, out, validate(str(out)), files)
    finally:
        live.cloudflare.stop()
