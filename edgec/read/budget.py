"""API budget: every HTTP call to a provider is counted, and Cloudflare's are paced.

Cloudflare allows 1,200 requests per 5 minutes per token and blocks the token for 5 minutes when
that is exceeded. edgec's token bucket refills at a sustained rate (3.5 a second by default) and holds
what the budget leaves over five minutes at that rate (150 at 3.5): no five minutes of a run ever
exceed 1,200 requests, and a plan of up to 150 calls (24 zones) does not wait at all.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

DEFAULT_CLOUDFLARE_RATE = 3.5  # requests per second, sustained
CLOUDFLARE_BUDGET = 1200  # requests per token ...
CLOUDFLARE_WINDOW = 300  # ... per this many seconds
MIN_BURST = 4


def cloudflare_burst(rate: float) -> int:
    """The largest burst that, with `rate` per second after it, stays within the five-minute budget."""
    return max(MIN_BURST, int(CLOUDFLARE_BUDGET - rate * CLOUDFLARE_WINDOW))


class RateLimiter:
    """A token bucket: `rate` requests per second on average, bursts of at most `burst`."""

    def __init__(self, rate: float, burst: int = 4, clock=time.monotonic, sleep=time.sleep):
        self.rate, self.burst, self.clock, self.sleep = rate, burst, clock, sleep
        self.tokens, self.updated = float(burst), clock()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        with self.lock:
            now = self.clock()
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            wait = (1 - self.tokens) / self.rate if self.tokens < 1 else 0.0
            self.tokens -= 1
        if wait > 0:
            self.sleep(wait)


@dataclass
class ApiCalls:
    """Calls made per provider (every HTTP request, retries included)."""

    counts: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, provider: str) -> None:
        with self.lock:
            self.counts[provider] += 1

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


class ReadError(Exception):
    """A read that failed or stayed incomplete: the plan must fail, never assume 'nothing exists'."""

    def __init__(self, what: str, why: str):
        super().__init__(f"could not read {what}: {why}")
        self.what, self.why = what, why
