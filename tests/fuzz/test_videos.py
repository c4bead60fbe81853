"""Twenty malformed videos through the sandboxed decoder (CI); ``make soak`` runs 1,000."""

from __future__ import annotations

from pathlib import Path

from tests.fuzz.videos import fuzz_videos


def test_malformed_videos_end_in_a_result_or_a_typed_error(tmp_path: Path) -> None:
    report = fuzz_videos(20, tmp_path, seed=18)
    assert report.crashes == []
    assert report.inputs == report.hashed + sum(report.refused.values()) == 20
