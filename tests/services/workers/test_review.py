"""Review: her center's sightings only, blurred previews, logged reveals and decisions."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter
from sqlalchemy import select

from stopspread.errors import NotFoundError
from stopspread.evidence.preview import OUT_WIDTH
from stopspread.services import audit
from stopspread.services.workers import accounts, review
from stopspread.services.workers.review import Decision
from stopspread.storage.models import AuditEvent
from stopspread.storage.models_scan import ReviewState, Sighting
from tests.conftest import make_services
from tests.services.review_seed import PASSWORD, World, build_world

# every database here is used through services: a migrated copy (tests/dbtemplate.py)
pytestmark = pytest.mark.usefixtures("migrated_database")


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    svc = make_services(database_url, tmp_path)
    yield build_world(svc, tmp_path)
    svc.db.dispose()


def _who(world: World, name: str) -> accounts.WorkerIdentity:
    return accounts.login(world.svc, name, PASSWORD, "127.0.0.1").identity


def _events(world: World, kind: str) -> list[dict[str, object]]:
    with world.svc.db.read() as session:
        rows = session.scalars(select(AuditEvent.payload).where(AuditEvent.kind == kind))
        return [json.loads(p) for p in rows]


def test_each_center_sees_only_its_cases(world: World) -> None:
    mina, jiwoo = _who(world, "mina"), _who(world, "jiwoo")
    assert {c.id for c in review.list_sightings(world.svc, mina)} == set(world.sightings_a)
    assert [c.id for c in review.list_sightings(world.svc, jiwoo)] == [world.sighting_b]
    assert [c.id for c in review.list_cases(world.svc, mina)] == [world.case_a]
    (card,) = review.list_cases(world.svc, jiwoo)
    assert (card.sightings, card.pending) == (1, 1)
    with pytest.raises(NotFoundError):
        review.list_sightings(world.svc, jiwoo, case_id=world.case_a)
    with pytest.raises(NotFoundError):
        review.decide(world.svc, jiwoo, world.sightings_a[0], Decision.REJECT)
    with pytest.raises(NotFoundError):
        review.reveal(world.svc, world.store, jiwoo, world.sightings_a[0])
    evidence = review.list_sightings(world.svc, mina)[0].evidence_id
    with pytest.raises(NotFoundError):
        review.preview(world.svc, world.store, jiwoo, evidence)


def test_cards_carry_urls_times_and_the_evidence_digest(world: World) -> None:
    cards = review.list_sightings(world.svc, _who(world, "mina"), case_id=world.case_a)
    by_url = {c.media_url.rsplit("/", 1)[-1]: c for c in cards}
    image = by_url["a.jpg"]
    assert image.page_url and image.page_url.endswith("/gallery/1.html")
    assert image.captured_at == "2026-11-22T08:09:10.000000+00:00"
    assert image.captured_at_kst == "2026-11-22T17:09:10.000000+09:00"
    assert len(image.evidence_sha256) == 64 and image.distance == 6
    assert by_url["a-again.jpg"].reupload and by_url["v.mp4"].signal_type == "vpdq"


def _detail(png: bytes) -> float:
    """How much fine detail is left: mean absolute difference from a blurred copy."""
    image = Image.open(io.BytesIO(png))
    assert image.mode == "L"
    arr = np.asarray(image, dtype=np.float64)
    smooth = np.asarray(image.filter(ImageFilter.GaussianBlur(2)), dtype=np.float64)
    return float(np.abs(arr - smooth).mean())


@pytest.mark.parametrize("index", [0, 1], ids=["image", "video"])
def test_previews_are_grey_blurred_and_small_in_detail(world: World, index: int) -> None:
    mina = _who(world, "mina")
    card = next(
        c for c in review.list_sightings(world.svc, mina) if c.id == world.sightings_a[index]
    )
    png = review.preview(world.svc, world.store, mina, card.evidence_id)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width == OUT_WIDTH
    assert _detail(png) < 0.5  # the original has far more (checked below for the image)
    if index == 0:
        original = Image.open(io.BytesIO(world.image_a)).convert("L").resize(image.size)
        buf = io.BytesIO()
        original.save(buf, "PNG")
        assert _detail(buf.getvalue()) > 4 * _detail(png)
    assert not list(world.store.root.rglob("*.png"))  # nothing written to disk


def test_reveal_is_logged_and_returns_the_original(world: World) -> None:
    mina = _who(world, "mina")
    original = review.reveal(world.svc, world.store, mina, world.sightings_a[1])
    assert original.body == world.video_a and original.content_type == "video/mp4"
    (event,) = _events(world, "evidence_revealed")
    assert event == {
        "worker": mina.worker_id,
        "sighting": world.sightings_a[1],
        "evidence": original.evidence_id,
    }


def test_decisions_are_stored_and_logged(world: World) -> None:
    mina = _who(world, "mina")
    for decision, state in [
        (Decision.SECOND_LOOK, ReviewState.SECOND_LOOK),
        (Decision.REJECT, ReviewState.REJECTED),
    ]:
        review.decide(world.svc, mina, world.sightings_a[0], decision)
        with world.svc.db.read() as session:
            row = session.get(Sighting, world.sightings_a[0])
            assert row is not None and row.review_status is state and row.reviewed_by == "mina"
    assert [e["decision"] for e in _events(world, "sighting_reviewed")] == ["second_look", "reject"]
    (case,) = review.list_cases(world.svc, mina)
    assert case.pending == 2  # the rejected one no longer waits
    audit.verify(world.svc.db)
