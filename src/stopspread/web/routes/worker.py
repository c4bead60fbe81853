"""Support workers' pages: sign-in, her center's cases, the review of sightings.

Previews are PNGs made per request from the evidence (never cached): blurred grey by
default, or a colour blur or an outline chosen per card (``?card=&level=``), none of them
the original. The original is shown only after a confirmation step and a POST, and that
reveal is in the audit log; the original is then served to that worker, for that sighting,
for a short while.

Sightings are grouped by which of her enrolled pictures they matched; a group's waiting
sightings can be decided with one form. Decisions are plain POST forms answered with a
redirect; ``static/worker/review.js`` sends the same forms with ``fetch`` and
``Accept: application/json`` and gets a JSON answer instead, so no page reload.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from stopspread.errors import (
    CaseWithdrawnError,
    EvidenceErasedError,
    EvidenceError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
)
from stopspread.services.context import Services
from stopspread.services.custody import EvidenceStore
from stopspread.services.workers import accounts, review
from stopspread.services.workers.grouping import group_sightings
from stopspread.services.workers.reveal import RevealTickets
from stopspread.web.dates import fmt_iso, fmt_kst, fmt_utc
from stopspread.web.deps import PagesDep, Svc, client_address
from stopspread.web.i18n import negotiate
from stopspread.web.worker_auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentWorker,
    clear_session_cookie,
    is_secure,
    new_login_csrf,
    render_worker,
    require_csrf,
    safe_next,
    set_session_cookie,
)

__all__ = ["evidence_store", "router", "safe_media_type"]

router = APIRouter(prefix="/worker", include_in_schema=False)
Csrf = Depends(require_csrf)
NO_STORE: Final = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
# Media from other sites is served from our origin only as inert image or video bytes.
MEDIA_HEADERS: Final = {**NO_STORE, "Content-Security-Policy": "default-src 'none'; sandbox"}


def safe_media_type(content_type: str) -> str:
    """The remote site's content type if it is a plain image or video type, else octet-stream."""
    kind = content_type.split(";", 1)[0].strip().lower()
    plain = kind.startswith(("image/", "video/")) and "svg" not in kind and "xml" not in kind
    return kind if plain else "application/octet-stream"


def evidence_store(request: Request, svc: Services) -> EvidenceStore:
    """One store per app, over the app's database (made on first use)."""
    store: EvidenceStore | None = getattr(request.app.state, "evidence_store", None)
    if store is None:
        store = EvidenceStore.from_settings(svc.settings, svc.db)
        request.app.state.evidence_store = store
    return store


def _tickets(request: Request, svc: Services) -> RevealTickets:
    tickets: RevealTickets | None = getattr(request.app.state, "reveal_tickets", None)
    if tickets is None:
        tickets = request.app.state.reveal_tickets = RevealTickets(svc.server_key)
    return tickets


def _not_found(request: Request, pages: PagesDep) -> HTMLResponse:
    return render_worker(request, pages, "worker/error.html", {"kind": "not_found"}, 404)


def _gone(request: Request, pages: PagesDep, exc: CaseWithdrawnError) -> HTMLResponse:
    """410: she withdrew the case (and perhaps had the center's evidence erased)."""
    kind = "erased" if isinstance(exc, EvidenceErasedError) else "withdrawn"
    return render_worker(request, pages, "worker/error.html", {"kind": kind}, 410)


@router.get("", include_in_schema=False)
async def worker_home() -> RedirectResponse:
    return RedirectResponse("/worker/cases", status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, pages: PagesDep, next: str = "") -> HTMLResponse:
    return _login_form(request, pages, safe_next(next), error="", status=200)


def _login_form(
    request: Request, pages: PagesDep, target: str, error: str, status: int
) -> HTMLResponse:
    token = new_login_csrf()
    context = {"next": target, "login_csrf": token, "error": error, "nav": "login"}
    response = render_worker(request, pages, "worker/login.html", context, status)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        path="/worker/login",
        httponly=True,
        samesite="strict",
        secure=is_secure(request),
    )
    return response


