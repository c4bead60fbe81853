"""Her choice at withdrawal in a real browser (issue 16 item 6), Korean and English.

A case a center holds one capture for; she opens her status page, reads both choices, picks
one, confirms, and her last screen says what the server did to the center's evidence: deleted
(and the worker's reveal is then refused) or kept (still there). axe-core finds nothing;
screenshots in ``test-artifacts/screenshots/withdrawal-choice/``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from stopspread.evidence import HttpCapture
from stopspread.services.custody import EvidenceStore
from stopspread.storage import Database
from stopspread.storage.models import Case
from stopspread.storage.models_worker import CaseKey
from stopspread.web.i18n import load_catalog
from tests.browser import axe_violations, screenshot
from tests.conftest import fast_settings
from tests.web.support import live_server
from tests.web.survivor_browser import open_page, wait_focus


def _case_with_evidence(settings: Any, client: httpx.Client) -> tuple[str, str, int]:
    made = client.post("/v1/cases", json={"signals": [{"type": "md5", "value": "e" * 32}]}).json()
    db = Database(settings.url)
    store = EvidenceStore.from_settings(settings, db)
    with db.read() as session:
        case_id = session.scalars(select(Case.id).where(Case.code == made["case_code"])).one()
    capture = HttpCapture(
        "https://example.org/a.jpg", 200, [], b"synthetic" * 50, datetime.now(UTC)
    )
    with db.write() as (session, _head):
        store.capture(session, case_id, [capture], reason="test")
    db.dispose()
    return made["case_code"], made["secret"], case_id


def _has_key(settings: Any, case_id: int) -> bool:
    db = Database(settings.url)
    with db.read() as session:
        found = session.get(CaseKey, case_id) is not None
    db.dispose()
    return found


@pytest.mark.parametrize(("lang", "choice"), [("ko", "delete"), ("en", "keep"), ("ko", "keep")])
def test_she_chooses_and_her_last_screen_says_what_was_done(
    browser: Any, tmp_path: Path, lang: str, choice: str
) -> None:
    settings = fast_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    messages = load_catalog().messages[lang]
    with live_server(settings) as site, httpx.Client(base_url=site, timeout=30) as client:
        code, secret, case_id = _case_with_evidence(settings, client)
        page = open_page(browser, lang, "desktop")
        page.goto(f"{site}/survivor/status?lang={lang}")
        page.fill("#code-input", code)
        page.fill("#secret-input", secret)
        page.click("#lookup-button")
        wait_focus(page, "result-title")
        legend = page.text_content("#center-evidence legend") or ""
        assert legend.strip() == messages["survivor.withdraw.center_title"]
        assert page.is_checked("#center-evidence-delete")  # the default, as the API's
        for name in ("delete_help", "keep_help"):
            assert messages[f"survivor.withdraw.{name}"] in (page.text_content("#withdraw") or "")
        if choice == "keep":
            page.check("#center-evidence-keep")
        assert axe_violations(page) == []
        screenshot(page, f"withdrawal-choice/{lang}-{choice}-choose")
        page.click("#withdraw-button")
        wait_focus(page, "withdraw-confirm-title")
        confirm = messages[f"survivor.js.withdraw.confirm_{choice}"].replace("{count}", "1")
        assert page.text_content("#withdraw-confirm-body") == confirm
        page.click("#withdraw-yes")
        wait_focus(page, "withdrawn-title")
        outcome = "erased" if choice == "delete" else "kept"
        said = messages[f"survivor.js.withdraw.evidence_{outcome}"].replace("{count}", "1")
        assert page.text_content("#withdrawn-evidence") == said
        assert axe_violations(page) == []
        screenshot(page, f"withdrawal-choice/{lang}-{choice}-done")
        page.context.close()
    assert _has_key(settings, case_id) is (choice == "keep")
