"""An example spec 'applied' to moto in server mode (the `moto_url` fixture in conftest), with edgec's
own sandbox machinery."""

from __future__ import annotations

import boto3

from conftest import ROOT
from edgec.sandbox.run import AppliedAws, apply_to_moto, reset_moto
from edgec.spec.loader import load_spec


def applied_example(example: str, tmp_path, monkeypatch, url: str) -> tuple[AppliedAws, boto3.Session]:
    """Empty moto, then apply the example to it; edgec's environment points at moto."""
    reset_moto(url)
    data = load_spec(str(ROOT / "examples" / example / "edge.yaml")).data
    region = data["aws"]["region"]
    for key, value in {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": region}.items():
        monkeypatch.setenv(key, value)
    session = boto3.Session(region_name=region)
    return apply_to_moto(session, url, data, tmp_path / "edge.yaml"), session
