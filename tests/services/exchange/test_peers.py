"""Two StopSpread servers on loopback: B pulls A's feed, matches it, sends verdicts back,
and drops what A's survivor withdrew; pulls page, retry with backoff and resume."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from stopspread.services.context import Services
from stopspread.services.exchange import feed
from stopspread.services.exchange.peers import (
    MAX_ATTEMPTS,
    PeerError,
    add_peer,
    pull,
)
from stopspread.storage import Database
from stopspread.storage.models import Bank, Signal
from stopspread.storage.models_exchange import ExchangePeer
from tests.conftest import fast_settings, flip_bits, make_services, random_pdq
from tests.web.support import auth, live_server, new_client_key


class Flaky(httpx.BaseTransport):
    """A real HTTP transport that fails the requests numbered in ``fail`` (1-based)."""

    def __init__(self, fail: set[int]) -> None:
        self._inner, self._fail, self.count = httpx.HTTPTransport(), fail, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        if self.count in self._fail:
            raise httpx.ConnectError("injected", request=request)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def _eventually(http: httpx.Client, key: str, value: str, expected: bool) -> bool:
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        body = http.post("/v1/match", json={"type": "pdq", "value": value}, headers=auth(key))
        if body.json()["match"] is expected:
            return True
        time.sleep(0.02)
    return False


def _bank_values(svc: Services, name: str) -> set[str]:
    with svc.db.read() as session:
        bank = session.scalar(select(ExchangePeer.bank_id).where(ExchangePeer.name == name))
        return set(session.scalars(select(Signal.value).where(Signal.bank_id == bank)))


@pytest.fixture
def second_url(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second empty database of the same kind as ``database_url`` (the other center's)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'b.db'}"
        return
    cluster = request.getfixturevalue("pg_cluster")
    url = cluster.new_database()
    yield url
    cluster.drop_database(url)


def test_two_centers_exchange_a_bank_feedback_and_a_withdrawal(
    database_url: str, second_url: str, tmp_path: Path
) -> None:
    settings_a = fast_settings(database_url, tmp_path / "a")
    settings_b = fast_settings(second_url, tmp_path / "b")
    key_for_b = new_client_key(settings_a, "center-b")
    db_a = Database(settings_a.url)
    feed.allow(db_a, "center-b")
    db_a.dispose()
    platform_key = new_client_key(settings_b, "shop")
    rng = np.random.default_rng(51)
    values = [random_pdq(rng) for _ in range(3)]
    svc_b = make_services(settings_b.url, tmp_path / "b")
    with (
        live_server(settings_a) as url_a,
        live_server(settings_b) as url_b,
        httpx.Client(base_url=url_a) as http_a,
        httpx.Client(base_url=url_b) as http_b,
    ):
        made = http_a.post(
            "/v1/cases",
            json={"signals": [{"type": "pdq", "value": v, "quality": 90} for v in values]},
        ).json()
        add_peer(svc_b, "center-a", url_a, key_for_b)
        sleeps: list[float] = []
        flaky = Flaky({2, 3})  # the second page fails twice, then comes
        report = pull(svc_b, "center-a", page_size=2, transport=flaky, sleep=sleeps.append)
        assert (report.pages, report.added, report.retries) == (2, 3, 2)
        assert sleeps == [0.5, 1.0]  # exponential backoff
        assert _bank_values(svc_b, "center-a") == set(values)
        with svc_b.db.read() as session:
            names = set(session.scalars(select(Bank.name)))
        assert "exchange:center-a" in names  # where the hashes came from
        # B's platforms match A's survivor's hashes; their verdict goes back to A
        near = flip_bits(values[0], 10, rng)
        assert _eventually(http_b, platform_key, near, True)
        hit = http_b.post(
            "/v1/match", json={"type": "pdq", "value": near}, headers=auth(platform_key)
        )
        verdict = {"ref": hit.json()["ref"], "verdict": "confirmed"}
        assert (
            http_b.post("/v1/feedback", json=verdict, headers=auth(platform_key)).status_code == 200
        )
        again = pull(svc_b, "center-a")
        assert (again.added, again.removed, again.feedback_sent) == (0, 0, 1)
        secret = {"X-Case-Secret": made["secret"]}
        status = http_a.get(f"/v1/cases/{made['case_code']}", headers=secret).json()
        assert status["feedback_confirmed"] == 1
        # A's survivor withdraws: B drops her hashes at its next pull
        time.sleep(1.1)
        http_a.post(f"/v1/cases/{made['case_code']}/withdraw", headers=secret)
        gone = pull(svc_b, "center-a")
        assert gone.removed == 3 and _bank_values(svc_b, "center-a") == set()
        assert _eventually(http_b, platform_key, near, False)
        assert made["case_code"] not in str(_bank_values(svc_b, "center-a"))
    svc_b.db.dispose()


def test_an_interrupted_pull_resumes_from_its_page(sqlite_url: str, tmp_path: Path) -> None:
    settings_a = fast_settings(sqlite_url, tmp_path / "a")
    key = new_client_key(settings_a, "center-b")
    db_a = Database(settings_a.url)
    feed.allow(db_a, "center-b")
    db_a.dispose()
    svc_b = make_services(f"sqlite:///{tmp_path / 'b.db'}", tmp_path / "b")
    rng = np.random.default_rng(52)
    values = [random_pdq(rng) for _ in range(5)]
    with live_server(settings_a) as url_a, httpx.Client(base_url=url_a) as http_a:
        http_a.post(
            "/v1/cases",
            json={"signals": [{"type": "pdq", "value": v, "quality": 90} for v in values]},
        )
        add_peer(svc_b, "center-a", url_a, key)
        dead = Flaky(set(range(2, 2 + MAX_ATTEMPTS)))  # page 2 never comes
        with pytest.raises(PeerError):
            pull(svc_b, "center-a", page_size=2, transport=dead, sleep=lambda _s: None)
        assert len(_bank_values(svc_b, "center-a")) == 2  # page 1 kept, with its token
        with svc_b.db.read() as session:
            peer = session.scalars(select(ExchangePeer)).one()
            assert peer.page_token and peer.last_error
        counting = Flaky(set())
        report = pull(svc_b, "center-a", page_size=2, transport=counting)
        assert report.added == 3 and counting.count == 2  # pages 2 and 3 only
        assert _bank_values(svc_b, "center-a") == set(values)
    svc_b.db.dispose()
