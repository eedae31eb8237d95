"""Fixtures for catalog tests: a real HTTP server on 127.0.0.1 serving a generated v3 tree."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from v3_server import CatalogServer, handler_for


@pytest.fixture
def catalog_http_server(tmp_path: Path) -> Iterator[CatalogServer]:
    """A v3 catalog tree under tmp_path/served, on an ephemeral 127.0.0.1 port, for one test."""
    server = CatalogServer(root=tmp_path / "served")
    (server.root / "v3").mkdir(parents=True)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(server))
    httpd.daemon_threads = True
    server.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v3"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
