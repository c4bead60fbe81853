"""Finding 9: enrolment was unlimited (one anonymous client added 105,000 hashes in 20 s).

Against a real server: signals counted per address and overall, 429 with Retry-After past
them, nothing stored; bulk enrolment flagged for review in the audit log.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from stopspread.errors import RateLimitedError
from stopspread.services.enrolment import EnrolmentLimits
from stopspread.storage import Database
from stopspread.storage.models import AuditEvent, Signal
from tests.conftest import fast_settings, random_pdq
from tests.web.support import api_client


def _signals(rng: np.random.Generator, n: int) -> dict[str, object]:
    return {"signals": [{"type": "pdq", "value": random_pdq(rng)} for _ in range(n)]}


def test_one_address_cannot_enrol_without_limit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    settings = fast_settings(
        url,
        tmp_path,
        max_signals_per_request=100,
        enrol_signals_per_address_per_hour=300.0,
        enrol_flag_signals=250.0,
    )
    rng = np.random.default_rng(9)
    with api_client(settings) as client:
        answers = [client.post("/v1/cases", json=_signals(rng, 100)) for _ in range(5)]
        assert [a.status_code for a in answers] == [201, 201, 201, 429, 429]
        assert int(answers[3].headers["Retry-After"]) >= 1
        assert answers[3].json()["error"] == "too many hashes enrolled from this address"
        secret = {"X-Case-Secret": answers[0].json()["secret"]}
        more = client.post(
            f"/v1/cases/{answers[0].json()['case_code']}/signals",
            json=_signals(rng, 1),
            headers=secret,
        )
        assert more.status_code == 429
    db = Database(url)
    with db.read() as session:
        stored = session.scalar(select(func.count()).select_from(Signal))
        kinds = list(session.scalars(select(AuditEvent.kind).order_by(AuditEvent.seq)))
    db.dispose()
    assert stored == 300  # nothing of the refused requests was stored
    assert kinds.count("enrolment_flagged") == 1  # the third reached 300 >= 250: for review


def test_the_overall_limit_holds_across_addresses() -> None:
    now = [0.0]
    limits = EnrolmentLimits(1000.0, 1500.0, 900.0, clock=lambda: now[0])
    assert limits.take("10.0.0.1", 1000) is True  # at 1000 >= 900: bulk, flagged
    assert limits.take("10.0.0.2", 500) is False
    with pytest.raises(RateLimitedError) as refused:
        limits.take("10.0.0.3", 1)  # a fresh address, but everyone together is at the limit
    assert refused.value.retry_after == pytest.approx(3600 / 1500)
    now[0] += 3600.0  # an hour later both refill
    assert limits.take("10.0.0.3", 500) is False
