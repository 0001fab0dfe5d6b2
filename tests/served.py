"""A static HTTP server on 127.0.0.1 for the download tests (a pytest plugin: tests/conftest.py loads it).

Nothing in the tests touches the internet: the fixture ``served`` serves a temporary folder; files
below the ``unsized/`` prefix are sent without Content-Length.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

UNSIZED = "unsized/"  # path prefix served without Content-Length


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files, request log, and an UNSIZED prefix that omits Content-Length."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.requests.append(self.path)
        if self.path.startswith("/" + UNSIZED):
            body = (Path(self.directory) / self.path.removeprefix("/" + UNSIZED)).read_bytes()
            self.send_response(200)
            self.end_headers()  # HTTP/1.0: the body ends when the connection closes
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep the test output quiet."""


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """Aborted downloads reset the connection on purpose; no traceback on stderr."""


@dataclass
class Served:
    root: Path
    url: str
    requests: list[str]


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """Serve tmp_path/www over HTTP on a free local port."""
    for var in ("no_proxy", "NO_PROXY"):  # a proxy in the environment must not intercept
        monkeypatch.setenv(var, "127.0.0.1,localhost")
    root = tmp_path / "www"
    root.mkdir()
    server = _Server(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    server.requests = []
    # A short poll interval keeps shutdown() from costing half a second per test.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield Served(root, f"http://127.0.0.1:{server.server_address[1]}/", server.requests)
    server.shutdown()
    server.server_close()
    thread.join()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []
