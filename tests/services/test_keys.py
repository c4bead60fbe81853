"""Case secrets: an alphabet without look-alikes, forgiving input, legacy secrets still open."""

from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import update

from stopspread.errors import ForbiddenError
from stopspread.services import cases
from stopspread.services.context import Services
from stopspread.services.keys import (
    CASE_SECRET_ALPHABET,
    CASE_SECRET_BYTES,
    SecretHasher,
    new_case_code,
    new_case_secret,
    normalise_case_code,
    normalise_case_secret,
    secret_candidates,
)
from stopspread.services.signal_input import parse_signal
from stopspread.storage.models import Case

LOOK_ALIKES = "ILOUilou_"  # read as 1, 1, 0, V…; `_` vanishes in underlined links


def test_alphabet_has_no_look_alikes() -> None:
    assert len(CASE_SECRET_ALPHABET) == len(set(CASE_SECRET_ALPHABET)) == 32
    assert not set(LOOK_ALIKES) & set(CASE_SECRET_ALPHABET)


def test_new_secret_is_grouped_and_drawn_from_the_alphabet() -> None:
    made = {new_case_secret() for _ in range(200)}
    assert len(made) == 200
    for secret in made:
        assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){6}", secret)
        assert set(secret.replace("-", "")) <= set(CASE_SECRET_ALPHABET)
    assert set("".join(made).replace("-", "")) == set(CASE_SECRET_ALPHABET)  # all used


def test_input_is_normalised() -> None:
    secret = new_case_secret()
    canonical = secret.replace("-", "")
    typed = [
        secret,
        secret.lower(),
        f"  {secret}\n",
        secret.replace("-", " "),
        canonical,
        " ".join(canonical[i : i + 2] for i in range(0, len(canonical), 2)),
    ]
    for text in typed:
        assert normalise_case_secret(text) == canonical
    assert normalise_case_secret("0000-1111-2222-3333-4444-5555-6666") == "0" * 4 + "1" * 4 + (
        "2222333344445555" + "6666"
    )
    # look-alikes typed by mistake read as Crockford reads them
    assert normalise_case_secret("OOOO-IIII-llll-2222-3333-4444-5555") == (
        "000011111111" + "2222333344445555"
    )
    assert normalise_case_secret("ABCD") is None  # too short
    assert normalise_case_secret("UUUU-UUUU-UUUU-UUUU-UUUU-UUUU-UUUU") is None  # U is not used


def test_candidates_keep_legacy_secrets_as_typed() -> None:
    legacy = secrets.token_urlsafe(CASE_SECRET_BYTES)
    assert secret_candidates(f" {legacy} ")[-1] == legacy  # case and `_`/`-` kept
    assert len(secret_candidates(new_case_secret())) == 1
    assert secret_candidates("nonsense") == ()


def test_hasher_verifies_both_formats() -> None:
    hasher = SecretHasher(time_cost=1, memory_kib=1024)
    secret = new_case_secret()
    stored = hasher.hash_case_secret(secret)
    assert hasher.verify_case_secret(stored, secret.lower().replace("-", " "))
    assert not hasher.verify_case_secret(stored, new_case_secret())
    legacy = "aB_-" * 8  # the old token_urlsafe shape: case-sensitive, `_` and `-`
    old = hasher.hash(legacy)  # how secrets were stored before issue 16
    assert hasher.verify_case_secret(old, legacy)
    assert hasher.verify_case_secret(old, f"  {legacy}\n")
    assert not hasher.verify_case_secret(old, legacy.upper())
    assert not hasher.verify_case_secret(None, legacy)  # unknown code: the dummy hash
    with pytest.raises(ValueError, match="current format"):
        hasher.hash_case_secret(legacy)


def test_a_stored_legacy_secret_still_opens_its_case(services: Services) -> None:
    new = cases.create_case(services, [parse_signal("md5", "2" * 32)])
    legacy = secrets.token_urlsafe(CASE_SECRET_BYTES)
    with services.db.write() as (session, _head):  # a case enrolled before issue 16
        stored = services.hasher.hash(legacy)
        session.execute(update(Case).where(Case.code == new.code).values(secret_hash=stored))
    assert cases.authenticate(services, new.code, legacy, "a") > 0
    with pytest.raises(ForbiddenError):
        cases.authenticate(services, new.code, new.secret, "a")


def test_new_secret_opens_its_case_however_typed(services: Services) -> None:
    new = cases.create_case(services, [parse_signal("md5", "3" * 32)])
    case_id = cases.authenticate(services, new.code, new.secret, "a")
    typed = new.secret.lower().replace("-", " ")
    assert cases.authenticate(services, new.code.lower(), typed, "a") == case_id


def test_case_code_input_is_normalised_too() -> None:
    code = new_case_code()
    for typed in (code, code.lower(), code.replace("-", ""), code.replace("-", " "), f" {code}\n"):
        assert normalise_case_code(typed) == code
