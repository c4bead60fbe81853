"""The survivor's pages: start, help for under-18s, enrolment, status and withdrawal.

The pages only render text. The work happens in her browser: the files are hashed there
(``static/survivor/hashing/``) and only hashes go to the survivor API (``routes/survivor.py``).
The strings the page scripts show are rendered into each page as a JSON block, so every word
lives in the locale files.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from stopspread.web.deps import PagesDep, Svc
from stopspread.web.i18n import negotiate
from stopspread.web.schemas import CreateCaseIn

__all__ = ["NEUTRAL_PATH", "AgeAnswer", "router"]

NEUTRAL_PATH: Final = "/today"  # the quick exit's ordinary page: a recipe, no product name
JS_PREFIX: Final = "survivor.js."

router = APIRouter(include_in_schema=False)


class AgeAnswer(enum.StrEnum):
    """Her answer to "are you under 18?" on the start page."""

    MINOR = "minor"
    ADULT = "adult"


def _render(request: Request, pages: PagesDep, template: str, **context: object) -> HTMLResponse:
    table = pages.catalog.messages[negotiate(request)]
    js = {key: text for key, text in table.items() if key.startswith(JS_PREFIX)}
    centers = getattr(request.app.state, "centers", ())  # services/centers.py: the centers file
    values = {"js_messages": js, "neutral_path": NEUTRAL_PATH, "centers": centers, **context}
    return pages.render(request, template, values)


# her browser's OpenCV.js, installed from npm (not in git): see docs/browser-hashing.md
OPENCV_JS: Final = Path(__file__).parents[1] / "static/survivor/hashing/opencv/opencv.js"


@router.get("/", response_class=RedirectResponse)
async def home(request: Request) -> RedirectResponse:
    """The service's front door is the survivor's start page (platforms use the API)."""
    lang = request.query_params.get("lang")
    return RedirectResponse("/survivor" + (f"?lang={lang}" if lang in {"ko", "en"} else ""), 303)


@router.get("/survivor", response_class=HTMLResponse)
async def start(request: Request, pages: PagesDep) -> HTMLResponse:
    """What this does and does not do, the age question, help, shared devices."""
    return _render(request, pages, "survivor/start.html")


@router.get("/survivor/age", response_class=RedirectResponse)
async def age(request: Request, answer: str = "") -> RedirectResponse:
    """Under 18: the page of people who can help; otherwise on to the files."""
    try:
        chosen: AgeAnswer | None = AgeAnswer(answer)
    except ValueError:
        chosen = None
    target = {None: "/survivor", AgeAnswer.MINOR: "/survivor/minors"}.get(chosen, "/survivor/new")
    lang = request.query_params.get("lang")
    if lang in {"ko", "en"}:
        target += f"?lang={lang}"
    return RedirectResponse(target, status_code=303)


@router.get("/survivor/minors", response_class=HTMLResponse)
async def minors(request: Request, pages: PagesDep) -> HTMLResponse:
    """For under-18s: the services whose job it is, instead of this page."""
    return _render(request, pages, "survivor/minors.html")


@router.get("/survivor/new", response_class=HTMLResponse)
async def enrol(request: Request, pages: PagesDep, svc: Svc) -> HTMLResponse:
    """Choose files, hash them here, confirm, get a case code and a secret."""
    batch = svc.settings.max_signals_per_request  # the page sends its hashes in batches this big
    keypoints = "yes" if _keypoints_enrolled() else "no"
    return _render(request, pages, "survivor/new.html", batch=batch, keypoints=keypoints)


def _keypoints_enrolled() -> bool:
    """Does her page compute and send ``ss-kp-1`` records? Where the API takes them
    (``CreateCaseIn.keypoints``) and OpenCV.js is installed (``make opencv-js``)."""
    return "keypoints" in CreateCaseIn.model_fields and OPENCV_JS.is_file()


@router.get("/survivor/status", response_class=HTMLResponse)
async def status(request: Request, pages: PagesDep) -> HTMLResponse:
    """Counts for a case code and secret; withdrawal in one confirmed step."""
    return _render(request, pages, "survivor/status.html")


@router.get(NEUTRAL_PATH, response_class=HTMLResponse)
async def neutral(request: Request, pages: PagesDep) -> HTMLResponse:
    """The quick exit's page: an ordinary recipe, nothing that names this service."""
    return pages.render(request, "survivor/neutral.html")
