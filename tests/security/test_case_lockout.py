"""Finding 5: anyone with a case code could lock the survivor out of her own withdrawal, and
the 429 that did it also told them the code exists (unknown codes never got one).

Against a real server: others' wrong guesses never stop the right secret; a real code and
an unknown one answer the same statuses and bodies.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from stopspread.config import Settings
from stopspread.services.keys import new_case_code
from tests.conftest import fast_settings
from tests.web.support import api_client

ONE_SIGNAL = {"signals": [{"type": "md5", "value": "e" * 32}]}


def _settings(tmp_path: Path) -> Settings:
    # the attacker is on another address: the per-address limit is out of this test's way
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    limits = {"case_attempts_per_minute": 5.0, "address_attempts_per_minute": 1e6}
    return fast_settings(url, tmp_path, **limits)


def _answers(client: httpx.Client, code: str, tries: int) -> list[tuple[int, dict[str, object]]]:
    seen = []
    for i in range(tries):
        answer = client.get(f"/v1/cases/{code}", headers={"X-Case-Secret": f"guess-{i}"})
        seen.append((answer.status_code, answer.json()))
    return seen


def test_wrong_guesses_never_stop_the_right_secret(tmp_path: Path) -> None:
    with api_client(_settings(tmp_path)) as client:
        new = client.post("/v1/cases", json=ONE_SIGNAL).json()
        code, mine = new["case_code"], {"X-Case-Secret": new["secret"]}
        ok = 0
        for _round in range(20):  # one wrong guess before each of her tries, as in the finding
            _answers(client, code, 1)
            ok += client.get(f"/v1/cases/{code}", headers=mine).status_code == 200
        assert ok == 20
        assert {s for s, _ in _answers(client, code, 10)} == {429}  # guessing is still slowed
        withdrawn = client.post(f"/v1/cases/{code}/withdraw", headers=mine)
        assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn"] == 1


def test_a_real_code_and_an_unknown_one_answer_alike(tmp_path: Path) -> None:
    with api_client(_settings(tmp_path)) as client:
        real = client.post("/v1/cases", json=ONE_SIGNAL).json()["case_code"]
        real_answers = _answers(client, real, 9)
        unknown_answers = _answers(client, new_case_code(), 9)
    assert real_answers == unknown_answers
    assert [s for s, _ in real_answers] == [403] * 5 + [429] * 4
