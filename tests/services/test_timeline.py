"""The case timeline (services/timeline.py) on SQLite and PostgreSQL: what is a re-upload,
what is linked to what, and a platform match counted once however many hits it gets."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from stopspread.evidence import HttpCapture
from stopspread.services import cases, platform
from stopspread.services.context import Services
from stopspread.services.custody import EvidenceStore
from stopspread.services.removal.dashboard import survivor_counts
from stopspread.services.signal_input import parse_signal
from stopspread.services.timeline import (
    EntryKind,
    ItemSource,
    ItemState,
    Timeline,
    TimelineCounts,
    case_timeline,
)
from stopspread.services.workers import accounts
from stopspread.services.workers.matches import MatchDecision, decide_match, list_matches
from stopspread.storage.models import Case, ReviewStatus, Signal
from stopspread.storage.models_scan import (
    MatchKind,
    ReviewState,
    ScanRow,
    ScanStatus,
    Sighting,
    Source,
    SourceKind,
)
from stopspread.storage.models_takedown import Channel, TakedownRequest
from stopspread.storage.models_worker import WorkerRole
from stopspread.takedown.requests import RequestStatus

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
SITE = "http://127.0.0.1:8081"
PDQ = "f" * 32 + "0" * 32


class World:
    """One case with one enrolled PDQ hash, a center, one evidence capture to cite."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        made = cases.create_case(svc, [parse_signal("pdq", PDQ)])
        with svc.db.read() as session:
            case = session.query(Case).filter(Case.code == made.code).one()
            self.case_id, self.code = case.id, made.code
            self.signal_id = session.query(Signal.id).filter(Signal.value == PDQ).scalar()
        self.center_id = accounts.create_center(svc, "서울 지원센터")
        self.who = accounts.create_worker(
            svc, "서울 지원센터", "mina", "a long enough password", WorkerRole.WORKER
        )
        accounts.assign_case(svc, self.code, "서울 지원센터")
        store = EvidenceStore.from_settings(svc.settings, svc.db)
        capture = HttpCapture(f"{SITE}/m/a.jpg", 200, [("Content-Type", "image/jpeg")], b"x", T0)
        with svc.db.write() as (session, _head):
            [ref] = store.capture(session, self.case_id, [capture], reason="test seed")
            self.evidence_id = ref.id

    def scan(self) -> int:
        with self.svc.db.write() as (session, _head):
            source = Source(
                case_id=self.case_id, kind=SourceKind.URLS, spec="{}", label="t", created_by="t"
            )
            session.add(source)
            session.flush()
            row = ScanRow(
                source_id=source.id, case_id=self.case_id, status=ScanStatus.DONE, trigger="t"
            )
            session.add(row)
            session.flush()
            return row.id

    def sighting(self, path: str, seen: datetime, **extra: object) -> int:
        url = f"{SITE}{path}"
        values: dict[str, object] = {
            "case_id": self.case_id, "media_url": url,
            "url_key": hashlib.sha256(url.encode()).hexdigest(), "media_sha256": "a" * 64,
            "first_seen": seen, "last_seen": seen, "distance": 4, "signal_type": "pdq",
            "signal_id": self.signal_id, "match_kind": MatchKind.IMAGE,
            "review_status": ReviewState.CONFIRMED, "reviewed_at": seen, "reupload": False,
            "media_evidence_id": self.evidence_id,
        }  # fmt: skip
        values.update(extra)
        with self.svc.db.write() as (session, _head):
            row = Sighting(**values)
            session.add(row)
            session.flush()
            return row.id

    def notice(self, sighting_id: int, sent: datetime | None) -> None:
        with self.svc.db.write() as (session, _head):
            session.add(
                TakedownRequest(
                    reference=f"SS-{sighting_id}",
                    case_id=self.case_id,
                    center_id=self.center_id,
                    sighting_id=sighting_id,
                    url="u",
                    sha256="a" * 64,
                    domain="127.0.0.1",
                    channel=Channel.EMAIL,
                    recipient="abuse@host.test",
                    language="ko",
                    jurisdiction="KR",
                    status=RequestStatus.SENT if sent else RequestStatus.DRAFT,
                    subject="s",
                    notice_text="n",
                    created_by="mina",
                    first_sent_at=sent,
                    sent_at=sent,
                )
            )

    def removed(self, sighting_id: int, at: datetime) -> None:
        with self.svc.db.write() as (session, _head):
            row = session.get(Sighting, sighting_id)
            assert row is not None
            row.removed_at = at

    def timeline(self) -> Timeline:
        with self.svc.db.read() as session:
            return case_timeline(session, [self.case_id])


