"""A test page for the browser hashing scripts, on the real app's origin, in headless Chromium.

The page is served by the app itself (with its strict CSP) from a route added for the tests;
the scripts come from ``/static/survivor/hashing/``. Files reach the page through a file
input, exactly as a survivor's files do. Helpers return plain Python values.

Each reference image is hashed in the page once a session, as a survivor's enrolment hashes it
(keypoints asked for, so the PDQ signal set and ss-kp-1 come from one call), by
``reference_result`` into the session's ``reference_results`` (tests/web/conftest.py):
``test_js_hashing`` compares its hashes with Python's and ``test_js_keypoints`` its ss-kp-1
record; the first to ask pays, in either module.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pytest
from fastapi.responses import HTMLResponse, Response
from playwright.sync_api import expect

from stopspread.storage import Database, upgrade
from stopspread.web import create_app
from tests.browser import new_page
from tests.conftest import fast_settings
from tests.web.support import serve

__all__ = ["TEST_PAGE", "HashingPage", "hashing_page", "reference_result"]

TEST_PAGE: Final = "/__test__/hashing"
_READY_JS: Final = "/__test__/hashing-ready.js"
_SCRIPTS: Final = ("pdq.js", "signals.js", "digest.js", "header.js", "hashing.js")
# Deferred scripts run in order: the last one marks the page ready once the others are there,
# so the test waits on a DOM attribute (our CSP refuses strings polled by wait_for_function).
_READY: Final = (
    'document.documentElement.setAttribute("data-ready", '
    'window.StopSpreadHashing && window.StopSpreadDigest ? "yes" : "no");'
)
_HTML: Final = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>hashing test</title>'
    + "".join(f'<script src="/static/survivor/hashing/{s}" defer></script>' for s in _SCRIPTS)
    + f'<script src="{_READY_JS}" defer></script>'
    + '</head><body><main><label for="f">file</label><input type="file" id="f" multiple>'
    "</main></body></html>"
)

_HASH: Final = """async (options) => {
  const file = document.getElementById('f').files[0];
  const progress = [];
  try {
    const result = await StopSpreadHashing.hashFile(file, Object.assign({}, options, {
      onProgress: (p) => progress.push(p)}));
    return {result, progress};
  } catch (e) {
    return {error: e.code || 'none', message: String(e.message), progress};
  }
}"""

_DECODE: Final = """async () => {
  const file = document.getElementById('f').files[0];
  const d = await StopSpreadHashing._decodeForTest(file);
  const url = await new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.readAsDataURL(new Blob([d.rgba]));
  });
  return {width: d.width, height: d.height, b64: url.slice(url.indexOf(',') + 1)};
}"""


class HashingPage:
    """The test page in one browser context; every request it makes is recorded."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.requests: list[tuple[str, str]] = []
        self.console_errors: list[str] = []
        page.on("request", lambda r: self.requests.append((r.method, r.url)))
        page.on(
            "console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None
        )
        page.goto(base_url + TEST_PAGE)
        expect(page.locator("html")).to_have_attribute("data-ready", "yes")

    def choose(self, path: Path | None = None, *, name: str = "", data: bytes = b"") -> None:
        """Put one file in the page's file input (a real path, or bytes under a name)."""
        if path is not None:
            self.page.set_input_files("#f", str(path))
        else:
            payload = {"name": name, "mimeType": "", "buffer": data}
            self.page.set_input_files("#f", files=[payload])

    def hash(self, **options: Any) -> dict[str, Any]:
        """``StopSpreadHashing.hashFile`` on the chosen file: ``{result, progress}`` or
        ``{error, message, progress}``."""
        out: dict[str, Any] = self.page.evaluate(_HASH, options)
        return out

    def decoded(self) -> npt.NDArray[np.uint8]:
        """The RGBA pixels the hashing worker decodes for the chosen image (H x W x 4)."""
        d = self.page.evaluate(_DECODE)
        raw = np.frombuffer(base64.b64decode(d["b64"]), dtype=np.uint8)
        return raw.reshape(int(d["height"]), int(d["width"]), 4)

    def evaluate(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)


def reference_result(
    page: HashingPage, results: dict[Path, dict[str, Any]], path: Path
) -> dict[str, Any]:
    """``{result, progress, console_errors}`` of ``hashFile`` with keypoints and details on the
    reference image ``path``: hashed on ``page`` unless a test already had it this session.
    ``path`` is left chosen in ``page``'s file input either way."""
    page.choose(path)
    if path not in results:
        errors_before = len(page.console_errors)
        out = page.hash(keypoints=True, _details=True)
        assert "result" in out, (path.name, out)
        out["console_errors"] = page.console_errors[errors_before:]
        results[path] = out
    return results[path]


@pytest.fixture(scope="module")
def hashing_page(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[HashingPage]:
    tmp = tmp_path_factory.mktemp("hashing")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    app = create_app(fast_settings(url, tmp))

    @app.get(TEST_PAGE, response_class=HTMLResponse)
    async def test_page() -> HTMLResponse:
        return HTMLResponse(_HTML)

    @app.get(_READY_JS)
    async def ready_script() -> Response:
        return Response(_READY, media_type="text/javascript")

    db = Database(url)
    upgrade(db)
    db.dispose()
    with serve(app) as base_url:
        page = new_page(browser, locale="en-GB")
        try:
            yield HashingPage(page, base_url)
        finally:
            page.context.close()
