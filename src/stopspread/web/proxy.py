"""Whose ``X-Forwarded-For`` the server believes (issue 18, finding 11).

The client address keys the per-address limits (case secrets, enrolment, worker sign-in).
uvicorn believes ``X-Forwarded-For`` from 127.0.0.1 by default, so anyone on the machine —
or any local proxy that passes the header through — could pick the address the limits see.
StopSpread believes it only from the proxies named in ``forwarded_allow_ips``.
"""

from __future__ import annotations

from typing import Any

from stopspread.config import Settings

__all__ = ["proxy_options"]


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for forwarded headers, from the settings."""
    if settings.forwarded_allow_ips:
        return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}
    return {"proxy_headers": False}
