"""Recorded API answers, served again over HTTP: the live-to-IR golden tests read them with the real SDK
clients (boto3, cloudflare) exactly as they read a live API.

Recording puts a forwarding server in front of the real (emulated) API and keeps each exchange:
the request's method, path, the X-Amz-Target header (ACM's JSON protocol names the operation there)
and body digest, and the response's status, content type and body. Nothing of the request's headers
is kept, so no credential is ever written. Replaying answers each request with the recorded answer to
the same request; a request that was never recorded gets 599, which the reader reports as a failed read.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler

from edgec.loopback import LoopbackServer

UNRECORDED = 599


def request_key(method: str, path: str, target: str | None, body: bytes) -> str:
    return f"{method} {path} {target or '-'} {hashlib.sha256(body).hexdigest()[:16]}"


class ApiReplay:
    """`upstream` given: record; else replay `exchanges`."""

    def __init__(self, exchanges: list[dict] | None = None, upstream: str | None = None):
        self.upstream = upstream.rstrip("/") if upstream else None
        self.exchanges: list[dict] = list(exchanges or [])
        self.answers = {e["request"]: e for e in self.exchanges}
        self.lock = threading.Lock()
        self.server = LoopbackServer(self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def __enter__(self) -> ApiReplay:
        self.server.serve_in_background("api-replay")
        return self

    def __exit__(self, *_) -> None:
        self.server.stop()

    def save(self, path: pathlib.Path) -> None:
        path.write_text(json.dumps(self.exchanges, indent=1) + "\n")

    def _answer(self, method: str, path: str, headers, body: bytes) -> tuple[int, str, bytes]:
        key = request_key(method, path, headers.get("X-Amz-Target"), body)
        if self.upstream is None:
            recorded = self.answers.get(key)
            if recorded is None:
                return UNRECORDED, "text/plain", f"not recorded: {key}".encode()
            return recorded["status"], recorded["content_type"], recorded["body"].encode()
        forwarded = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length", "connection")}
        request = urllib.request.Request(self.upstream + path, data=body or None, method=method, headers=forwarded)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, content_type, data = response.status, response.headers.get("Content-Type", ""), response.read()
        except urllib.error.HTTPError as exc:
            status, content_type, data = exc.code, exc.headers.get("Content-Type", ""), exc.read()
        with self.lock:
            if key not in self.answers:
                entry = {"request": key, "status": status, "content_type": content_type, "body": data.decode()}
                self.answers[key] = entry
                self.exchanges.append(entry)
        return status, content_type, data

    def _handler(self):
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, content_type, data = replay._answer(self.command, self.path, self.headers, body)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

            def log_message(self, *_) -> None:
                pass

        return Handler
