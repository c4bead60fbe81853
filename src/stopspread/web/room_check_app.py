"""The standalone room-check app ``stopspread room-check --serve`` opens on this computer.

Only the room-check page and the static files: no database, no case, no sign-in. It listens on
127.0.0.1 (never on the network it checks), and results live in memory until it stops.
"""

from __future__ import annotations

import secrets

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from stopspread import __version__
from stopspread.web.errors import install_error_handlers
from stopspread.web.pages import STATIC_DIR, Pages
from stopspread.web.routes import room_check
from stopspread.web.security import PageSecurityHeaders

__all__ = ["LOCAL_HOST", "create_room_check_app", "serve_room_check"]

LOCAL_HOST = "127.0.0.1"


def create_room_check_app(target: room_check.RoomCheckTarget | None = None) -> FastAPI:
    """The page's app; ``target`` gives the scope and plan (tests: a simulated network)."""
    app = FastAPI(title="StopSpread room check", version=__version__, openapi_url=None)
    install_error_handlers(app)
    app.state.pages = Pages()
    app.state.room_check_target = target
    app.state.room_check_token = secrets.token_urlsafe(32)
    app.state.room_check_results = {}
    app.add_middleware(PageSecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(room_check.standalone_router)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/room-check", status_code=303)

    return app


def serve_room_check(port: int) -> None:
    import uvicorn

    print(f"Open http://{LOCAL_HOST}:{port}/room-check  (Ctrl-C stops)")
    uvicorn.run(create_room_check_app(), host=LOCAL_HOST, port=port, access_log=False)
