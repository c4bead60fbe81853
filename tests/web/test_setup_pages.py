"""``/setup`` over HTTP: the one-time link makes the first center and admin, then is refused.

The browser walk (``/setup`` → sign in as the new admin, axe-core, screenshots) is in
``test_setup_browser.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stopspread.services.context import Services
from stopspread.services.workers import setup
from tests.conftest import fast_settings, make_services
from tests.web.support import live_server

PASSWORD = "a long enough password"


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[httpx.Client, Services]]:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    svc = make_services(url, tmp_path)
    with (
        live_server(fast_settings(url, tmp_path)) as base_url,
        httpx.Client(base_url=base_url, timeout=30) as client,
    ):
        yield client, svc
    svc.db.dispose()


def _form(token: str, **changes: str) -> dict[str, str]:
    data = {
        "token": token,
        "center": "서울 지원센터",
        "username": "hana",
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    return {**data, **changes}


def test_setup_makes_the_first_admin_once(fresh: tuple[httpx.Client, Services]) -> None:
    client, svc = fresh
    token = setup.issue_setup_token(svc)
    assert token is not None
    page = client.get("/setup", params={"token": token})
    assert page.status_code == 200 and '<html lang="ko">' in page.text
    assert "처음 설정" in page.text and f'value="{token}"' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    english = client.get("/setup", params={"token": token}, headers={"accept-language": "en"})
    assert "First-time set-up" in english.text

    mismatch = client.post("/setup", data=_form(token, password_again=PASSWORD + "!"))
    assert mismatch.status_code == 422 and "같지 않아요" in mismatch.text
    assert 'value="hana"' in mismatch.text  # what she typed stays, passwords do not
    short = client.post("/setup", data=_form(token, password="short", password_again="short"))
    assert short.status_code == 422 and "12자 이상" in short.text

    done = client.post("/setup", data=_form(token))
    assert done.status_code == 303 and done.headers["location"] == "/worker/login?setup=done"
    login = client.get(done.headers["location"])
    assert "방금 만든 이름과 비밀번호로 로그인하세요" in login.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
    assert csrf is not None
    signed_in = client.post(
        "/worker/login",
        data={"username": "hana", "password": PASSWORD, "csrf_token": csrf.group(1)},
    )
    assert signed_in.status_code == 303
    admin = client.get("/worker/admin")
    assert admin.status_code == 200 and "hana" in admin.text

    again = client.post("/setup", data=_form(token, username="other"))
    assert again.status_code == 404 and "설정은 이미 끝났어요" in again.text
    assert client.get("/setup", params={"token": token}).status_code == 404


def test_wrong_missing_and_expired_tokens_are_refused(
    fresh: tuple[httpx.Client, Services],
) -> None:
    client, svc = fresh
    expired = setup.issue_setup_token(svc, ttl_s=-1)
    assert expired is not None
    for params in ({"token": expired}, {"token": "nope"}, {}):
        page = client.get("/setup", params=params)
        assert page.status_code == 403 and "시간이 지났어요" in page.text
        assert "stopspread worker create" in page.text
    token = setup.issue_setup_token(svc)
    assert token is not None
    refused = client.post("/setup", data=_form(expired))
    assert refused.status_code == 403 and not setup.admin_exists(svc)
    assert client.post("/setup", data=_form(token)).status_code == 303
