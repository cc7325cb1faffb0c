"""A folder over HTTP on 127.0.0.1, in a thread: the one local server of the browser bench
(bench/browser.py) and the browser tests (tests/browserkit.py). Standard library only.

`headers` are sent with every response: the bench's isolated pages get COOP/COEP (ISOLATION) as
the live page's service worker would add them; a static host, as the tests serve the site, sends none."""
from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from pathlib import Path
from typing import ClassVar

ISOLATION = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Files of a folder, no log lines, `extra_headers` on every response."""
    extra_headers: ClassVar[dict] = {}

    def log_message(self, *args):
        pass

    def end_headers(self):
        for name, value in self.extra_headers.items():
            self.send_header(name, value)
        super().end_headers()


@contextlib.contextmanager
def serve(folder: Path, headers: dict | None = None):
    """`folder` over HTTP on 127.0.0.1 (a free port), in a thread; yields the base URL
    (`http://127.0.0.1:PORT/`)."""
    handler = type("Handler", (QuietHandler,), {"extra_headers": dict(headers or {})})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
