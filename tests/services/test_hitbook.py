"""The hit book's apply-pass read (services/hitbook.py, issue 17): the open reviews are read
again only when their fingerprint moved (or every ``FULL_EVERY_S``), and a hit, a release or
a decision made through another process's services is still seen on the next pass."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from operator import getitem
from typing import Any

import numpy as np
from sqlalchemy import Engine, event

from stopspread.services import cases, platform
from stopspread.services.context import Services
from stopspread.services.hitbook import FULL_EVERY_S, HitBook
from stopspread.services.signal_input import parse_signal
from stopspread.storage.models import ReviewStatus
from tests.conftest import flip_bits, random_pdq


@contextmanager
def _statements() -> Iterator[list[str]]:
    """Every statement any engine runs meanwhile (the reader is not ``db.engine``)."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def _refresh(svc: Services, book: HitBook) -> int:
    with _statements() as seen, svc.db.read() as session:
        book.refresh(session)
    return len([s for s in seen if s.lstrip().upper().startswith("SELECT")])


def test_a_pass_reads_the_reviews_only_when_they_moved(services: Services) -> None:
    rng = np.random.default_rng(5)
    value = random_pdq(rng)
    cases.create_case(services, [parse_signal("pdq", value)])
    services.replica.sync()
    client, _key = platform.create_client(services.db, "p")
    now = [0.0]
    book = HitBook(100, 3600, clock=partial(getitem, now, 0))
    full = _refresh(services, book)  # the first pass reads everything
    assert _refresh(services, book) == 2  # nothing moved: quarantines and the fingerprint
    near = parse_signal("pdq", flip_bits(value, 10, rng))
    hit = platform.match(services, client, near)  # written as another process would
    assert hit.match and hit.ref
    assert _refresh(services, book) == full  # a new open review: read in full
    pair = next(iter(book._tallies))
    assert book._tallies[pair].hits == 1
    platform.match(services, client, near)  # one more hit on the same review
    assert _refresh(services, book) == full
    assert book._tallies[pair].hits == 2
    assert _refresh(services, book) == 2
    now[0] += FULL_EVERY_S  # unmoved, but due: read in full anyway
    assert _refresh(services, book) == full
    platform.feedback(services, client, hit.ref, ReviewStatus.NOT_NCII)
    assert _refresh(services, book) == full  # the verdict touched the review
    assert book._tallies[pair].hits == 2  # and left it open
    assert _refresh(services, book) == 2
