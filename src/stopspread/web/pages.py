"""Server-rendered pages: one Jinja environment, the translator and language in every template.

``Pages.render(request, "area/name.html", {...})`` is all a route needs. Templates live in
``templates/<area>/`` and extend ``base.html``; static files are served from ``static/`` at
``/static``. Pages carry no inline script or style: the CSP in :mod:`stopspread.web.security`
forbids both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final
from urllib.parse import parse_qsl, urlencode

import jinja2
from markupsafe import Markup, escape
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import HTMLResponse

from stopspread import __version__
from stopspread.languages import Language
from stopspread.web.i18n import LANG_COOKIE, Catalog, load_catalog, negotiate

__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "Pages", "lang_url"]

WEB_DIR: Final = Path(__file__).resolve().parent
TEMPLATES_DIR: Final = WEB_DIR / "templates"
STATIC_DIR: Final = WEB_DIR / "static"
LANG_COOKIE_AGE_S: Final = 365 * 24 * 3600  # a chosen language is remembered for a year
_PHONE_NUMBER: Final = re.compile(r"\+?\d[\d-]{5,}\d")  # 02-735-8994: kept on one line


def keep_phones(text: str) -> Markup:
    """Escape ``text`` and keep each phone number in it on one line (no break after a dash)."""
    parts: list[Markup] = []
    start = 0
    for found in _PHONE_NUMBER.finditer(text):
        parts.append(escape(text[start : found.start()]))
        parts.append(Markup('<span class="nowrap">{}</span>').format(found.group()))
        start = found.end()
    parts.append(escape(text[start:]))
    return Markup("").join(parts)


def lang_url(url: URL, lang: Language) -> str:
    """The same page (path and query) in another language, as a path-relative URL."""
    pairs = [(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k != "lang"]
    pairs.append(("lang", lang.value))
    return f"{url.path}?{urlencode(pairs)}"


class Pages:
    """The Jinja environment and message catalogue the page routes render with."""

    def __init__(
        self, catalog: Catalog | None = None, templates: Sequence[Path] = (TEMPLATES_DIR,)
    ) -> None:
        self.catalog = catalog if catalog is not None else load_catalog()
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(list(templates)),
            autoescape=jinja2.select_autoescape(default=True),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals["version"] = __version__
        self.env.filters["keep_phones"] = keep_phones

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, object] | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        lang = negotiate(request)
        values: dict[str, object] = {
            "request": request,
            "lang": lang.value,
            "other_lang": lang.other.value,
            "lang_url": lang_url(request.url, lang.other),
            "t": self.catalog.translator(lang),
        }
        values.update(context or {})
        html = self.env.get_template(template).render(values)
        response = HTMLResponse(html, status_code=status)
        if request.query_params.get("lang") == lang.value:
            response.set_cookie(
                LANG_COOKIE, lang.value, max_age=LANG_COOKIE_AGE_S, samesite="lax", httponly=True
            )
        return response
