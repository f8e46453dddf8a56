"""edgec's loopback HTTP servers (the pacing proxy in front of Terraform's Cloudflare provider, the
sandbox's fake Cloudflare API): a client that hangs up before its answer (Terraform stopped by Ctrl-C, a
read that timed out) prints no Python traceback on edgec's stderr; a bug in a handler still does."""

from __future__ import annotations

import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from edgec.apply.pacing import PacingProxy
from edgec.loopback import LoopbackServer


class Watched(LoopbackServer):
    """Tells when a request's error handling is over (it runs on the request's thread): `handled`."""

    def handle_error(self, request, client_address) -> None:
        super().handle_error(request, client_address)
        self.handled.set()


def _hang_up_before_the_answer(port: int, answered: threading.Event | None = None) -> None:
    """Send a request, then reset the connection (SO_LINGER 0) before reading anything."""
    client = socket.create_connection(("127.0.0.1", port))
    client.sendall(b"GET /client/v4/zones HTTP/1.1\r\nHost: x\r\n\r\n")
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()
    if answered is not None:
        answered.set()


def _server(behaviour) -> Watched:
    hung_up = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hung_up.wait(5)
            behaviour(self)

        def log_message(self, *args) -> None:
            pass

    server = Watched(Handler)
    server.handled = threading.Event()
    server.hung_up = hung_up
    server.serve_in_background("test")
    return server


def _answer(handler: BaseHTTPRequestHandler) -> None:
    for _ in range(50):  # the first write may still go out; a later one meets the reset
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(b"x" * 65536)


def test_a_client_that_hangs_up_prints_no_traceback(capfd):
    server = _server(_answer)
    try:
        _hang_up_before_the_answer(server.port, server.hung_up)
        assert server.handled.wait(10), "the write to the reset connection did not fail"
    finally:
        server.stop()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred" not in err, err


def test_a_bug_in_a_handler_is_still_reported(capfd):
    def broken(handler: BaseHTTPRequestHandler) -> None:
        raise ValueError("a bug in the handler")

    server = _server(broken)
    try:
        _hang_up_before_the_answer(server.port, server.hung_up)
        assert server.handled.wait(10)
    finally:
        server.stop()
    assert "ValueError: a bug in the handler" in capfd.readouterr().err


def test_the_pacing_proxy_says_nothing_when_terraform_hangs_up(capfd):
    """Terraform stopped mid-request: the proxy's answer from Cloudflare has nowhere to go."""
    upstream = _server(lambda handler: _json(handler, b'{"success": true, "result": []}'))
    upstream.hung_up.set()  # the upstream answers at once; the client of the proxy is the one that hangs up
    try:
        with PacingProxy(f"http://127.0.0.1:{upstream.port}/client/v4", rate=4) as proxy:
            _hang_up_before_the_answer(urlsplit(proxy.base_url).port)
            deadline = time.monotonic() + 10
            while proxy.forwarded == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert proxy.forwarded == 1
            time.sleep(0.3)  # the proxy writes the answer back, to a reset connection
    finally:
        upstream.stop()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred" not in err, err


def _json(handler: BaseHTTPRequestHandler, body: bytes) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
