"""The HTTP servers edgec runs on 127.0.0.1: the pacing proxy in front of Terraform's Cloudflare
provider (edgec/apply/pacing.py) and the sandbox's fake Cloudflare API (edgec/sandbox/fake_cloudflare.py).

A client that goes away before its answer is written (Terraform stopped by Ctrl-C, a read that timed
out) is not an error there: socketserver would print a Python traceback on edgec's stderr for it.
"""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 (port 0: any free one) whose threads never hold up exit."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0):
        super().__init__(("127.0.0.1", port), handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def serve_in_background(self, name: str, poll_interval: float = 0.05) -> threading.Thread:
        """Serve on a daemon thread; a short poll interval makes `shutdown()` return at once."""
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": poll_interval}, name=name,
                                  daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # the client hung up: nothing to report
            super().handle_error(request, client_address)
