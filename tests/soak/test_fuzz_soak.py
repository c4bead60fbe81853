"""Long fuzz runs: 100,000 inputs per parser, 1,000 malformed videos (times SOAK_SCALE).

Each prints its figures: inputs, how many the parser accepted, and every crash (an
exception other than the parser's typed errors) with the start of its input.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.harnesses import HARNESSES, run_fuzz
from tests.fuzz.videos import fuzz_videos
from tests.soak.conftest import scaled

pytestmark = pytest.mark.soak


@pytest.mark.parametrize("name", sorted(HARNESSES))
def test_fuzz_parser(name: str) -> None:
    report = run_fuzz(HARNESSES[name], scaled(100_000), seed=18)
    print(
        f"\nfuzz {name}: {report.inputs:,} inputs, {report.results:,} accepted, "
        f"{len(report.crashes)} crashes"
    )
    for data, error in report.crashes[:10]:
        print(f"  crash {error} on {data[:80]!r}")
    assert report.crashes == []


def test_malformed_videos(tmp_path: Path) -> None:
    report = fuzz_videos(scaled(1_000), tmp_path, seed=18)
    print(
        f"\nmalformed videos: {report.inputs:,} inputs, {report.hashed:,} hashed, "
        f"refused {dict(report.refused)}, {len(report.crashes)} crashes in the parent"
    )
    for data, error in report.crashes[:10]:
        print(f"  crash {error} on {data[:80]!r}")
    assert report.crashes == []