@router.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    svc: Svc,
    pages: PagesDep,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, csrf_token):
        raise ForbiddenError("the form's security token is missing or wrong; reload the page")
    target = safe_next(next)
    try:
        new = await run_in_threadpool(
            accounts.login, svc, username.strip(), password, client_address(request)
        )
    except RateLimitedError:
        return _login_form(request, pages, target, "worker.login.locked", 429)
    except ForbiddenError:
        return _login_form(request, pages, target, "worker.login.failed", 401)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, new.token, svc.settings.worker_session_ttl_s)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/worker/login")
    return response


@router.post("/logout", dependencies=[Csrf])
async def logout(request: Request, svc: Svc, _who: CurrentWorker) -> RedirectResponse:
    await run_in_threadpool(accounts.logout, svc, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/worker/login?signed_out=1", status_code=303)
    clear_session_cookie(request, response)
    return response


@router.get("/cases", response_class=HTMLResponse)
async def cases_page(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker
) -> HTMLResponse:
    cards = await run_in_threadpool(review.list_cases, svc, who)
    context = {"cases": cards, "nav": "cases", "fmt_utc": fmt_utc, "fmt_kst": fmt_kst}
    return render_worker(request, pages, "worker/cases.html", context)


@router.get("/review", response_class=HTMLResponse)
async def review_page(
    request: Request,
    svc: Svc,
    pages: PagesDep,
    who: CurrentWorker,
    case: int | None = None,
    status: review.ReviewState | None = None,
    saved: int | None = None,
    saved_count: int | None = None,
    card: int | None = None,
    level: review.PreviewLevel = review.PreviewLevel.BLUR,
) -> HTMLResponse:
    try:
        cards = await run_in_threadpool(review.list_sightings, svc, who, case, status)
    except NotFoundError:
        return _not_found(request, pages)
    groups = await run_in_threadpool(group_sightings, svc, cards)
    case_card = None
    if case is not None:
        case_card = await run_in_threadpool(review.case_card, svc, who, case)
    context = {
        "cards": cards,
        "groups": groups,
        "looks": {card: level.value} if card is not None else {},
        "levels": [v.value for v in review.PreviewLevel],
        "look_url": _look_url(case, status),
        "saved_count": saved_count,
        "case": case,
        "case_card": case_card,
        "status": status.value if status else "",
        "states": [s.value for s in review.ReviewState],
        "saved": saved,
        "nav": "review",
        "fmt_utc": fmt_utc,
        "fmt_kst": fmt_kst,
        "fmt_iso": fmt_iso,
        "decisions": [d.value for d in review.Decision],
        "max_cards": review.MAX_CARDS,
    }
    return render_worker(request, pages, "worker/review.html", context)


def _look_url(case: int | None, status: review.ReviewState | None) -> Callable[[int, str], str]:
    """``look_url(card_id, level)``: this review page with one card's preview level chosen."""
    kept = {"case": case, "status": status.value if status else None}

    def look_url(card_id: int, level: str) -> str:
        query = {k: v for k, v in kept.items() if v is not None}
        query.update({"card": card_id, "level": level})
        return f"/worker/review?{urlencode(query)}#sighting-{card_id}"

    return look_url


@router.get("/evidence/{evidence_id}/preview.png")
async def preview_image(
    request: Request,
    evidence_id: int,
    svc: Svc,
    pages: PagesDep,
    who: CurrentWorker,
    level: review.PreviewLevel = review.PreviewLevel.BLUR,
) -> Response:
    store = evidence_store(request, svc)
    try:
        png = await run_in_threadpool(review.preview, svc, store, who, evidence_id, level)
    except NotFoundError:
        return _not_found(request, pages)
    except CaseWithdrawnError:
        return Response(status_code=410, headers=NO_STORE)
    except EvidenceError:
        return Response(status_code=422, headers=NO_STORE)
    return Response(png, media_type="image/png", headers=NO_STORE)


@router.get("/sightings/{sighting_id}/reveal", response_class=HTMLResponse)
async def reveal_confirm(
    request: Request, sighting_id: int, svc: Svc, pages: PagesDep, who: CurrentWorker
) -> HTMLResponse:
    try:
        card = await run_in_threadpool(review.get_card, svc, who, sighting_id)
    except NotFoundError:
        return _not_found(request, pages)
    if card.evidence_erased:
        return _gone(request, pages, EvidenceErasedError("her evidence was deleted"))
    context = {"card": card, "nav": "review", "fmt_iso": fmt_iso}
    return render_worker(request, pages, "worker/reveal_confirm.html", context)


@router.post("/sightings/{sighting_id}/reveal", response_class=HTMLResponse, dependencies=[Csrf])
async def reveal_submit(
    request: Request, sighting_id: int, svc: Svc, pages: PagesDep, who: CurrentWorker
) -> HTMLResponse:
    store = evidence_store(request, svc)
    try:
        original = await run_in_threadpool(review.reveal, svc, store, who, sighting_id)
    except NotFoundError:
        return _not_found(request, pages)
    except CaseWithdrawnError as exc:
        return _gone(request, pages, exc)
    ticket = _tickets(request, svc).issue(who.worker_id, original.evidence_id)
    context = {
        "original": original,
        "ticket": ticket,
        "sighting_id": sighting_id,
        "is_video": original.content_type.lower().startswith("video/"),
        "nav": "review",
    }
    return render_worker(request, pages, "worker/revealed.html", context)


@router.get("/reveal/{ticket}")
async def revealed_media(
    request: Request, ticket: str, svc: Svc, pages: PagesDep, who: CurrentWorker
) -> Response:
    store = evidence_store(request, svc)
    try:
        evidence_id = _tickets(request, svc).evidence_id(ticket, who.worker_id)
        media = await run_in_threadpool(review.revealed_media, svc, store, who, evidence_id)
    except NotFoundError:
        return _not_found(request, pages)
    except CaseWithdrawnError as exc:
        return _gone(request, pages, exc)
    media_type = safe_media_type(media.content_type)
    return Response(media.body, media_type=media_type, headers=MEDIA_HEADERS)


@router.post("/sightings/{sighting_id}/decision", dependencies=[Csrf])
async def decision_submit(
    request: Request,
    sighting_id: int,
    svc: Svc,
    pages: PagesDep,
    who: CurrentWorker,
    decision: Annotated[review.Decision, Form()],
) -> Response:
    try:
        await run_in_threadpool(review.decide, svc, who, sighting_id, decision)
    except NotFoundError:
        return _not_found(request, pages)
    except CaseWithdrawnError as exc:
        return _gone(request, pages, exc)
    if _wants_json(request):
        return _decided(request, pages, who, [sighting_id], decision)
    return RedirectResponse(
        f"/worker/review?saved={sighting_id}#sighting-{sighting_id}", status_code=303
    )


@router.post("/review/decisions", dependencies=[Csrf])
async def group_decision_submit(
    request: Request,
    svc: Svc,
    pages: PagesDep,
    who: CurrentWorker,
    decision: Annotated[review.Decision, Form()],
    sighting: Annotated[list[int], Form(max_length=review.MAX_CARDS)],
    case: Annotated[int | None, Form()] = None,
) -> Response:
    """One decision for a group's waiting sightings (the ids the page showed), all or none."""
    try:
        ids = await run_in_threadpool(review.decide_many, svc, who, sighting, decision)
    except NotFoundError:
        return _not_found(request, pages)
    except CaseWithdrawnError as exc:
        return _gone(request, pages, exc)
    if _wants_json(request):
        return _decided(request, pages, who, ids, decision)
    query = urlencode(
        {"case": case, "saved_count": len(ids)} if case else {"saved_count": len(ids)}
    )
    return RedirectResponse(f"/worker/review?{query}#sighting-{ids[0]}", status_code=303)


def _wants_json(request: Request) -> bool:
    """The page's script asks for JSON; a plain form submission gets the redirect."""
    return "application/json" in request.headers.get("accept", "")


def _decided(
    request: Request,
    pages: PagesDep,
    who: accounts.WorkerIdentity,
    ids: list[int],
    decision: review.Decision,
) -> JSONResponse:
    t = pages.catalog.translator(negotiate(request))
    state = decision.state.value
    message = (
        t("worker.review.saved", id=ids[0])
        if len(ids) == 1
        else t("worker.review.saved_many", count=len(ids))
    )
    body = {
        "ok": True,
        "sightings": ids,
        "state": state,
        "state_label": t(f"worker.state.{state}"),
        "reviewed_by": who.username,
        "message": message,
    }
    return JSONResponse(body, headers=NO_STORE)
