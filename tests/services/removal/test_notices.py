"""Notices per host: grouping, the case's consent sentence, editing, confirmation, transitions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stopspread.errors import (
    InvalidRequestError,
    NoticeError,
    NoticeRefusedError,
    SignerMissingError,
    TransitionError,
)
from stopspread.languages import Language
from stopspread.services.context import Services
from stopspread.services.removal import notices
from stopspread.services.removal.notices import ConsentBasis
from stopspread.services.removal.workflow import answer_statuses, record_status
from stopspread.storage.models_takedown import Channel
from stopspread.takedown.consent import consent_sentence
from stopspread.takedown.requests import RequestStatus
from tests.conftest import make_services
from tests.services.removal.notice_seed import PROFILE, notice_world, url_on

# every database here is used through services: a migrated copy (tests/dbtemplate.py)
pytestmark = pytest.mark.usefixtures("migrated_database")

T0 = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


@pytest.fixture
def svc(database_url: str, tmp_path: Path) -> Iterator[Services]:
    s = make_services(database_url, tmp_path, smtp_from="takedown@center.example")
    yield s
    s.db.dispose()


def test_twelve_items_on_one_host_make_one_notice_listing_all(svc: Services) -> None:
    urls = [url_on("hosta.example", n) for n in range(12)]
    world = notice_world(svc, urls)
    drafted = notices.draft_case_notices(svc, world.who, world.case_id, now=T0)
    assert drafted.unknown_hosts == []
    [notice_id] = drafted.notice_ids
    view = notices.notice_view(svc, world.who, notice_id)
    assert (view.domain, view.recipient, len(view.items)) == (
        "hosta.example", "abuse@hosta.example", 12,
    )  # fmt: skip
    assert [line.url for line in view.items] == urls
    for url in urls:
        assert view.text.count(url) == 1
    assert "대상 촬영물 (12건)" in view.text
    assert {line.status for line in view.items} == {RequestStatus.DRAFT}
    assert notices.draft_case_notices(svc, world.who, world.case_id).notice_ids == []


def test_two_hosts_make_two_notices_and_unknown_hosts_are_named(svc: Services) -> None:
    urls = [url_on("hosta.example", n) for n in range(3)]
    urls += [url_on("hostb.example", n) for n in range(2)] + [url_on("nobody.example", 1)]
    world = notice_world(svc, urls)
    drafted = notices.draft_case_notices(svc, world.who, world.case_id, now=T0)
    assert drafted.unknown_hosts == ["nobody.example"]
    views = [notices.notice_view(svc, world.who, i) for i in drafted.notice_ids]
    assert [(v.domain, v.language, len(v.items)) for v in views] == [
        ("hosta.example", Language.KO, 3),
        ("hostb.example", Language.EN, 2),
    ]
    assert url_on("hostb.example", 0) not in views[0].text
    assert "Material (2 items)" in views[1].text


def test_new_items_join_an_unedited_draft_but_never_an_edited_one(svc: Services) -> None:
    world = notice_world(svc, [url_on("hosta.example", n) for n in range(3)])
    first = notices.draft_case_notices(svc, world.who, world.case_id, now=T0).notice_ids
    assert len(first) == 1
    view = notices.notice_view(svc, world.who, first[0])
    notices.edit_notice(svc, world.who, first[0], view.subject, view.text + "\n추가 문장.\n")
    # an item confirmed later: the edited draft keeps what she wrote; a new draft lists it
    more = notice_world_extra(svc, world.case_id, url_on("hosta.example", 9))
    second = notices.draft_case_notices(svc, world.who, world.case_id, now=T0).notice_ids
    assert len(second) == 1 and second != first
    assert [line.url for line in notices.notice_view(svc, world.who, second[0]).items] == [more]


def notice_world_extra(svc: Services, case_id: int, url: str) -> str:
    """One more confirmed sighting on the case (its own captured file)."""
    import hashlib

    from stopspread.evidence import HttpCapture
    from stopspread.services.custody import EvidenceStore
    from stopspread.storage.models_scan import MatchKind, ReviewState
    from tests.conftest import encode, synthetic_rgb
    from tests.services.review_seed import _capture, _sighting

    store = EvidenceStore.from_settings(svc.settings, svc.db)
    body = encode(synthetic_rgb(64, 48, seed=999), "JPEG")
    capture = HttpCapture(url, 200, [("Content-Type", "image/jpeg")], body, T0)
    evidence = _capture(svc, store, case_id, capture)
    row = _sighting(
        case_id, url, evidence, MatchKind.IMAGE, review_status=ReviewState.CONFIRMED,
        url_key=hashlib.sha256(url.encode()).hexdigest(),
    )  # fmt: skip
    with svc.db.write() as (session, _head):
        session.add(row)
    return url


@pytest.mark.parametrize("basis", list(ConsentBasis))
def test_the_notice_says_the_consent_chosen_for_the_case(
    svc: Services, basis: ConsentBasis
) -> None:
    world = notice_world(svc, [url_on("hosta.example", 1), url_on("hostb.example", 1)])
    notices.set_case_consent(svc, world.who, world.case_id, basis)
    ids = notices.draft_case_notices(svc, world.who, world.case_id, now=T0).notice_ids
    ko, en = (notices.prepare_notice(svc, world.who, i, now=T0) for i in ids)
    assert ko.consent is basis
    assert consent_sentence(basis, Language.KO) in ko.text
    assert consent_sentence(basis, Language.EN) in en.text
    for other in set(ConsentBasis) - {basis}:
        assert consent_sentence(other, Language.KO) not in ko.text


def test_an_unset_case_says_only_what_is_known(svc: Services) -> None:
    world = notice_world(svc, [url_on("hosta.example", 1)])
    [i] = notices.draft_case_notices(svc, world.who, world.case_id, now=T0).notice_ids
    text = notices.notice_view(svc, world.who, i).text
    assert "피해자는 이 촬영물의 유포에 동의한 적이 없습니다." in text
    assert "촬영과 유포에 동의한 적이 없습니다" not in text


def test_her_profile_signs_and_her_login_name_never_does(svc: Services) -> None:
    world = notice_world(svc, [url_on("hosta.example", 1)])
    [i] = notices.draft_case_notices(svc, world.who, world.case_id, now=T0).notice_ids
    text = notices.notice_view(svc, world.who, i).text
    signature = text.split("회신해 주십시오.", 1)[1]
    assert PROFILE.display_name in signature and PROFILE.role_title in signature
    assert PROFILE.contact_email in signature and PROFILE.contact_phone in signature
    assert "hana" not in signature.replace(PROFILE.contact_email, "")
    assert "전자서명" not in text


def test_without_a_name_in_her_profile_nothing_is_drafted(svc: Services) -> None:
    world = notice_world(svc, [url_on("hosta.example", 1)], profile=None)
    with pytest.raises(SignerMissingError, match="profile"):
        notices.draft_case_notices(svc, world.who, world.case_id, now=T0)
    assert issubclass(SignerMissingError, NoticeError)  # link_reuploads skips it like a host


def test_the_answer_by_time_is_to_the_minute(svc: Services) -> None:
    world = notice_world(svc, [url_on("hosta.example", 1)])
    [i] = notices.draft_case_notices(svc, world.who, world.case_id, now=T0).notice_ids
    at = datetime(2026, 11, 25, 3, 4, 59, tzinfo=UTC)
    view = notices.prepare_notice(svc, world.who, i, now=at)
    assert view.answer_by == datetime(2026, 11, 26, 3, 4, tzinfo=UTC)  # KR: 24 hours
    assert "2026-11-26 12:04 KST / 2026-11-26 03:04 UTC까지 회신해 주십시오." in view.text


def test_edits_are_kept_checked_and_confirmed(svc: Services) -> None:
    world = notice_world(svc, [url_on("hosta.example", n) for n in range(2)])
    [i] = notices.draft_case_notices(svc, world.who, world.case_id, now=T0).notice_ids
    view = notices.prepare_notice(svc, world.who, i, now=T0)
    edited = notices.edit_notice(
        svc, world.who, i, "삭제 요청 (수정)", view.text.replace("저희는", "저희 센터는")
    )
    assert edited.edited and edited.digest != view.digest
    again = notices.prepare_notice(svc, world.who, i, now=T0)  # an edit is never re-rendered
    assert (again.subject, again.text) == (edited.subject, edited.text)
    with pytest.raises(NoticeRefusedError, match="names") as missing:
        notices.edit_notice(
            svc, world.who, i, "s", view.text.replace(url_on("hosta.example", 1), "")
        )
    assert missing.value.reason == notices.NoticeProblem.MISSING_URL
    assert missing.value.detail == url_on("hosta.example", 1)
    with pytest.raises(NoticeRefusedError, match="confirm it again") as stale:
        notices.send_notice(svc, world.who, i, view.digest, now=T0)  # confirmed before the edit
    assert stale.value.reason == notices.NoticeProblem.CHANGED
    reset = notices.reset_notice(svc, world.who, i, now=T0)
    assert not reset.edited and "저희 센터는" not in reset.text


def test_a_draft_cannot_be_answered_sent() -> None:
    assert answer_statuses(RequestStatus.DRAFT, Channel.EMAIL) == []
    assert answer_statuses(RequestStatus.DRAFT, Channel.WEB_FORM) == ["sent"]
    assert answer_statuses(RequestStatus.SENT, Channel.EMAIL) == [
        "acknowledged", "no_answer", "refused", "removed",
    ]  # fmt: skip
    assert answer_statuses(RequestStatus.REFUSED, Channel.EMAIL) == ["removed"]
    assert answer_statuses(RequestStatus.REFUSED, Channel.WEB_FORM) == ["removed", "sent"]


def test_recording_sent_by_hand_is_refused_for_an_email_request(svc: Services) -> None:
    world = notice_world(svc, [url_on("hosta.example", 1)])
    [i] = notices.draft_case_notices(svc, world.who, world.case_id, now=T0).notice_ids
    [line] = notices.notice_view(svc, world.who, i).items
    with pytest.raises(TransitionError, match="only by sending"):
        record_status(svc, world.who, line.request_id, RequestStatus.SENT)
    with pytest.raises(TransitionError):
        record_status(svc, world.who, line.request_id, RequestStatus.REMOVED)


def test_an_item_of_a_notice_is_never_sent_alone(svc: Services) -> None:
    from stopspread.services.removal.workflow import send_request

    world = notice_world(svc, [url_on("hosta.example", n) for n in range(2)])
    [i] = notices.draft_case_notices(svc, world.who, world.case_id, now=T0).notice_ids
    line = notices.notice_view(svc, world.who, i).items[0]
    with pytest.raises(InvalidRequestError, match="host's notice"):
        send_request(svc, world.who, line.request_id, now=T0)


def test_a_web_form_host_gets_one_notice_recorded_sent_once_pasted(svc: Services) -> None:
    world = notice_world(svc, [url_on("hostc.example", n) for n in range(3)])
    [i] = notices.draft_case_notices(svc, world.who, world.case_id, now=T0).notice_ids
    view = notices.prepare_notice(svc, world.who, i, now=T0)
    assert view.channel is Channel.WEB_FORM and view.recipient == "https://hostc.example/report"
    fields = notices.export_notice(svc, world.who, i).fields
    assert all(url_on("hostc.example", n) in fields["urls"] for n in range(3))
    assert fields["name"] == PROFILE.display_name and fields["message"] == view.text
    with pytest.raises(NoticeRefusedError) as by_mail:
        notices.send_notice(svc, world.who, i, view.digest, now=T0)
    assert by_mail.value.reason == notices.NoticeProblem.WEB_FORM
    notices.record_form_sent(svc, world.who, i, view.digest, now=T0)
    after = notices.notice_view(svc, world.who, i)
    assert after.sent and {line.status for line in after.items} == {RequestStatus.SENT}
    with pytest.raises(NoticeRefusedError):
        notices.record_form_sent(svc, world.who, i, after.digest, now=T0)
