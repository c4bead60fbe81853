"""The HTTP API: a FastAPI app built by :func:`create_app` from one ``Settings`` object."""

from __future__ import annotations

from stopspread.web.app import create_app

__all__ = ["create_app"]
