"""Worker pages of a withdrawn case (issue 16 item 6, issue 18 finding 6), over real HTTP.

A banner says she withdrew and what she chose; no decision buttons, no scan (room check)
link; with "delete" no preview, no reveal, no report: 410 at once on every route, and the
report is not offered. With "keep": previews, reveals and the report still work.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stopspread.services import cases
from stopspread.storage.models_scan import Sighting
from stopspread.web.i18n import load_catalog
from tests.conftest import fast_settings, make_services
from tests.services.review_seed import World, build_world
from tests.web.support import live_server
from tests.web.test_worker_pages import _token, login

KO = load_catalog().messages["ko"]


@pytest.fixture(params=["delete", "keep"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, World, str]]:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    svc = make_services(url, tmp_path)
    world = build_world(svc, tmp_path)
    cases.withdraw(svc, world.case_a, cases.CenterEvidence(request.param))
    with live_server(fast_settings(url, tmp_path)) as base_url:
        yield base_url, world, request.param
    svc.db.dispose()


def _evidence_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"/worker/evidence/(\d+)/preview.png", html)]


def test_withdrawn_case_pages_agree_with_her_choice(site: tuple[str, World, str]) -> None:
    base_url, world, choice = site
    erased = choice == "delete"
    with httpx.Client(base_url=base_url, timeout=30) as client:
        login(client, "mina")
        page = client.get(f"/worker/review?case={world.case_a}")
        assert page.status_code == 200
        html = page.text
        assert 'id="withdrawn-banner"' in html
        assert KO["worker.withdrawn.erased" if erased else "worker.withdrawn.kept"] in html
        assert "/decision" not in html  # no decision buttons
        assert "/room-check" not in html  # no scan of a withdrawn case
        assert html.count(KO["worker.card.withdrawn"]) == len(world.sightings_a)
        assert ("/reveal" in html) is not erased
        assert bool(_evidence_ids(html)) is not erased
        token = _token(html)  # the sign-out form's
        sighting = world.sightings_a[0]
        decided = client.post(
            f"/worker/sightings/{sighting}/decision",
            data={"decision": "confirm", "csrf_token": token},
        )
        assert decided.status_code == 410
        assert KO["worker.error.withdrawn"] in decided.text
        confirm = client.get(f"/worker/sightings/{sighting}/reveal")
        revealed = client.post(f"/worker/sightings/{sighting}/reveal", data={"csrf_token": token})
        evidence = _evidence_id(world)
        preview = client.get(f"/worker/evidence/{evidence}/preview.png")
        report = client.get(f"/worker/takedown/report?case={world.case_a}")
        board = client.get("/worker/takedown").text
        listed = client.get("/worker/cases").text
    if erased:
        assert (confirm.status_code, revealed.status_code) == (410, 410)
        assert KO["worker.error.erased"] in revealed.text
        assert (preview.status_code, report.status_code) == (410, 410)
        assert 'id="report-case"' not in board  # her center's only case: no report offered
        assert KO["worker.case_status.erased"] in listed
    else:
        assert (confirm.status_code, revealed.status_code) == (200, 200)
        assert preview.status_code == 200 and preview.content.startswith(b"\x89PNG")
        assert report.status_code == 200 and report.content.startswith(b"%PDF-")
        assert KO["worker.case_status.kept"] in listed
        assert 'id="report-case"' in board
    assert KO["worker.cases.closed"] in listed


def _evidence_id(world: World) -> int:
    with world.svc.db.read() as session:
        row = session.get(Sighting, world.sightings_a[0])
        assert row is not None
        return row.media_evidence_id
