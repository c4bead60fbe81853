"""Finding 11 (ids): 18 kinds of worker request answered 500 to an id >= 2^63 or ``?case=²``
and logged a traceback holding the input; a scan's progress told "no such case" for another
center's scan but "no such scan" for a missing one.

Against a real server: every such request is 404 (or 422 where the id is not a number at
all), the log holds no traceback and no input, and missing and foreign scans answer alike.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import httpx
import pytest

from stopspread.services.scans import queue
from stopspread.storage.models_scan import SourceKind
from tests.conftest import fast_settings, make_services
from tests.services.review_seed import PASSWORD, World, build_world
from tests.web.support import live_server

HUGE = [str(2**63), str(2**64 + 5), "9" * 40]
GETS = [
    "/worker/evidence/{id}/preview.png",
    "/worker/sightings/{id}/reveal",
    "/worker/scans/{id}",
    "/worker/scans/{id}/progress.json",
    "/worker/takedown/requests/{id}",
    "/worker/takedown/requests/{id}/export.json",
]
POSTS = [
    "/worker/sightings/{id}/decision",
    "/worker/sightings/{id}/reveal",
    "/worker/scans/{id}/cancel",
    "/worker/scans/sources/{id}/run",
    "/worker/admin/workers/{id}/disable",
    "/worker/admin/workers/{id}/password",
    "/worker/takedown/requests/{id}/send",
    "/worker/takedown/requests/{id}/status",
    "/worker/takedown/requests/{id}/check",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    tmp = tmp_path_factory.mktemp("ids")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    svc = make_services(url, tmp)
    world = build_world(svc, tmp)
    settings = fast_settings(url, tmp, smtp_from="center@example.org")  # as a configured center
    with live_server(settings) as base_url:
        yield base_url, world
    svc.db.dispose()


def _signed_in(base_url: str, name: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base_url, timeout=30)
    form = client.get("/worker/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    data = {"username": name, "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/worker/login", data=data).status_code == 303
    page = client.get("/worker/cases")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    return client, csrf.group(1)


def test_ids_too_large_or_not_ascii_are_404_and_logged_without_input(
    site: tuple[str, World], caplog: pytest.LogCaptureFixture
) -> None:
    base_url, _world = site
    client, csrf = _signed_in(base_url, "hana")  # an admin: every route is hers to try
    seen: dict[str, int] = {}
    with caplog.at_level(logging.DEBUG):
        try:
            for value in HUGE:
                for path in GETS:
                    seen[f"GET {path} {value[:5]}"] = client.get(path.format(id=value)).status_code
                for path in POSTS:
                    form = {"csrf_token": csrf, "decision": "reject", "password": "x" * 20}
                    answer = client.post(path.format(id=value), data=form)
                    seen[f"POST {path} {value[:5]}"] = answer.status_code
            for query in ("²", "١٢", str(2**63)):
                seen[f"takedown ?case={query}"] = client.get(
                    "/worker/takedown", params={"case": query}
                ).status_code
            seen["GET non-ascii id"] = client.get("/worker/scans/²").status_code
        finally:
            client.close()
    errors = {k: v for k, v in seen.items() if v >= 500}
    assert errors == {}
    assert {v for k, v in seen.items() if "takedown ?case" in k} == {200}
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    server = [r for r in server if r.name != "uvicorn.access"]  # the request line: no traceback
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in server)
    assert "Traceback" not in logged and "²" not in logged and str(2**63) not in logged


def test_a_missing_scan_and_another_centers_scan_answer_alike(site: tuple[str, World]) -> None:
    base_url, world = site
    urls = {"urls": ["https://example.org/x.jpg"]}
    source = queue.add_source(world.svc.db, world.case_b, SourceKind.URLS, urls, created_by="t")
    foreign = queue.queue_scan(world.svc.db, source, trigger="test")
    client, _csrf = _signed_in(base_url, "mina")  # Seoul: the scan is Busan's
    try:
        theirs = client.get(f"/worker/scans/{foreign}/progress.json")
        missing = client.get(f"/worker/scans/{foreign + 1000}/progress.json")
    finally:
        client.close()
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
