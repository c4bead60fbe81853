"""Follow-up classification: gone, still there (same file or same content), changed, error."""

from __future__ import annotations

import hashlib

import pytest

from stopspread.hashing import hash_image
from stopspread.takedown.followup import (
    FetchFailure,
    FetchOutcome,
    FollowUp,
    Refetcher,
    classify,
    pdq_matcher,
)
from tests.conftest import encode, synthetic_rgb

ORIGINAL = encode(synthetic_rgb(320, 240, seed=11), "JPEG", quality=92)
SHA = hashlib.sha256(ORIGINAL).hexdigest()
REENCODED = encode(synthetic_rgb(320, 240, seed=11)[:, ::1], "PNG")  # other bytes, same picture
OTHER = encode(synthetic_rgb(320, 240, seed=99), "JPEG", quality=92)  # a placeholder


@pytest.mark.parametrize("status", [404, 410, 451])
def test_gone_statuses(status: int) -> None:
    result = classify(FetchOutcome(status=status, body=b"<h1>gone</h1>"), SHA)
    assert (result.outcome, result.http_status, result.reason) == (
        FollowUp.GONE,
        status,
        f"HTTP {status}",
    )


@pytest.mark.parametrize("failure", [FetchFailure.DNS, FetchFailure.REFUSED])
def test_host_gone(failure: FetchFailure) -> None:
    result = classify(FetchOutcome(failure=failure, detail="no such host"), SHA)
    assert result.outcome is FollowUp.GONE
    assert result.reason.startswith(failure.value)


@pytest.mark.parametrize(
    "outcome",
    [
        FetchOutcome(failure=FetchFailure.TIMEOUT),
        FetchOutcome(failure=FetchFailure.TOO_LARGE),
        FetchOutcome(failure=FetchFailure.BLOCKED),
        FetchOutcome(),
        FetchOutcome(status=500),
        FetchOutcome(status=503),
        FetchOutcome(status=403),  # blocked for us is not removed for everyone
        FetchOutcome(status=302),
    ],
)
def test_errors_say_nothing(outcome: FetchOutcome) -> None:
    assert classify(outcome, SHA).outcome is FollowUp.ERROR


def test_same_file() -> None:
    result = classify(FetchOutcome(status=200, body=ORIGINAL), SHA.upper())
    assert (result.outcome, result.sha256, result.reason) == (
        FollowUp.STILL_THERE_SAME,
        SHA,
        "same file",
    )


def test_same_content_by_pdq_and_changed_content() -> None:
    matches = pdq_matcher(hash_image(ORIGINAL).pdq)
    same = classify(FetchOutcome(status=200, body=REENCODED), SHA, matches)
    assert same.outcome is FollowUp.STILL_THERE_SAME
    assert same.reason == "same content, different file"
    changed = classify(FetchOutcome(status=200, body=OTHER), SHA, matches)
    assert changed.outcome is FollowUp.CHANGED
    page = classify(FetchOutcome(status=200, body=b"<html>removed</html>"), SHA, matches)
    assert page.outcome is FollowUp.CHANGED
    # without a matcher only the exact file counts as the same
    assert classify(FetchOutcome(status=200, body=REENCODED), SHA).outcome is FollowUp.CHANGED


def test_matcher_refuses_oversize_bodies() -> None:
    matches = pdq_matcher(hash_image(ORIGINAL).pdq, max_bytes=100)
    assert not matches(ORIGINAL)


def test_a_refetcher_is_any_callable() -> None:
    pages = {"https://a.example/x.jpg": FetchOutcome(status=200, body=ORIGINAL)}

    def refetch(url: str) -> FetchOutcome:
        return pages.get(url, FetchOutcome(status=404))

    fetcher: Refetcher = refetch
    assert classify(fetcher("https://a.example/x.jpg"), SHA).outcome is FollowUp.STILL_THERE_SAME
    assert classify(fetcher("https://a.example/y.jpg"), SHA).outcome is FollowUp.GONE
