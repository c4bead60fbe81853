"""A sighting found by shape points (``ss-kp-1``, issue 14) on the review page: it waits for
a person like every match, and the card says in plain words, Korean first, that it was found
by shape points and is less certain than a fingerprint match."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from stopspread.storage.models_scan import MatchKind, Sighting
from tests.conftest import fast_settings, make_services
from tests.services.review_seed import SITE, World, _sighting, build_world
from tests.web.support import live_server
from tests.web.test_worker_pages import login


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World, int]]:
    tmp = tmp_path_factory.mktemp("shape-points")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    svc = make_services(url, tmp)
    world = build_world(svc, tmp)
    with svc.db.write() as (session, _head):
        first = session.get(Sighting, world.sightings_a[0])
        assert first is not None
        evidence = (first.media_evidence_id, first.page_evidence_id or 0)
        row = _sighting(
            world.case_a, f"{SITE}/m/cropped.jpg", evidence, MatchKind.IMAGE,
            signal_type="ss-kp-1", distance=42, media_sha256="1" * 64,
        )  # fmt: skip
        session.add(row)
        session.flush()
        found = row.id
    with live_server(fast_settings(url, tmp)) as base_url:
        yield base_url, world, found
    svc.db.dispose()


def _card(html: str, sighting: int) -> str:
    start = html.index(f'id="sighting-{sighting}"')
    return html[start : html.index("</article>", start)]


def test_the_card_says_shape_points_and_less_certain(site: tuple[str, World, int]) -> None:
    base, world, found = site
    with httpx.Client(base_url=base, timeout=30) as client:
        login(client, "mina")
        korean = _card(client.get(f"/worker/review?case={world.case_a}&lang=ko").text, found)
        english = _card(client.get(f"/worker/review?case={world.case_a}&lang=en").text, found)
    assert "특징점 일치 (덜 확실함)" in korean
    assert "사진의 특징점 42개가 원본 사진과 같은 자리에서 맞아요" in korean
    assert "지문(해시) 일치보다 덜 확실해요" in korean
    assert "SS-KP-1" not in korean and "비트" not in korean  # no bits: points, not a distance
    assert "Shape points match (less certain)" in english
    assert "42 shape points (keypoints) of the picture line up with her photo" in english
    assert 'value="confirm"' in korean  # a person decides, as for every match
