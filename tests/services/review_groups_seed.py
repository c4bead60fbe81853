"""Five edited copies of one enrolled photo, and one of another, on top of ``review_seed``.

Case A gets two more PDQ signals (her photos 1 and 2 of that kind: the seed's only other
signal is an MD5) and six sightings that point at them, with distances across every
closeness range. Synthetic only: the sightings reuse the seed's generated image as evidence.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select

from stopspread.services import cases
from stopspread.services.signal_input import parse_signal
from stopspread.storage.models import Bank, Signal, SignalType
from stopspread.storage.models_scan import MatchKind, Sighting
from tests.services.review_seed import SITE, World, _sighting

__all__ = ["COPY_DISTANCES", "Copies", "add_copies"]

COPY_DISTANCES = (2, 6, 12, 20, 27)  # photo 1's copies: nearly the same … similar


@dataclass
class Copies:
    photo_1: int  # signal id of her first PDQ photo
    photo_2: int
    copies: list[int]  # sightings of photo 1, in COPY_DISTANCES order
    other: int  # the one sighting of photo 2


def add_copies(world: World) -> Copies:
    svc = world.svc
    values = [hashlib.sha256(f"photo-{n}".encode()).hexdigest() for n in (1, 2)]
    cases.add_signals(svc, world.case_a, [parse_signal("pdq", v, 90) for v in values])
    with svc.db.read() as session:
        bank = select(Bank.id).where(Bank.case_id == world.case_a)
        query = select(Signal.id).where(Signal.bank_id.in_(bank), Signal.type == SignalType.PDQ)
        photo_1, photo_2 = session.scalars(query.order_by(Signal.id)).all()
        evidence = session.get(Sighting, world.sightings_a[0])
        assert evidence is not None
        pair = (evidence.media_evidence_id, evidence.page_evidence_id or 0)
    rows = [
        _sighting(
            world.case_a,
            f"{SITE}/m/copy-{n}.jpg",
            pair,
            MatchKind.IMAGE,
            distance=d,
            signal_id=photo_1,
        )
        for n, d in enumerate(COPY_DISTANCES)
    ]
    rows.append(
        _sighting(
            world.case_a,
            f"{SITE}/m/other.jpg",
            pair,
            MatchKind.IMAGE,
            distance=4,
            signal_id=photo_2,
        )
    )
    with svc.db.write() as (session, _head):
        session.add_all(rows)
        session.flush()
        ids = [r.id for r in rows]
    return Copies(photo_1, photo_2, ids[:5], ids[5])
