"""The index cloak (issue 18): Hamming distance kept exactly, MD5 keyed, keys told apart."""

from __future__ import annotations

import numpy as np
import pytest

from stopspread.hashing.pdq import PdqHash
from stopspread.matching.cloak import IndexCloak


def test_pdq_distances_are_kept_and_values_hidden() -> None:
    rng = np.random.default_rng(5)
    cloak = IndexCloak(bytes(range(32)))
    values = [rng.bytes(32).hex() for _ in range(50)]
    cloaked = [cloak.value("pdq", v) for v in values]
    for a, b, ca, cb in zip(values, values[1:], cloaked, cloaked[1:], strict=False):
        assert PdqHash.from_hex(a).distance(PdqHash.from_hex(b)) == PdqHash.from_hex(ca).distance(
            PdqHash.from_hex(cb)
        )
    assert not set(values) & set(cloaked)
    assert [cloak.value("pdq", c) for c in cloaked] == values  # XOR: its own inverse
    rows = cloak.rows("pdq", list(enumerate(values)))
    assert rows == list(enumerate(cloaked))  # the vectorised path gives the same


def test_md5_is_keyed_and_keys_differ() -> None:
    one, two = IndexCloak(b"\x01" * 32), IndexCloak(b"\x02" * 32)
    digest = "0123456789abcdef" * 2
    assert one.value("md5", digest) == one.value("md5", digest) != digest
    assert len(one.value("md5", digest)) == 32 and one.value("md5", digest) != two.value(
        "md5", digest
    )
    assert one.fingerprint != two.fingerprint
    assert one.value("pdq", "00" * 32) != two.value("pdq", "00" * 32)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        IndexCloak(b"short")
