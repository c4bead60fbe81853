"""schemathesis over the whole API, every role, for SOAK_SCALE x 30 minutes.

New seeds round after round until the time is up; prints requests and answers by role.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import fast_settings
from tests.soak.conftest import soak_scale
from tests.web.api_fuzz import fuzz_api, schemathesis_settings

pytestmark = pytest.mark.soak


def test_api_under_schemathesis(sqlite_url: str, tmp_path: Path) -> None:
    until = time.monotonic() + soak_scale() * 30 * 60
    settings = schemathesis_settings(fast_settings(sqlite_url, tmp_path))
    report = fuzz_api(settings, examples=100, rounds_until=until)
    print(
        f"\nschemathesis: {report.requests:,} requests over {len(report.operations)} "
        f"operations x 3 roles; {dict(sorted(report.statuses.items()))}; "
        f"{len(report.server_errors)} server errors, "
        f"{len(report.reachable_without_auth)} reached without credentials"
    )
    for broken in (report.server_errors + report.reachable_without_auth)[:20]:
        print(f"  {broken}")
    assert report.server_errors == []
    assert report.reachable_without_auth == []
