"""Short fuzz runs of every parser of outside input (CI); ``make soak`` runs 100,000 each.

Each harness (tests/fuzz/harnesses.py) allows only its parser's documented typed errors.
Derandomized: the same few hundred inputs on every run, so a failure always reproduces.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.harnesses import HARNESSES, Harness, mutate

EXAMPLES = {"image": 150, "warc": 300}


def _inputs(harness: Harness) -> st.SearchStrategy[bytes]:
    seeds = list(harness.seeds())
    mutated = st.builds(
        lambda seed, n: mutate(seed, random.Random(n), seeds),
        st.sampled_from(seeds),
        st.integers(0, 2**32),
    )
    text = st.text(max_size=300).map(str.encode)
    return st.one_of(mutated, st.binary(max_size=512), text, st.sampled_from(seeds))


@pytest.mark.parametrize("name", sorted(HARNESSES))
def test_parser_gives_a_result_or_a_typed_error(name: str) -> None:
    harness = HARNESSES[name]

    @settings(
        max_examples=EXAMPLES.get(name, 400),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(_inputs(harness))
    def run(data: bytes) -> None:
        harness.check(data)

    run()


@pytest.mark.parametrize("name", sorted(HARNESSES))
def test_the_seeds_hold_valid_input(name: str) -> None:
    """The fuzzer starts from real files the parser accepts (and a few it refuses)."""
    harness = HARNESSES[name]
    assert any([harness.check(seed) for seed in harness.seeds()])
