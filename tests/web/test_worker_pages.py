"""Support workers' pages over HTTP: sign-in, cookies, CSRF, center isolation, previews.

The browser half (real Chromium: blurred previews, the deliberate reveal, decisions,
screenshots, axe-core) is in ``test_worker_browser.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update
from starlette.requests import Request

from stopspread.errors import NotFoundError
from stopspread.services import cases
from stopspread.services.signal_input import parse_signal
from stopspread.services.workers import accounts
from stopspread.services.workers.reveal import RevealTickets
from stopspread.storage.models import AuditEvent
from stopspread.storage.models_scan import ReviewState, Sighting
from stopspread.storage.models_worker import Worker, WorkerRole, WorkerSession
from stopspread.web.routes.worker import safe_media_type
from stopspread.web.worker_auth import is_secure, safe_next
from tests.conftest import fast_settings, make_services
from tests.services.review_seed import PASSWORD, World, build_world
from tests.web.support import live_server


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    tmp = tmp_path_factory.mktemp("worker")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    svc = make_services(url, tmp)
    world = build_world(svc, tmp)
    with live_server(fast_settings(url, tmp)) as base_url:
        yield base_url, world
    svc.db.dispose()


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


def login(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    form = client.get("/worker/login")
    data = {"username": name, "password": password, "csrf_token": _token(form.text)}
    return client.post("/worker/login", data={**data, "next": "/worker/review"})


@pytest.fixture
def client(site: tuple[str, World]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site[0], timeout=30) as c:
        yield c


def test_pages_need_a_session(client: httpx.Client) -> None:
    for path in ("/worker/review", "/worker/cases", "/worker/evidence/1/preview.png"):
        answer = client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/worker/login?next=%2Fworker%2F")
    assert (
        client.post("/worker/sightings/1/decision", data={"decision": "reject"}).status_code == 303
    )


def test_sign_in_sets_a_strict_http_only_cookie(client: httpx.Client) -> None:
    answer = login(client, "mina")
    assert answer.status_code == 303 and answer.headers["location"] == "/worker/review"
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("ss_worker="))
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "path=/worker" in lowered
    assert "secure" not in lowered  # plain HTTP on 127.0.0.1 only; Secure everywhere else
    page = client.get("/worker/review")
    assert page.status_code == 200 and '<html lang="ko">' in page.text
    assert "발견 검토" in page.text and page.headers["cache-control"] == "no-store"


def test_wrong_password_and_missing_login_token(client: httpx.Client) -> None:
    assert login(client, "mina", "not the password").status_code == 401
    no_token = client.post("/worker/login", data={"username": "mina", "password": PASSWORD})
    assert no_token.status_code == 403
    assert "ss_worker" not in client.cookies


def test_lockout_over_http(site: tuple[str, World], client: httpx.Client) -> None:
    svc = site[1].svc
    accounts.create_worker(svc, "Seoul Center", "locked", PASSWORD, WorkerRole.WORKER)
    for _ in range(svc.settings.worker_login_attempts + 1):  # the last one starts a wait
        assert login(client, "locked", "wrong password!").status_code == 401
    locked = login(client, "locked")
    assert locked.status_code == 429 and "잠시 잠겼어요" in locked.text


def test_posts_need_the_session_csrf_token(site: tuple[str, World], client: httpx.Client) -> None:
    world = site[1]
    login(client, "mina")
    target = f"/worker/sightings/{world.sightings_a[2]}/decision"
    assert client.post(target, data={"decision": "confirm"}).status_code == 403
    wrong = {"decision": "confirm", "csrf_token": "x" * 43}
    assert client.post(target, data=wrong).status_code == 403
    token = _token(client.get("/worker/review").text)
    done = client.post(target, data={"decision": "confirm", "csrf_token": token})
    assert done.status_code == 303
    with world.svc.db.read() as session:
        row = session.get(Sighting, world.sightings_a[2])
        assert row is not None and row.review_status is ReviewState.CONFIRMED


def test_another_centers_worker_gets_404(site: tuple[str, World], client: httpx.Client) -> None:
    world = site[1]
    login(client, "jiwoo")
    token = _token(client.get("/worker/review").text)
    mine = client.get("/worker/review").text
    assert f"sighting-{world.sighting_b}" in mine
    assert all(f'sighting-{s}"' not in mine for s in world.sightings_a)
    sid = world.sightings_a[0]
    with world.svc.db.read() as session:
        evidence = session.get(Sighting, sid).media_evidence_id  # type: ignore[union-attr]
    assert client.get(f"/worker/review?case={world.case_a}").status_code == 404
    assert client.get(f"/worker/evidence/{evidence}/preview.png").status_code == 404
    assert client.get(f"/worker/sightings/{sid}/reveal").status_code == 404
    data = {"csrf_token": token, "decision": "reject"}
    assert client.post(f"/worker/sightings/{sid}/decision", data=data).status_code == 404
    assert client.post(f"/worker/sightings/{sid}/reveal", data=data).status_code == 404


def test_preview_is_a_png_never_cached(site: tuple[str, World], client: httpx.Client) -> None:
    world = site[1]
    login(client, "mina")
    html = client.get(f"/worker/review?case={world.case_a}&lang=en").text
    sources = re.findall(r'src="(/worker/evidence/\d+/preview\.png)"', html)
    assert len(sources) == 3 and "Review sightings" in html
    for src in set(sources):
        png = client.get(src)
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert png.headers["cache-control"] == "no-store" and png.content[:4] == b"\x89PNG"


def test_reveal_needs_a_post_and_is_logged(site: tuple[str, World], client: httpx.Client) -> None:
    world = site[1]
    login(client, "mina")
    sid = world.sightings_a[0]
    confirm = client.get(f"/worker/sightings/{sid}/reveal")
    assert confirm.status_code == 200 and "/worker/reveal/" not in confirm.text
    shown = client.post(
        f"/worker/sightings/{sid}/reveal", data={"csrf_token": _token(confirm.text)}
    )
    (ticket,) = re.findall(r'src="(/worker/reveal/[^"]+)"', shown.text)
    original = client.get(ticket)
    assert original.content == world.image_a and original.headers["cache-control"] == "no-store"
    assert original.headers["content-security-policy"] == "default-src 'none'; sandbox"
    with world.svc.db.read() as session:
        kinds = list(session.scalars(select(AuditEvent.kind)))
    assert "evidence_revealed" in kinds and "worker_login" in kinds
    login(client, "hana")  # another worker of the same center cannot use her link
    assert client.get(ticket).status_code == 404


def test_logout_ends_the_session(client: httpx.Client) -> None:
    login(client, "mina")
    token = _token(client.get("/worker/cases").text)
    assert client.post("/worker/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/worker/cases").status_code == 303


def test_cases_page_lists_her_cases(site: tuple[str, World], client: httpx.Client) -> None:
    login(client, "mina")
    html = client.get("/worker/cases?lang=en").text
    assert site[1].code_a in html and "Your center&#39;s cases" in html


def test_admin_manages_only_her_centers_workers(
    site: tuple[str, World], client: httpx.Client
) -> None:
    world = site[1]
    login(client, "mina")
    assert client.get("/worker/admin").status_code == 404  # workers are not admins
    login(client, "hana")
    page = client.get("/worker/admin")
    assert page.status_code == 200 and ">mina<" in page.text and "jiwoo" not in page.text
    token = _token(page.text)
    new = {"csrf_token": token, "username": "newbie", "password": PASSWORD, "role": "worker"}
    made = client.post("/worker/admin/workers", data=new)
    assert made.headers["location"] == "/worker/admin?done=created"
    assert client.post("/worker/admin/workers", data=new).headers["location"].endswith("invalid")
    with world.svc.db.read() as session:
        ids = {name: wid for name, wid in session.execute(select(Worker.username, Worker.id))}
    jiwoo = f"/worker/admin/workers/{ids['jiwoo']}/disable"
    assert client.post(jiwoo, data={"csrf_token": token}).status_code == 404
    mine = f"/worker/admin/workers/{ids['newbie']}/disable"
    assert client.post(mine, data={"csrf_token": token}).headers["location"].endswith("disabled")
    new_case = cases.create_case(world.svc, [parse_signal("md5", "9" * 32)])
    code, secret = new_case.code, new_case.secret
    form = {"csrf_token": token, "code": code, "secret": secret}
    assigned = client.post("/worker/admin/assign", data=form)
    assert assigned.headers["location"].endswith("done=assigned")
    assert code in client.get("/worker/cases").text
    nope = client.post("/worker/admin/assign", data={"csrf_token": token, "code": "NOPE"})
    assert nope.headers["location"].endswith("error=no_case")


@pytest.mark.parametrize(
    ("given", "served"),
    [
        ("image/jpeg", "image/jpeg"),
        ("Video/MP4; codecs=avc1", "video/mp4"),
        ("text/html", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("", "application/octet-stream"),
    ],
)
def test_revealed_media_is_served_only_as_image_or_video(given: str, served: str) -> None:
    assert safe_media_type(given) == served


def test_an_expired_session_goes_back_to_sign_in(
    site: tuple[str, World], client: httpx.Client
) -> None:
    login(client, "mina")
    assert client.get("/worker/cases").status_code == 200
    past = datetime.now(UTC) - timedelta(seconds=1)
    with site[1].svc.db.write() as (session, _head):
        session.execute(update(WorkerSession).values(expires_at=past))
    answer = client.get("/worker/cases")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/worker/login")


def test_reveal_tickets_are_signed_personal_and_short_lived() -> None:
    tickets = RevealTickets("server key", ttl_s=60)
    ticket = tickets.issue(worker_id=3, evidence_id=7)
    assert tickets.evidence_id(ticket, worker_id=3) == 7
    body, _, signature = ticket.rpartition(".")
    forged = [
        ticket.replace("3.7.", "3.8.", 1),  # another evidence id, same signature
        f"{body}.{'0' * len(signature)}",
        "3.7.9999999999.deadbeef",
        "garbage",
    ]
    for bad in forged:
        with pytest.raises(NotFoundError):
            tickets.evidence_id(bad, worker_id=3)
    with pytest.raises(NotFoundError):
        tickets.evidence_id(ticket, worker_id=4)  # not hers
    with pytest.raises(NotFoundError):
        RevealTickets("another key").evidence_id(ticket, worker_id=3)
    expired = RevealTickets("server key", ttl_s=-1).issue(worker_id=3, evidence_id=7)
    with pytest.raises(NotFoundError):
        tickets.evidence_id(expired, worker_id=3)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/worker/review?case=3", "/worker/review?case=3"),
        ("//evil.example/worker/", "/worker/cases"),
        ("https://evil.example/worker/x", "/worker/cases"),
        ("/worker/\\evil", "/worker/cases"),
        ("/v1/cases", "/worker/cases"),
        ("", "/worker/cases"),
    ],
)
def test_sign_in_returns_only_to_worker_pages(target: str, expected: str) -> None:
    assert safe_next(target) == expected


@pytest.mark.parametrize(
    ("url", "secure"),
    [
        ("http://127.0.0.1:8000/worker/login", False),
        ("http://[::1]:8000/worker/login", False),
        ("http://localhost/worker/login", False),
        ("http://10.0.0.5/worker/login", True),
        ("http://stopspread.example/worker/login", True),
        ("https://127.0.0.1/worker/login", True),
    ],
)
def test_cookies_are_secure_except_plain_http_on_loopback(url: str, secure: bool) -> None:
    parts = httpx.URL(url)
    scope = {
        "type": "http",
        "scheme": parts.scheme,
        "server": (parts.host, parts.port or 80),
        "path": parts.path,
        "query_string": b"",
        "headers": [(b"host", parts.netloc)],
    }
    assert is_secure(Request(scope)) is secure
