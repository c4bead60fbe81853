"""One match policy (issue 14): built once from the settings, used by the platform API, folder
scans, the video rule of scans and the follow-up of takedown requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from stopspread.config import Settings
from stopspread.hashing import FrameHash, PdqHash, hash_image, query_hashes
from stopspread.matching.policy import DEFAULT_POLICY, KindRule
from stopspread.matching.signal_types import MD5, PDQ
from stopspread.services.cases import create_case
from stopspread.services.context import Services
from stopspread.services.match_policy import build_policy
from stopspread.services.removal import rechecks
from stopspread.services.scans import queue as scans
from stopspread.services.scans.matcher import CaseMatcher, EnrolledSignal
from stopspread.services.scans.queue import ScanDeps, case_id_for_code
from stopspread.services.signal_input import SignalIn, SignalType
from stopspread.storage.models import Signal
from stopspread.storage.models_scan import ScanStatus, SourceKind
from tests.conftest import make_services
from tests.scankit import shapes
from tests.web.support import api_client, auth, new_client_key

# The changed settings: a stricter image radius and video frame radii than the defaults.
STRICT: dict[str, Any] = {
    "match_radius": 20,
    "video_frame_radius": 20,
    "video_sequence_radius": 20,
}
EDIT_BITS = 25  # enrolled hashes sit this far from the copy: within 29 and 31 bits, not 20
IMAGE_SEED = 11


def test_the_defaults_are_the_measured_rule_and_settings_build_the_policy() -> None:
    assert build_policy(Settings()) == DEFAULT_POLICY
    assert DEFAULT_POLICY.pdq == KindRule(29, 70, 50)
    assert (DEFAULT_POLICY.video.frame_distance, DEFAULT_POLICY.video.query_percent) == (31, 80.0)
    assert (DEFAULT_POLICY.video.sequence_distance, DEFAULT_POLICY.video.min_sequence_frames) == (
        48,
        3,
    )
    policy = build_policy(
        Settings(
            match_radius=24,
            match_min_enrolled_quality=80,
            match_min_query_quality=60,
            video_frame_radius=12,
            video_match_percent=90.0,
            video_sequence_radius=40,
            video_sequence_frames=5,
        )
    )
    assert policy.pdq == KindRule(24, 80, 60)
    assert (policy.video.frame_distance, policy.video.query_percent) == (12, 90.0)
    assert (policy.video.sequence_distance, policy.video.min_sequence_frames) == (40, 5)
    assert policy.is_match(PDQ, 24) and not policy.is_match(PDQ, 25)
    assert policy.is_match(MD5, 0) and not policy.is_match(MD5, 1)
    assert policy.pdq.enrolled_ok(None) and not policy.pdq.enrolled_ok(79)
    assert policy.pdq.query_ok(60) and not policy.pdq.query_ok(59)


def _flip(hex_value: str, bits: int, rng: np.random.Generator) -> str:
    value = bytearray(bytes.fromhex(hex_value))
    for bit in rng.choice(256, bits, replace=False):
        value[int(bit) // 8] ^= 1 << (int(bit) % 8)
    return value.hex()


def _enrolled_near(body: bytes) -> str:
    """A hash ``EDIT_BITS`` from the copy's plain PDQ and more than 20 bits from every one
    of its query hashes (checked: the scan compares them all)."""
    plain = hash_image(body).pdq
    query = [h.hash for h in query_hashes(body)]
    rng = np.random.default_rng(3)
    enrolled = _flip(plain.hex, EDIT_BITS, rng)
    nearest = min(PdqHash.from_hex(enrolled).distance(q) for q in query)
    assert plain.distance(PdqHash.from_hex(enrolled)) == EDIT_BITS
    assert 20 < nearest <= 29, nearest
    return enrolled


def _platform_matches(svc: Services, body: bytes) -> tuple[bool, bool]:
    """The platform API's answers (plain PDQ, then the ss-img-1 signal set) for the copy."""
    settings = svc.settings
    key = new_client_key(settings)
    signal_set = {
        "signal_set": "ss-img-1",
        "query": [{"value": h.hash.hex, "quality": h.quality} for h in query_hashes(body)],
    }
    plain = hash_image(body)
    single = {"type": "pdq", "value": plain.pdq.hex, "quality": plain.quality}
    with api_client(settings) as client:
        answers = [
            client.post("/v1/match", json=b, headers=auth(key)).json()["match"]
            for b in (single, signal_set)
        ]
    return answers[0], answers[1]


