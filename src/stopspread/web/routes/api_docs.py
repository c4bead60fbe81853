"""``/docs`` (Swagger UI from our own origin, under the pages' CSP) and ``/favicon.ico``.

FastAPI's own ``/docs`` loads Swagger UI from a CDN and starts it with an inline script: our
CSP (``script-src 'self'``) blocks both and an offline machine cannot reach the CDN, so the
page was blank. Here Swagger UI's files come from the ``fastapi-offline`` package (kept up
to date there, never copied into this repository) under ``/docs/assets``, and our own
``static/api/docs.js`` starts it. ``/redoc`` is not served: ReDoc injects inline styles.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Final

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from stopspread.web.pages import STATIC_DIR

__all__ = ["DOCS_ASSETS", "FAVICON", "install_api_docs"]

DOCS_PATH: Final = "/docs"
DOCS_ASSETS: Final = "/docs/assets"
FAVICON: Final = STATIC_DIR / "common" / "favicon.ico"
FAVICON_MAX_AGE_S: Final = 7 * 24 * 3600  # the icon changes with a release at most


def swagger_ui_dir() -> Path:
    """The folder of ``swagger-ui-bundle.js`` and ``swagger-ui.css`` in the installed package."""
    return Path(str(files("fastapi_offline") / "static"))


router = APIRouter(include_in_schema=False)


@router.get(DOCS_PATH, response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    """The API's operations, browsable; the page runs only scripts from our origin."""
    return request.app.state.pages.render(  # type: ignore[no-any-return]
        request,
        "api/docs.html",
        {"assets": DOCS_ASSETS, "openapi_url": request.app.openapi_url},
    )


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    return FileResponse(
        FAVICON,
        media_type="image/x-icon",
        headers={"cache-control": f"public, max-age={FAVICON_MAX_AGE_S}"},
    )


def install_api_docs(app: FastAPI) -> None:
    """Serve ``/docs``, its assets and ``/favicon.ico`` (the app is made with ``docs_url=None``
    and ``redoc_url=None``, so FastAPI's CDN pages are not there)."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_dir()), name="api-docs-assets")
    app.include_router(router)
