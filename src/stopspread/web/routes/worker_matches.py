"""``/worker/matches``: the platform-match review queue of her center (pages only).

Which platform, when, how many hits, the opaque ref and the platform's own feedback; a
worker confirms or rejects. The use cases are :mod:`stopspread.services.workers.matches`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from stopspread.errors import CaseWithdrawnError, NotFoundError
from stopspread.services.workers import matches
from stopspread.web.dates import fmt_kst
from stopspread.web.deps import PagesDep, Svc
from stopspread.web.worker_auth import CurrentWorker, render_worker, require_csrf

__all__ = ["router"]

router = APIRouter(prefix="/worker/matches", include_in_schema=False)
Csrf = Depends(require_csrf)


async def _page(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker,
    saved: int | None = None, error: str = "", status: int = 200,
) -> HTMLResponse:  # fmt: skip
    rows = await run_in_threadpool(matches.list_matches, svc, who)
    context = {
        "nav": "matches", "rows": rows, "saved": saved, "error": error, "fmt_kst": fmt_kst,
        "open_count": sum(1 for r in rows if r.status is matches.ReviewStatus.OPEN),
        "max_rows": matches.MAX_MATCHES, "decisions": [d.value for d in matches.MatchDecision],
    }  # fmt: skip
    return render_worker(request, pages, "worker/matches.html", context, status)


@router.get("", response_class=HTMLResponse)
async def matches_page(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, saved: int | None = None
) -> HTMLResponse:
    return await _page(request, svc, pages, who, saved)


@router.post("/{review_id}/decision", dependencies=[Csrf])
async def decision_submit(
    request: Request, review_id: int, svc: Svc, pages: PagesDep, who: CurrentWorker,
    decision: Annotated[matches.MatchDecision, Form()],
) -> Response:  # fmt: skip
    try:
        await run_in_threadpool(matches.decide_match, svc, who, review_id, decision)
    except NotFoundError:
        return render_worker(request, pages, "worker/error.html", {"kind": "not_found"}, 404)
    except CaseWithdrawnError:
        return await _page(request, svc, pages, who, error="withdrawn", status=409)
    return RedirectResponse(f"/worker/matches?saved={review_id}#match-{review_id}", 303)
