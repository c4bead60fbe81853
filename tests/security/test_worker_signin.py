"""Finding 11 (sign-in): worker names could be enumerated (only real names ever got the lock)
and anyone could lock a worker out with 5 requests.

Against a real server behind a configured proxy (so requests can come from several client
addresses): a guesser is slowed with growing waits; the worker, from her own address,
still signs in; a real name and an unknown one answer alike.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from stopspread.services.workers import accounts
from stopspread.storage.models_worker import WorkerRole
from tests.conftest import fast_settings, make_services
from tests.security.support import served

PASSWORD = "correct horse battery"
ATTACKER, HERS = "203.0.113.9", "198.51.100.7"


def _try(client: httpx.Client, name: str, password: str, address: str) -> int:
    form = client.get("/worker/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    data = {"username": name, "password": password, "csrf_token": token.group(1)}
    answer = client.post("/worker/login", data=data, headers={"X-Forwarded-For": address})
    return answer.status_code


def test_guessing_never_locks_the_worker_out_and_names_answer_alike(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    svc = make_services(url, tmp_path)
    accounts.create_center(svc, "Seoul Center")
    accounts.create_worker(svc, "Seoul Center", "mina", PASSWORD, WorkerRole.WORKER)
    svc.db.dispose()
    settings = fast_settings(url, tmp_path, forwarded_allow_ips="127.0.0.1")
    with served(settings) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
        real = [_try(client, "mina", "wrong password!", ATTACKER) for _ in range(8)]
        unknown = [_try(client, "nobody", "wrong password!", ATTACKER) for _ in range(8)]
        assert real == unknown  # nothing tells which name exists
        assert real == [401] * 6 + [429] * 2  # the 6th wrong one starts a 5 s wait
        assert _try(client, "mina", PASSWORD, HERS) == 303  # she is not locked out
