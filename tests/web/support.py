"""Helpers for the HTTP tests: the app on a migrated database, served on a real socket.

Every HTTP test goes through uvicorn on 127.0.0.1 port 0 (a thread): the same stack as
production, and no dependence on a test client's transport.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import httpx
import uvicorn
from starlette.types import ASGIApp

from stopspread.config import Settings
from stopspread.services import platform
from stopspread.storage import Database, upgrade
from stopspread.web import create_app
from tests.dbtemplate import seed

__all__ = ["api_client", "auth", "live_server", "new_client_key", "pdq_body", "serve"]


def new_client_key(settings: Settings, name: str = "platform", can_hash: bool = False) -> str:
    seed(settings.url)  # migrated once per session, copied (tests/dbtemplate.py)
    db = Database(settings.url)
    upgrade(db)
    _client, key = platform.create_client(db, name, can_hash)
    db.dispose()
    return key


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def pdq_body(value: str) -> dict[str, str]:
    return {"type": "pdq", "value": value}


@contextlib.contextmanager
def api_client(settings: Settings) -> Iterator[httpx.Client]:
    """A real server on a loopback socket (port 0) and an HTTP client for it."""
    with live_server(settings) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


@contextlib.contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    """The service on a migrated database, on 127.0.0.1 port 0; yields the base URL."""
    seed(settings.url)
    db = Database(settings.url)
    upgrade(db)
    db.dispose()
    with serve(create_app(settings)) as base_url:
        yield base_url


@contextlib.contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Any ASGI app under uvicorn on 127.0.0.1, port 0, in a thread; yields the base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
