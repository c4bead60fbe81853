"""Liveness for anyone; the index's counts only for an API key."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from stopspread.web.deps import Client, Svc
from stopspread.web.schemas import HealthOut, ReadyOut, StatusOut, error_responses

__all__ = ["router"]

router = APIRouter(tags=["operations"])

MIN_STALE_S: Final = 5.0  # not ready once the change log went unapplied this long (or 20 polls)


@router.get("/healthz")
async def healthz() -> HealthOut:
    """The process is up (it answers only once its index is loaded). Nothing else."""
    return HealthOut()


@router.get("/v1/status", responses=error_responses(401, 403, 429))
async def status(svc: Svc, _client: Client) -> StatusOut:
    """This process's index: how many hashes, and the last change applied (needs a key)."""
    return StatusOut(signals=len(svc.replica), change_seq=svc.replica.seq)


@router.get("/readyz", response_model=ReadyOut, responses={503: {"description": "Not ready"}})
async def readyz(request: Request, svc: Svc) -> ReadyOut | JSONResponse:
    """Ready to match: the index is loaded (snapshot + change log, or the database) and the
    change log was applied recently. A load balancer sends traffic only to ready processes;
    ``/healthz`` only says the process is alive."""
    poller = getattr(request.app.state, "poller", None)
    limit = max(MIN_STALE_S, 20 * svc.settings.index_poll_interval_s)
    if svc.replica.loaded_at is None or poller is None:
        reason = "the index is still loading"
    elif poller.behind_s() > limit:
        reason = f"the change log was not applied for {poller.behind_s():.0f} s"
    else:
        source = "snapshot" if svc.replica.source.startswith("snapshot") else "database"
        return ReadyOut(index_source=source)
    return JSONResponse(
        {"ok": False, "error": f"not ready: {reason}", "status": 503}, status_code=503
    )
