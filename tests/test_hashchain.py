"""The one hash-chain module: the same hashes as the chains already stored, and its checks."""

from __future__ import annotations

from datetime import UTC, datetime

from stopspread.hashchain import GENESIS_HASH, Break, Head, Walk, canonical, next_link

# Computed with the code the audit and evidence logs had before they shared this module:
# existing chains must verify exactly as before.
GOLDEN = "01ec6c0c19a1e38a204a688807954560cb284b9049dea0922a62f9df19bc74d8"
AT = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
PAYLOAD = {"url": "https://예시.kr/a.jpg", "evidence_id": 1}


def test_the_canonical_form_and_the_hash_are_unchanged() -> None:
    assert canonical(PAYLOAD) == '{"evidence_id":1,"url":"https://예시.kr/a.jpg"}'
    link = next_link(Head(), "captured", PAYLOAD, AT)
    assert (link.seq, link.at, link.prev_hash) == (
        1,
        "2026-11-20T01:30:00.000000+00:00",
        GENESIS_HASH,
    )
    assert link.hash == GOLDEN


def _chain(n: int) -> list[tuple[int, str, str, str, str, str]]:
    head, out = Head(), []
    for i in range(n):
        link = next_link(head, "k", {"i": i}, AT)
        out.append((link.seq, link.at, link.kind, link.payload, link.prev_hash, link.hash))
        head = link.head
    return out


def test_a_walk_over_a_good_chain_finds_nothing() -> None:
    walk, chain = Walk(), _chain(5)
    assert all(walk.step(*entry) == [] for entry in chain)
    assert walk.head == Head(5, chain[-1][5])


def test_a_walk_names_each_break() -> None:
    chain = _chain(4)
    edited = (*chain[1][:3], '{"i":9}', *chain[1][4:])
    walk = Walk()
    found = [walk.step(*entry) for entry in (chain[0], edited, chain[3])]
    assert found == [[], [Break.EDITED], [Break.GAP, Break.UNLINKED, Break.EDITED]]
