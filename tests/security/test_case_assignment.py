"""Finding 7: a case code alone granted another center access (an admin of center B who knew
case A's code assigned it to B and revealed its originals).

Against a real server: assigning takes the survivor's secret; the code alone, a wrong
secret and an unknown code are refused alike, and nothing is assigned.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from stopspread.services import cases
from stopspread.services.keys import new_case_code
from stopspread.services.signal_input import parse_signal
from stopspread.services.workers import accounts
from stopspread.storage.models import Case
from stopspread.storage.models_worker import CaseAssignment, Center
from tests.conftest import fast_settings, make_services
from tests.services.review_seed import PASSWORD, World, build_world
from tests.web.support import live_server


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    tmp = tmp_path_factory.mktemp("assign")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    svc = make_services(url, tmp)
    world = build_world(svc, tmp)
    with live_server(fast_settings(url, tmp)) as base_url:
        yield base_url, world
    svc.db.dispose()


def _token(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found, f"no {name} field on the page"
    return found.group(1)


def _admin(base_url: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=30)
    form = client.get("/worker/login")
    data = {"username": "hana", "password": PASSWORD, "csrf_token": _token(form.text, "csrf_token")}
    assert client.post("/worker/login", data=data).status_code == 303
    return client


def _centers_of(world: World, code: str) -> set[str]:
    with world.svc.db.read() as session:
        rows = session.scalars(
            select(Center.name)
            .join(CaseAssignment, CaseAssignment.center_id == Center.id)
            .join(Case, Case.id == CaseAssignment.case_id)
            .where(Case.code == code)
        )
        return set(rows)


def test_the_code_alone_assigns_nothing(site: tuple[str, World], tmp_path: Path) -> None:
    base_url, world = site
    other = cases.create_case(world.svc, [parse_signal("md5", "b" * 32)])
    accounts.assign_case(world.svc, other.code, "Busan Center")  # the operator's CLI
    client = _admin(base_url)  # hana, admin of the Seoul center
    try:
        page = client.get("/worker/admin")
        csrf = _token(page.text, "csrf_token")
        tries = [
            {"code": other.code},  # the finding: the code alone
            {"code": other.code, "secret": "not-her-secret"},
            {"code": new_case_code(), "secret": other.secret},
        ]
        for fields in tries:
            answer = client.post("/worker/admin/assign", data={**fields, "csrf_token": csrf})
            assert answer.status_code == 303
            assert answer.headers["location"] == "/worker/admin?error=no_case"
        assert _centers_of(world, other.code) == {"Busan Center"}
        mine = {"code": other.code, "secret": other.secret, "csrf_token": csrf}
        answer = client.post("/worker/admin/assign", data=mine)
        assert answer.headers["location"] == "/worker/admin?done=assigned"
    finally:
        client.close()
    assert _centers_of(world, other.code) == {"Busan Center", "Seoul Center"}
