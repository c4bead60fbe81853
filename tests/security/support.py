"""Helpers for the attack suite: the app served as ``stopspread serve`` serves it."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import uvicorn

from stopspread.config import Settings
from stopspread.storage import Database, upgrade
from stopspread.web import create_app
from stopspread.web.proxy import proxy_options

__all__ = ["served"]


@contextlib.contextmanager
def served(settings: Settings) -> Iterator[str]:
    """The app under uvicorn with the options ``stopspread serve`` gives it for proxies."""
    db = Database.from_settings(settings)  # sealed, as the server opens it
    upgrade(db)
    db.dispose()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        **proxy_options(settings),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
