"""schemathesis over the whole API (tests/web/api_fuzz.py), every role, a short run (CI).

``make soak`` runs the same for SOAK_SCALE x 30 minutes (tests/soak/test_api_soak.py).
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import fast_settings
from tests.web.api_fuzz import Role, fuzz_api, schemathesis_settings


def test_no_server_error_and_no_operation_without_its_credentials(
    sqlite_url: str, tmp_path: Path
) -> None:
    report = fuzz_api(schemathesis_settings(fast_settings(sqlite_url, tmp_path)), examples=20)
    assert report.server_errors == []
    assert report.reachable_without_auth == []
    assert len(report.operations) >= 16  # the whole document, not a part of it
    for role in Role:  # each role got through to some operation: the credentials work
        assert report.statuses[(role.value, "2xx")] > 0
    survivor_ok = {
        label
        for (role, label, status), _n in report.by_operation.items()
        if role == "survivor" and 200 <= status < 300
    }
    assert "GET /v1/cases/{code}" in survivor_ok
