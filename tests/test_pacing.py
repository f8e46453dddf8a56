"""The pacing proxy `edgec apply` puts between Terraform's Cloudflare provider and Cloudflare: driven by the
official cloudflare SDK (as the provider's SDK would be, through CLOUDFLARE_BASE_URL) against the fake
Cloudflare API, over HTTP on loopback."""

from __future__ import annotations

import time

import cloudflare
import pytest

from edgec.apply.pacing import PacingProxy
from edgec.sandbox.fake_cloudflare import FakeCloudflare


@pytest.fixture
def fake():
    with FakeCloudflare(token="t0ken") as server:
        yield server


def sdk(base_url: str) -> cloudflare.Cloudflare:
    return cloudflare.Cloudflare(api_token="t0ken", base_url=base_url, max_retries=0)  # the proxy retries


def test_writes_pass_through_unchanged_and_keep_to_the_rate(fake):
    zone_id = fake.add_zone("pace.example")
    with PacingProxy(fake.base_url, rate=10.0) as proxy:
        client = sdk(proxy.base_url)
        started = time.monotonic()
        for n in range(24):
            client.dns.records.create(zone_id=zone_id, name=f"r{n}.pace.example", type="A", content=f"192.0.2.{n}",
                                      ttl=300)
        elapsed = time.monotonic() - started
        records = list(client.dns.records.list(zone_id=zone_id, per_page=100))
    assert sorted(r.name for r in records) == sorted(f"r{n}.pace.example" for n in range(24))
    # 24 writes at 10/s after a burst of 4: at least 2 s, whatever the provider's parallelism
    assert elapsed >= 1.9
    assert proxy.forwarded == len(fake.calls) and proxy.rate_limited == 0


def test_a_429_is_waited_out_as_retry_after_says_and_sent_again(fake):
    fake.add_zone("pace.example")
    fake.throttle_next(2, retry_after=1)
    with PacingProxy(fake.base_url, rate=50.0) as proxy:
        started = time.monotonic()
        zones = list(sdk(proxy.base_url).zones.list())
        elapsed = time.monotonic() - started
    assert [z.name for z in zones] == ["pace.example"]  # the provider never saw the 429s
    assert proxy.rate_limited == 2 and proxy.forwarded == len(fake.calls)
    assert elapsed >= 2.0


def test_errors_reach_the_provider_as_cloudflare_sent_them(fake):
    with PacingProxy(fake.base_url, rate=50.0) as proxy:
        with pytest.raises(cloudflare.PermissionDeniedError):
            cloudflare.Cloudflare(api_token="wrong", base_url=proxy.base_url, max_retries=0).zones.list()
        with pytest.raises(cloudflare.NotFoundError):
            sdk(proxy.base_url).dns.records.get(dns_record_id="0" * 32, zone_id="f" * 32)
