"""The review page at scale over plain HTTP (no JavaScript): groups per enrolled photo, one
form for a group's waiting sightings, distance in words, preview levels per card.

The same forms sent by ``static/worker/review.js`` (``Accept: application/json``) get JSON;
the browser half is in ``test_worker_browser.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from stopspread.storage.models_scan import ReviewState, Sighting
from tests.conftest import fast_settings, make_services
from tests.services.review_groups_seed import Copies, add_copies
from tests.services.review_seed import World, build_world
from tests.web.support import live_server
from tests.web.test_worker_pages import _token, login

Site = tuple[str, World, Copies]


@pytest.fixture
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("review-groups")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    svc = make_services(url, tmp)
    world = build_world(svc, tmp)
    copies = add_copies(world)
    with live_server(fast_settings(url, tmp)) as base_url:
        yield base_url, world, copies
    svc.db.dispose()


@pytest.fixture
def client(site: Site) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site[0], timeout=30) as c:
        login(c, "mina")
        yield c


def _group(html: str, key: str) -> str:
    found = re.search(rf'<section class="group" id="group-{key}".*?</section>', html, re.S)
    assert found, f"no group {key} on the page"
    return found.group(0)


def _states(world: World, ids: list[int]) -> list[ReviewState]:
    with world.svc.db.read() as session:
        return [session.get(Sighting, s).review_status for s in ids]  # type: ignore[union-attr]


def test_copies_of_one_photo_are_one_group_with_words(site: Site, client: httpx.Client) -> None:
    _base, world, copies = site
    html = client.get(f"/worker/review?case={world.case_a}&lang=ko").text
    assert html.count('<section class="group"') == 3
    group = _group(html, f"{world.case_a}-{copies.photo_1}")
    assert f"등록한 사진 1 · 사건 {world.code_a}" in group
    assert "발견 5건 · 가장 가까운 것: 거의 같음" in group
    assert group.count('<li class="card') == 5
    assert "PDQ 거리 2비트 (256비트 중, 29비트까지 일치로 봐요)" in group
    for word in ("거의 같음", "매우 비슷함", "비슷함"):
        assert f"<strong>{word}</strong>" in group
    ids = re.findall(r'name="sighting" value="(\d+)"', group)
    assert sorted(map(int, ids)) == sorted(copies.copies)
    english = client.get(f"/worker/review?case={world.case_a}&lang=en").text
    assert "Enrolled photo 2 · case" in english
    assert "PDQ distance 2 of 256 bits (a match is 29 or fewer)" in english
    assert "Nearly the same" in english and "거의" not in english


def test_a_group_decision_without_javascript(site: Site, client: httpx.Client) -> None:
    _base, world, copies = site
    html = client.get(f"/worker/review?case={world.case_a}").text
    form = _group(html, f"{world.case_a}-{copies.photo_1}")
    ids = re.findall(r'name="sighting" value="(\d+)"', form)
    data = {"csrf_token": _token(html), "case": str(world.case_a), "decision": "reject"}
    refused = client.post(
        "/worker/review/decisions", data={**data, "csrf_token": "x" * 43, "sighting": ids}
    )
    assert refused.status_code == 403
    assert _states(world, copies.copies) == [ReviewState.PENDING] * 5
    done = client.post("/worker/review/decisions", data={**data, "sighting": ids})
    assert done.status_code == 303
    assert done.headers["location"].startswith(f"/worker/review?case={world.case_a}&saved_count=5")
    assert _states(world, copies.copies) == [ReviewState.REJECTED] * 5
    after = client.get(done.headers["location"]).text
    assert "발견 5건의 판단을 저장했어요." in after
    assert 'name="sighting"' not in _group(after, f"{world.case_a}-{copies.photo_1}")


def test_a_group_decision_is_all_or_none(site: Site, client: httpx.Client) -> None:
    _base, world, copies = site
    token = _token(client.get("/worker/review").text)
    ids = [*copies.copies, world.sighting_b]  # the last is the Busan center's
    data = {"csrf_token": token, "decision": "confirm", "sighting": [str(i) for i in ids]}
    assert client.post("/worker/review/decisions", data=data).status_code == 404
    assert _states(world, copies.copies) == [ReviewState.PENDING] * 5


def test_the_script_gets_json_for_the_same_forms(site: Site, client: httpx.Client) -> None:
    _base, world, copies = site
    token = _token(client.get("/worker/review?lang=en").text)
    json_accept = {"Accept": "application/json"}
    single = client.post(
        f"/worker/sightings/{copies.other}/decision",
        data={"csrf_token": token, "decision": "second_look"},
        headers=json_accept,
    )
    assert single.status_code == 200 and single.headers["cache-control"] == "no-store"
    assert single.json() == {
        "ok": True,
        "sightings": [copies.other],
        "state": "second_look",
        "state_label": "Needs a second look",
        "reviewed_by": "mina",
        "message": f"Your decision on sighting {copies.other} is saved.",
    }
    data = {"csrf_token": token, "decision": "confirm", "sighting": [str(i) for i in copies.copies]}
    bulk = client.post("/worker/review/decisions", data=data, headers=json_accept).json()
    assert bulk["sightings"] == copies.copies and bulk["state"] == "confirmed"
    assert bulk["message"] == "Your decision on 5 sightings is saved."
    assert _states(world, [*copies.copies, copies.other]) == [ReviewState.CONFIRMED] * 5 + [
        ReviewState.SECOND_LOOK
    ]


def test_preview_levels_per_card(site: Site, client: httpx.Client) -> None:
    _base, world, copies = site
    sid = copies.copies[0]
    html = client.get(f"/worker/review?case={world.case_a}&card={sid}&level=outline").text
    card = re.search(rf'<li class="card[^"]*" id="sighting-{sid}".*?</li>', html, re.S)
    assert card
    evidence = re.search(r'data-evidence="(\d+)"', card.group(0))
    assert evidence
    src = f"/worker/evidence/{evidence.group(1)}/preview.png"
    assert f'src="{src}?level=outline"' in card.group(0)
    assert "윤곽선 미리보기 (원본 아님)" in card.group(0)
    assert 'data-level="outline" data-caption' in card.group(0)
    assert card.group(0).count('aria-current="true"') == 1
    other = re.search(rf'id="sighting-{copies.copies[1]}".*?</li>', html, re.S)
    assert other and re.search(r'<img src="/worker/evidence/\d+/preview\.png"', other.group(0))
    for level in ("blur", "colour", "outline"):
        png = client.get(src, params={"level": level})
        assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
        assert png.headers["cache-control"] == "no-store"
    assert client.get(src, params={"level": "original"}).status_code == 422
