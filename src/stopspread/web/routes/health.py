"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from stopspread.web.deps import Svc
from stopspread.web.schemas import HealthOut

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz(svc: Svc) -> HealthOut:
    """The process is up and its index is loaded."""
    return HealthOut(signals=len(svc.replica), change_seq=svc.replica.seq)
