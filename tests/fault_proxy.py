"""A fault-injecting HTTP proxy on 127.0.0.1, between edgec and an API server of the tests (moto in
server mode, the fake Cloudflare, a static Envoy admin): it passes every request on and its answer
back, except those a fault is set for, which it breaks the way real networks and APIs do.

    with FaultProxy(moto_url) as proxy:
        proxy.fault("Action=DescribeLoadBalancers", answered(200, b"<html>", "text/html"))
        ... point the client at proxy.url ...
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import struct
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable
from urllib.parse import urlsplit

from edgec.loopback import LoopbackServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


class Exchange:
    """One request, as a fault sees it: it may pass it on (`forward`) and change the answer."""

    def __init__(self, proxy: FaultProxy, connection: socket.socket, method: str, target: str,
                 headers: dict[str, str], body: bytes):
        self.proxy, self.connection = proxy, connection
        self.method, self.target, self.headers, self.body = method, target, headers, body

    def forward(self, target: str | None = None, body: bytes | None = None) -> Reply:
        """The upstream's answer to the request (or to it with another target or body)."""
        upstream = urlsplit(self.proxy.upstream)
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            connection.request(self.method, target or self.target, body=(self.body if body is None else body) or None,
                               headers=headers)
            response = connection.getresponse()
            return Reply(response.status, {k: v for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP},
                         response.read())
        finally:
            connection.close()


Fault = Callable[[Exchange], "Reply | None"]  # None: the connection is dropped without an answer


# --- faults ------------------------------------------------------------------------------------

def truncated(exchange: Exchange) -> Reply:
    """The answer cut in half (its Content-Length says so: the body is whole, but not JSON or XML)."""
    reply = exchange.forward()
    return Reply(reply.status, reply.headers, reply.body[:len(reply.body) // 2])


def edited_json(edit: Callable[[Any], None]) -> Fault:
    """The JSON answer, changed in place by `edit`."""
    def fault(exchange: Exchange) -> Reply:
        reply = exchange.forward()
        data = json.loads(reply.body)
        edit(data)
        return Reply(reply.status, reply.headers, json.dumps(data).encode())
    return fault


def edited_text(pattern: str, replacement: str) -> Fault:
    """The answer with every match of the regular expression replaced (an XML element, say)."""
    def fault(exchange: Exchange) -> Reply:
        reply = exchange.forward()
        return Reply(reply.status, reply.headers, re.sub(pattern, replacement, reply.body.decode()).encode())
    return fault


def answered(status: int, body: bytes | str, content_type: str = "application/json",
             headers: dict[str, str] | None = None) -> Fault:
    """An answer of the proxy's own, never passed on: an error page, a throttle."""
    payload = body.encode() if isinstance(body, str) else body
    return lambda exchange: Reply(status, {"Content-Type": content_type, **(headers or {})}, payload)


def first_page_always(exchange: Exchange) -> Reply:
    """An API that ignores the page asked for and never says how many pages there are."""
    reply = exchange.forward(re.sub(r"([?&])page=\d+", r"\1page=1", exchange.target))
    data = json.loads(reply.body)
    data.get("result_info", {}).pop("total_pages", None)
    return Reply(reply.status, reply.headers, json.dumps(data).encode())


def hang(exchange: Exchange) -> None:
    """No answer at all, until the proxy stops."""
    exchange.proxy.stopping.wait()


def reset(exchange: Exchange) -> None:
    """The connection reset (TCP RST) instead of an answer."""
    # linger 0: closing the socket sends a reset, not an orderly end
    exchange.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


# --- the proxy ---------------------------------------------------------------------------------

class FaultProxy:
    """Passes requests on to `upstream` (scheme://host:port). `url` is the proxy's address with the
    upstream's path. A rule applies to requests whose `METHOD target` line or body contains `where`;
    the first rule that applies wins. `requests` lists every request, as the rules see it."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.requests: list[str] = []
        self.stopping = threading.Event()
        self._rules: list[tuple[str, Fault]] = []
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None

    def fault(self, where: str, fault: Fault) -> None:
        """From now on, every request that contains `where` meets `fault`."""
        with self._lock:
            self._rules.append((where, fault))

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}{urlsplit(self.upstream).path}"

    def __enter__(self) -> FaultProxy:
        handler = type("Handler", (_Handler,), {"proxy": self})
        self._server = LoopbackServer(handler)
        self._server.serve_in_background("fault-proxy", poll_interval=0.02)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        assert self._server is not None
        self._server.stop()

    def rule_for(self, line: str, body: bytes) -> Fault | None:
        text = f"{line}\n{body.decode(errors='replace')}"
        with self._lock:
            self.requests.append(text)
            return next((fault for where, fault in self._rules if where in text), None)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' connection pools expect
    proxy: FaultProxy

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        exchange = Exchange(self.proxy, self.connection, self.command, self.path, dict(self.headers.items()), body)
        fault = self.proxy.rule_for(f"{self.command} {self.path}", body)
        reply = fault(exchange) if fault is not None else exchange.forward()
        if reply is None:
            self.close_connection = True
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests assert on `requests`."""
