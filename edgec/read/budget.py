"""API budget: every HTTP call to a provider is counted, and Cloudflare's are paced.

Cloudflare allows 1,200 requests per 5 minutes per token and blocks the token for 5 minutes when
that is exceeded, so edgec stays at or under 4 requests per second by default (configurable).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

DEFAULT_CLOUDFLARE_RATE = 4.0  # requests per second, sustained


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
