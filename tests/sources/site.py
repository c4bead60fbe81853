"""A small local website for the fetch, crawl and scan tests: http.server on 127.0.0.1:0.

Routes are plain data (status, headers, body) or a function writing the response itself
(for bodies that never end or trickle). Routes can be changed while it runs, to "remove"
or "re-upload" an item between scans.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["LocalSite", "Page", "local_site"]

Writer = Callable[[BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class LocalSite:
    base_url: str = ""
    routes: dict[str, Page | Writer] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def html(self, path: str, body: str) -> None:
        self.routes[path] = Page(body.encode())

    def file(self, path: str, body: bytes, content_type: str) -> None:
        self.routes[path] = Page(body, content_type)

    def remove(self, path: str) -> None:
        self.routes.pop(path, None)


def _handler(site: LocalSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            site.hits.append(path)
            site.user_agents.append(self.headers.get("User-Agent", ""))
            route = site.routes.get(path)
            if route is None:
                self._send(Page(b"not found", "text/plain", 404))
            elif isinstance(route, Page):
                self._send(route)
            else:
                with contextlib.suppress(OSError):
                    route(self)

        def _send(self, page: Page) -> None:
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            self.send_header("Content-Length", str(len(page.body)))
            for name, value in page.headers:
                self.send_header(name, value)
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(page.body)

        def log_message(self, *_args: object) -> None:  # quiet
            pass

    return Handler


@contextlib.contextmanager
def local_site() -> Iterator[LocalSite]:
    site = LocalSite()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