def test_copies_found_in_the_same_scan_are_not_reuploads(services: Services) -> None:
    w = World(services)
    scan = w.scan()
    first = w.sighting("/m/a.jpg", T0, scan_id=scan)
    copies = [
        w.sighting(
            f"/m/copy-{n}.jpg", T0 + timedelta(seconds=n), scan_id=scan, same_content_as=first
        )
        for n in (1, 2)
    ]
    # a notice on the first sent "before" the copies were found, still in the same scan
    w.notice(first, T0 - timedelta(minutes=1))
    timeline = w.timeline()
    assert [i.reupload_of for i in timeline.items] == [None, None, None]
    assert timeline.counts == TimelineCounts(
        found=3, under_review=0, confirmed=3, requests_sent=1, removed=0, reuploads=0
    )
    # a draft (nothing sent) never makes a later copy a re-upload either
    other = {"media_sha256": "c" * 64, "signal_id": None}
    drafted = w.sighting("/m/other.jpg", T0, **other)
    w.notice(drafted, None)
    later = w.sighting("/m/other-2.jpg", T0 + timedelta(days=1), same_content_as=drafted, **other)
    assert w.timeline().by_sighting()[later].reupload_of is None
    assert w.timeline().counts.reuploads == 0 and copies


def test_removal_then_reappearance_is_one_reupload_linked_to_the_earlier_item(
    services: Services,
) -> None:
    w = World(services)
    first = w.sighting("/m/a.jpg", T0, scan_id=w.scan())
    w.notice(first, T0 + timedelta(minutes=5))
    w.removed(first, T0 + timedelta(hours=5))
    scan = w.scan()
    back = w.sighting(
        "/m/a.jpg", T0 + timedelta(days=1), scan_id=scan, reupload=True, reupload_of=first,
        review_status=ReviewState.PENDING, reviewed_at=None,
    )  # fmt: skip
    timeline = w.timeline()
    [item] = timeline.reuploads()
    assert (item.sighting_id, item.reupload_of) == (back, first)
    counts = timeline.counts
    assert (counts.found, counts.under_review, counts.confirmed) == (2, 1, 1)
    assert (counts.requests_sent, counts.removed, counts.reuploads) == (1, 1, 1)
    kinds = [(e.kind, e.item) for e in timeline.entries]
    assert kinds == [
        (EntryKind.FOUND, f"scan:{first}"),
        (EntryKind.DECISION, f"scan:{first}"),
        (EntryKind.REMOVAL, f"scan:{first}"),
        (EntryKind.REUPLOAD, f"scan:{back}"),
    ]  # the notice's history event is written by the workflow, not by this seed
    # a copy of the same content after a sent notice (no removal) is a re-upload too
    elsewhere = w.sighting("/m/b.jpg", T0 + timedelta(days=2), scan_id=w.scan())
    assert w.timeline().by_sighting()[elsewhere].reupload_of == first
    # a rejected item is never counted, and never a re-upload
    w.sighting(
        "/m/c.jpg", T0 + timedelta(days=3), review_status=ReviewState.REJECTED,
        media_sha256="b" * 64, signal_id=None,
    )  # fmt: skip
    with services.db.read() as session:
        mine = survivor_counts(session, w.case_id)
    assert (mine.found, mine.reappeared, mine.notices_sent, mine.removed) == (3, 2, 1, 1)


def test_a_platform_match_is_counted_once_and_its_decision_goes_back(services: Services) -> None:
    w = World(services)
    client, _key = platform.create_client(services.db, "photo-app")
    for _ in range(3):  # the same upload signal three times: one ref, one item
        assert platform.record_match(services, client, [w.signal_id]).match
    [item] = w.timeline().items
    assert (item.source, item.state, item.hits) == (ItemSource.PLATFORM, ItemState.UNDER_REVIEW, 3)
    assert w.timeline().counts == TimelineCounts(found=1, under_review=1, platform_matches=1)

    [row] = list_matches(services, w.who)
    assert (row.platform, row.hits, row.ref, row.status) == (
        "photo-app", 3, item.ref, ReviewStatus.OPEN,
    )  # fmt: skip
    platform.feedback(services, client, item.ref, ReviewStatus.CONFIRMED)
    decide_match(services, w.who, row.review_id, MatchDecision.CONFIRM)
    counts = w.timeline().counts
    assert counts == TimelineCounts(found=1, confirmed=1, platform_matches=1)
    told = platform.feedback_status(services, client, item.ref)
    assert (told.decision, told.your_verdict, told.hits) == (
        ReviewStatus.CONFIRMED, ReviewStatus.CONFIRMED, 3,
    )  # fmt: skip
    view = cases.case_status(services, w.case_id)
    assert (view.matches, view.reviews_open, view.reviews_closed) == (1, 0, 1)

    # a later hit of the same ref: still one item, back under review until a person decides
    assert platform.record_match(services, client, [w.signal_id]).match
    [again] = w.timeline().items
    assert (again.ref, again.hits, again.state) == (item.ref, 4, ItemState.UNDER_REVIEW)
    assert w.timeline().counts == TimelineCounts(found=1, under_review=1, platform_matches=1)
    newest = list_matches(services, w.who, open_only=True)[0]
    assert newest.review_id != row.review_id and newest.ref == item.ref
    decide_match(services, w.who, newest.review_id, MatchDecision.CONFIRM)
    assert w.timeline().counts == TimelineCounts(found=1, confirmed=1, platform_matches=1)

    decide_match(services, w.who, newest.review_id, MatchDecision.REJECT)
    assert w.timeline().counts == TimelineCounts(rejected=1)
    assert platform.feedback_status(services, client, item.ref).decision is ReviewStatus.NOT_NCII
