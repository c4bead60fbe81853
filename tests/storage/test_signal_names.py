"""The database's signal type names are exactly the registry's (``matching.signal_types``)."""

from __future__ import annotations

from stopspread.matching.signal_types import SIGNAL_TYPES
from stopspread.storage.models import SignalType


def test_every_stored_signal_type_has_a_class_and_back() -> None:
    assert {t.value for t in SignalType} == set(SIGNAL_TYPES)