def _folder_scan_hits(svc: Services, case_id: int, body: bytes, folder: Path) -> int:
    folder.mkdir()
    (folder / "copy.jpg").write_bytes(body)
    deps = ScanDeps.build(svc.settings, svc.db)
    source = scans.add_source(
        svc.db, case_id, SourceKind.FOLDER, {"path": str(folder)}, created_by="t"
    )
    view = scans.run_scan(deps, scans.queue_scan(deps.db, source, trigger="test"))
    assert view.status is ScanStatus.DONE, view.last_error
    return view.counts["new_sightings"]


def _video_hit(svc: Services) -> bool:
    """The scans' video rule (the policy a scan takes from its deps) on 5 frames, each 25
    bits from an enrolled frame."""
    rng = np.random.default_rng(4)
    bases = [rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex() for _ in range(5)]
    enrolled = [EnrolledSignal(i, "pdq", _flip(b, EDIT_BITS, rng), 90) for i, b in enumerate(bases)]
    matcher = CaseMatcher(enrolled, policy=ScanDeps.build(svc.settings, svc.db).policy)
    frames = [FrameHash(i, 90, PdqHash.from_hex(b), float(i)) for i, b in enumerate(bases)]
    hit, _matched = matcher._video_rule(frames)
    return hit is not None


@pytest.mark.parametrize("changes", [{}, STRICT], ids=["defaults", "strict"])
def test_a_changed_setting_moves_every_path(
    sqlite_url: str, tmp_path: Path, changes: dict[str, Any]
) -> None:
    svc = make_services(sqlite_url, tmp_path, **changes)
    expected = not changes  # the defaults match everything 25 bits away; 20 bits nothing
    body = shapes(IMAGE_SEED)
    enrolled = _enrolled_near(body)
    new = create_case(svc, [SignalIn(SignalType.PDQ, enrolled, 90)])
    case_id = case_id_for_code(svc.db, new.code)
    assert svc.policy == build_policy(svc.settings)
    assert _platform_matches(svc, body) == (expected, expected)
    assert _folder_scan_hits(svc, case_id, body, tmp_path / "downloads") == int(expected)
    assert _video_hit(svc) is expected
    with svc.db.read() as session:
        signal_id = session.scalars(select(Signal.id)).one()
    follow_up = rechecks._matcher(svc, signal_id)  # the enrolled signal a sighting names
    assert follow_up is not None and follow_up(body) is expected
    svc.db.dispose()


def test_the_platform_applies_both_quality_floors(sqlite_url: str, tmp_path: Path) -> None:
    svc = make_services(sqlite_url, tmp_path)
    rng = np.random.default_rng(9)
    low, good = (rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex() for _ in range(2))
    create_case(svc, [SignalIn(SignalType.PDQ, low, 69), SignalIn(SignalType.PDQ, good, 70)])
    key = new_client_key(svc.settings)
    with api_client(svc.settings) as client:

        def match(body: dict[str, Any]) -> bool:
            answer = client.post("/v1/match", json=body, headers=auth(key))
            assert answer.status_code == 200, answer.text
            return bool(answer.json()["match"])

        assert not match({"type": "pdq", "value": low})  # enrolled under 70: never matches
        assert match({"type": "pdq", "value": good})  # no quality sent: looked up
        assert match({"type": "pdq", "value": good, "quality": 50})
        assert not match({"type": "pdq", "value": good, "quality": 49})  # query under 50
    svc.db.dispose()
