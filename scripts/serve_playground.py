#!/usr/bin/env python3
"""Serves the built playground (a static directory) on 127.0.0.1 and prints its URL.

Usage: scripts/serve_playground.py DIR   (PLAYGROUND_PORT picks the port; default: a free one)

Browsers compile a module with WebAssembly.instantiateStreaming only when it is served as
application/wasm, so the type is set here rather than left to the platform's mime tables.
Standard library only; stops on Ctrl-C or SIGTERM.
"""

import functools
import http.server
import os
import signal
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".js": "text/javascript",
        ".css": "text/css",
        ".html": "text/html",
    }

    def end_headers(self):
        # Always the page just built, never a cached module from an earlier build.
        self.send_header("cache-control", "no-store")
        super().end_headers()

    def log_message(self, *args):
        pass


def main():
    if len(sys.argv) != 2 or not os.path.isfile(os.path.join(sys.argv[1], "index.html")):
        sys.exit("usage: serve_playground.py DIR (a built playground: make playground-build)")
    port = int(os.environ.get("PLAYGROUND_PORT", "0"))
    handler = functools.partial(Handler, directory=sys.argv[1])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"playground: http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
