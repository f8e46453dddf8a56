"""Cloudflare's budget for Terraform: a loopback proxy that paces the Cloudflare provider's requests.

The provider (v5) does not limit its own rate, and Terraform's -parallelism caps the resources in
flight, not the requests per second: a large first apply (thousands of records) runs past Cloudflare's
1,200 requests per 5 minutes, and the token is then blocked for 5 minutes with 429s
(terraform-provider-cloudflare#5505). So while Terraform runs, edgec points the provider at this proxy
(CLOUDFLARE_BASE_URL, which the provider's SDK reads), which forwards each request to the real API when
a token bucket at edgec's Cloudflare rate allows it, and on a 429 waits as Retry-After says and sends it
again. It listens on 127.0.0.1 only and logs nothing; the provider's token passes through unchanged.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from edgec.loopback import LoopbackServer
from edgec.read.budget import MIN_BURST, RateLimiter

CLOUDFLARE_API = "https://api.cloudflare.com/client/v4"
MAX_ATTEMPTS = 6  # per request, when Cloudflare answers 429
LONGEST_WAIT = 300.0  # seconds: Cloudflare's window; a Retry-After beyond it is not believed
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "host", "content-length",
                        "proxy-connection", "te", "trailer", "upgrade"})


class PacingProxy:
    """Forwards to `upstream` (a Cloudflare API base URL) at most `rate` requests a second on average."""

    def __init__(self, upstream: str, rate: float, timeout: float = 60.0, sleep=time.sleep):
        self.upstream = upstream.rstrip("/")
        # no burst beyond a few: edgec's own read may have spent the budget's burst just before
        self.limiter = RateLimiter(rate, MIN_BURST)
        self.timeout, self.sleep = timeout, sleep
        self.forwarded = self.rate_limited = 0
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}{urlsplit(self.upstream).path}"

    def __enter__(self) -> PacingProxy:
        self._server = LoopbackServer(type("Handler", (_Handler,), {"proxy": self}))
        self._server.serve_in_background("cloudflare-pacing")
        return self

    def __exit__(self, *exc) -> None:
        assert self._server is not None
        self._server.stop()

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes | None):
        """(status, headers, body) of the upstream's answer, after waiting for the budget (and 429s)."""
        origin = urlsplit(self.upstream)
        url = f"{origin.scheme}://{origin.netloc}{path}"
        for attempt in range(1, MAX_ATTEMPTS):
            status, answer_headers, answer = self._paced(method, url, headers, body)
            if status != 429:
                return status, answer_headers, answer
            with self._lock:
                self.rate_limited += 1
            self.sleep(_retry_after(answer_headers, attempt))
        return self._paced(method, url, headers, body)  # the last attempt, answered as it is

    def _paced(self, method: str, url: str, headers: dict[str, str], body: bytes | None):
        self.limiter.acquire()
        with self._lock:
            self.forwarded += 1
        return _send(method, url, headers, body, self.timeout)


def _send(method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float):
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, list(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, list(error.headers.items()), error.read()


def _retry_after(headers: list[tuple[str, str]], attempt: int) -> float:
    value = next((v for k, v in headers if k.lower() == "retry-after"), None)
    try:
        return min(LONGEST_WAIT, max(1.0, float(value))) if value is not None else min(LONGEST_WAIT, 2.0 ** attempt)
    except ValueError:
        return min(LONGEST_WAIT, 2.0 ** attempt)


class _Handler(BaseHTTPRequestHandler):
    proxy: PacingProxy
    protocol_version = "HTTP/1.1"

    def _relay(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            status, answer_headers, answer = self.proxy.forward(self.command, self.path, headers, body)
        except OSError as exc:  # the API could not be reached: the provider sees a gateway error, and retries
            status, answer_headers, answer = 502, [("Content-Type", "text/plain")], f"edgec pacing proxy: {exc}".encode()
        self.send_response(status)
        for key, value in answer_headers:
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _relay

    def log_message(self, *args) -> None:  # nothing is logged: URLs name zones and records
        pass
