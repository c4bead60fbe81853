"""Liveness for anyone; the index's counts only for an API key."""

from __future__ import annotations

from fastapi import APIRouter

from stopspread.web.deps import Client, Svc
from stopspread.web.schemas import HealthOut, StatusOut, error_responses

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> HealthOut:
    """The process is up (it answers only once its index is loaded). Nothing else."""
    return HealthOut()


@router.get("/v1/status", responses=error_responses(401, 403, 429))
async def status(svc: Svc, _client: Client) -> StatusOut:
    """This process's index: how many hashes, and the last change applied (needs a key)."""
    return StatusOut(signals=len(svc.replica), change_seq=svc.replica.seq)
