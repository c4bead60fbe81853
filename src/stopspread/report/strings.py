"""The report's words in Korean and English (one table per language, the same keys)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from stopspread.languages import Language

__all__ = [
    "LANGUAGE_NAMES",
    "REVIEW_WORDS",
    "STATUS_WORDS",
    "WORDS",
    "distance_phrase",
    "match_text",
    "note_text",
    "size_text",
]

_KO: Final = {
    "title": "증거 보고서",
    "subtitle": "동의 없이 촬영·유포된 성적 촬영물의 발견, 채증, 삭제 요청 기록",
    "case": "접수 번호",
    "center": "지원센터",
    "worker": "작성자",
    "survivor": "피해자",
    "opened": "사건 등록",
    "generated": "보고서 작성",
    "notes": "메모",
    "summary": "요약",
    "n_sightings": "발견된 게시물",
    "n_captures": "채증 기록",
    "n_requests": "삭제 요청",
    "n_removed": "삭제 확인",
    "n_reuploads": "재유포",
    "n_under_review": "검토 중",
    "n_confirmed": "피해 촬영물로 확인",
    "n_platform": "플랫폼에서 발견",
    "count": "{n}건",
    "verification": "증거 기록 검증",
    "verified_ok": "검증 통과: 모든 채증 파일의 SHA-256 값과 기록 체인이 일치합니다.",
    "verified_bad": "검증 실패: 증거 기록이 변경되었거나 손상되었습니다.",
    "no_images": (
        "이 보고서에는 촬영물 이미지가 들어 있지 않습니다. 각 게시물은 주소와 채증 파일의 "
        "SHA-256 값으로 특정됩니다."
    ),
    "warc_with": (
        "원본 채증 파일(WARC) {n}개는 6장에 SHA-256 값과 함께 나열되어 있으며, 이 보고서와 "
        "함께 증거 패키지(ZIP 파일)로 제출합니다."
    ),
    "warc_none": "이 사건에는 원본 채증 파일(WARC)이 없습니다.",
    "with_previews": "작업자의 선택에 따라 흐림 처리한 미리보기가 포함되어 있습니다.",
    "s_summary": "1. 사건 요약",
    "s_sightings": "2. 발견된 게시물",
    "s_proof": "3. 증거 기록 검증",
    "s_takedowns": "4. 삭제 요청 이력",
    "s_room": "5. 방 점검 (숨은 카메라)",
    "s_warc": "6. 함께 제출하는 WARC 파일",
    "room_intro": (
        "방의 네트워크에서 영상을 보내는 카메라를 찾은 기록입니다. 기기에 로그인하거나 영상을 "
        "열지 않고, 기기가 응답한 내용만 기록했습니다. 전체 응답은 WARC 파일(JSON)에 있습니다."
    ),
    "no_room": "방 점검 기록이 없습니다.",
    "room_check": "방 점검 {n}",
    "room_network": "점검한 네트워크",
    "room_counts": "판정",
    "room_counts_value": "카메라 가능성 높음 {likely} · 확인 필요 {check} · 카메라 아님 {unlikely}",
    "room_device": "기기 {address}",
    "room_none_flagged": "카메라로 의심되는 기기가 없었습니다.",
    "sighting": "게시물 {n}",
    "url": "파일 주소",
    "page_url": "게시 페이지",
    "first_seen": "처음 발견",
    "last_seen": "마지막 확인",
    "match_type": "일치 방식",
    "review": "검토 결과",
    "reupload_of": "재유포 (이전 요청)",
    "captures": "채증 기록",
    "captured_at": "채증 일시",
    "media_sha256": "파일 SHA-256",
    "page_sha256": "페이지 SHA-256",
    "warc_file": "WARC 파일",
    "log_entry": "기록 항목 (번호, 해시)",
    "preview": "흐림 처리한 미리보기",
    "proof_intro": (
        "모든 채증은 이루어진 순간에 SHA-256 값을 계산하여, 추가만 가능한 해시 체인 기록에 "
        "남겼습니다. 각 항목은 앞 항목의 해시를 포함하므로, 항목 하나라도 바뀌거나 빠지면 "
        "검증에서 드러납니다."
    ),
    "result": "검증 결과",
    "verified_at": "검증 일시",
    "chain_head": "체인 헤드 (마지막 항목 해시)",
    "entries": "기록 항목 수",
    "detail": "세부 내용",
    "ok": "통과",
    "failed": "실패",
    "reference": "참조번호",
    "host": "호스트",
    "recipient": "받는 곳",
    "language": "언어",
    "time": "일시",
    "status": "상태",
    "note": "비고",
    "no_takedowns": "아직 보낸 삭제 요청이 없습니다.",
    "no_sightings": "발견된 게시물이 없습니다.",
    "warc_intro": (
        "아래 WARC 파일은 채증한 페이지와 파일의 원본 응답을 담고 있으며, 이 보고서와 함께 "
        "증거 패키지(ZIP 파일)로 제출합니다. 패키지의 목록 파일(manifest-sha256.txt)에도 같은 "
        "값이 있습니다. 받은 파일의 SHA-256 값이 아래 값과 같으면 채증 이후 바뀌지 않은 것입니다."
    ),
    "file": "파일",
    "size": "크기",
    "no_warc": "이 사건에는 원본 채증 파일(WARC)이 없습니다.",
    "page": "{page} / {pages} 쪽",
    "match_md5": "MD5 (파일이 바이트 단위로 같음)",
    "match_shape_points": (
        "특징점 {distance}개가 원본 사진과 같은 자리에서 맞음 (지문 일치보다 덜 확실함)"
    ),
    "match_perceptual": "{signal} ({kind}), 차이 {distance}비트: {phrase}",
    "kind_image": "이미지",
    "kind_video": "동영상",
}

_EN: Final = {
    "title": "Evidence report",
    "subtitle": (
        "Sightings, captures and takedown requests: intimate imagery shared without consent"
    ),
    "case": "Case code",
    "center": "Support center",
    "worker": "Prepared by",
    "survivor": "Survivor",
    "opened": "Case opened",
    "generated": "Report generated",
    "notes": "Notes",
    "summary": "Summary",
    "n_sightings": "Sightings",
    "n_captures": "Captures",
    "n_requests": "Takedown requests",
    "n_removed": "Removal confirmed",
    "n_reuploads": "Re-uploads",
    "n_under_review": "Under review",
    "n_confirmed": "Confirmed as hers",
    "n_platform": "Found on platforms",
    "count": "{n}",
    "verification": "Evidence log verification",
    "verified_ok": "Verified: every capture's SHA-256 digest and the log's hash chain match.",
    "verified_bad": "FAILED: the evidence log was changed or damaged.",
    "no_images": (
        "This report contains no images of the material. Each item is identified by its URL "
        "and the SHA-256 digest of the captured file."
    ),
    "warc_with": (
        "The {n} captured files (WARC) are listed with their SHA-256 digests in section 6 and "
        "delivered with this report in the evidence package (ZIP file)."
    ),
    "warc_none": "This case has no captured files (WARC).",
    "with_previews": "Blurred previews are included, as chosen by the support worker.",
    "s_summary": "1. Case summary",
    "s_sightings": "2. Sightings",
    "s_proof": "3. Evidence log proof",
    "s_takedowns": "4. Takedown history",
    "s_room": "5. Room checks (hidden cameras)",
    "s_warc": "6. WARC files delivered alongside",
    "room_intro": (
        "Checks of a room's network for cameras streaming video. Nothing was logged in to and "
        "no video was opened; only what devices answered was recorded. The full answers are in "
        "the WARC files (JSON)."
    ),
    "no_room": "No room check was kept.",
    "room_check": "Room check {n}",
    "room_network": "Network checked",
    "room_counts": "Verdicts",
    "room_counts_value": "likely cameras {likely} · closer look {check} · not cameras {unlikely}",
    "room_device": "Device {address}",
    "room_none_flagged": "No device was suspected of being a camera.",
    "sighting": "Sighting {n}",
    "url": "File URL",
    "page_url": "Page URL",
    "first_seen": "First seen",
    "last_seen": "Last seen",
    "match_type": "Match",
    "review": "Review",
    "reupload_of": "Re-upload of request",
    "captures": "Captures",
    "captured_at": "Captured",
    "media_sha256": "File SHA-256",
    "page_sha256": "Page SHA-256",
    "warc_file": "WARC file",
    "log_entry": "Log entry (number, hash)",
    "preview": "Blurred preview",
    "proof_intro": (
        "Every capture was hashed (SHA-256) the moment it was taken and entered in an "
        "append-only, hash-chained log. Each entry includes the hash of the one before it, so "
        "changing or removing any entry shows up in the verification."
    ),
    "result": "Result",
    "verified_at": "Verified at",
    "chain_head": "Chain head (hash of the last entry)",
    "entries": "Log entries",
    "detail": "Detail",
    "ok": "passed",
    "failed": "FAILED",
    "reference": "Reference",
    "host": "Host",
    "recipient": "Sent to",
    "language": "Language",
    "time": "Time",
    "status": "Status",
    "note": "Note",
    "no_takedowns": "No takedown request has been sent yet.",
    "no_sightings": "No sightings.",
    "warc_intro": (
        "These WARC files hold the original responses of the captured pages and files and are "
        "delivered with this report in the evidence package (ZIP file), whose manifest lists the "
        "same digests. A file whose SHA-256 digest equals the one below has not "
        "changed since it was captured."
    ),
    "file": "File",
    "size": "Size",
    "no_warc": "This case has no captured files (WARC).",
    "page": "Page {page} of {pages}",
    "match_md5": "MD5 (byte-for-byte the same file)",
    "match_shape_points": (
        "{distance} shape points line up with her photo (less certain than a hash match)"
    ),
    "match_perceptual": "{signal} ({kind}), {distance} bits apart: {phrase}",
    "kind_image": "image",
    "kind_video": "video",
}

WORDS: Final[Mapping[Language, Mapping[str, str]]] = {
    Language.KO: _KO,
    Language.EN: _EN,
}

STATUS_WORDS: Final[Mapping[Language, Mapping[str, str]]] = {
    Language.KO: {
        "draft": "작성 중",
        "sent": "보냄",
        "acknowledged": "접수 확인",
        "removed": "삭제됨",
        "refused": "거절됨",
        "no_answer": "답 없음",
        "gone": "삭제 확인 (재확인)",
        "still_there_same": "그대로 있음 (재확인)",
        "changed": "내용 바뀜 (재확인)",
        "error": "확인 실패 (재확인)",
        "reupload": "재유포 발견",
    },
    Language.EN: {
        "draft": "draft",
        "sent": "sent",
        "acknowledged": "acknowledged",
        "removed": "removed",
        "refused": "refused",
        "no_answer": "no answer",
        "gone": "gone (follow-up)",
        "still_there_same": "still there (follow-up)",
        "changed": "changed (follow-up)",
        "error": "check failed (follow-up)",
        "reupload": "re-upload found",
    },
}

REVIEW_WORDS: Final[Mapping[Language, Mapping[str, str]]] = {
    Language.KO: {
        "pending": "확인 전",
        "confirmed": "피해 촬영물로 확인",
        "rejected": "다른 촬영물 (제외)",
        "second_look": "다시 확인 필요",
    },
    Language.EN: {
        "pending": "not reviewed yet",
        "confirmed": "confirmed as hers",
        "rejected": "not hers (left out)",
        "second_look": "second look needed",
    },
}

LANGUAGE_NAMES: Final[Mapping[Language, Mapping[str, str]]] = {
    Language.KO: {"ko": "한국어", "en": "영어", "ja": "일본어", "zh": "중국어"},
    Language.EN: {"ko": "Korean", "en": "English", "ja": "Japanese", "zh": "Chinese"},
}

# PDQ distance bands (bits of 256): 0 the same picture; up to 10 a re-encoding or resize;
# up to 31 (Meta's recommended match threshold) an edited copy; beyond, a distant match.
_DISTANCE_BANDS: Final = ((0, "same"), (10, "near"), (31, "edited"))
_DISTANCE_WORDS: Final[Mapping[Language, Mapping[str, str]]] = {
    Language.KO: {
        "same": "같은 사진",
        "near": "거의 같음 (크기나 화질만 바뀜)",
        "edited": "비슷함 (편집된 사본일 수 있음)",
        "far": "먼 일치 (사람이 확인함)",
    },
    Language.EN: {
        "same": "the same picture",
        "near": "nearly the same (size or quality changed)",
        "edited": "similar (possibly an edited copy)",
        "far": "a distant match (checked by a person)",
    },
}


def distance_phrase(language: Language, distance: int) -> str:
    """A match distance in words (the number is printed beside it)."""
    words = _DISTANCE_WORDS[language]
    for limit, key in _DISTANCE_BANDS:
        if distance <= limit:
            return words[key]
    return words["far"]


def match_text(language: Language, signal_type: str, video: bool, distance: int) -> str:
    """How a sighting matched, e.g. ``PDQ (이미지), 차이 0비트: 같은 사진``."""
    words = WORDS[language]
    if signal_type.lower() == "md5":
        return words["match_md5"]
    if signal_type.lower() == "ss-kp-1":  # distance: the agreeing shape points (keypoints)
        return words["match_shape_points"].format(distance=distance)
    signal = "vPDQ" if signal_type.lower() == "vpdq" else signal_type.upper()
    return words["match_perceptual"].format(
        signal=signal,
        kind=words["kind_video" if video else "kind_image"],
        distance=distance,
        phrase=distance_phrase(language, distance),
    )


def size_text(language: Language, size: int) -> str:
    """A file size: exact bytes in Korean (``12,345바이트``), KiB/MiB in English."""
    if language is Language.KO:
        return f"{size:,}바이트"
    value: float = size
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


# The history notes the services write in English (removal.workflow, takedown.followup);
# a worker's own note is printed as she wrote it.
_NOTE_PREFIXES: Final[Mapping[Language, Mapping[str, str]]] = {
    Language.KO: {
        "e-mail to ": "{rest} 주소로 이메일 보냄",
        "dns: ": "주소를 찾을 수 없음 (도메인 없음)",
        "refused: ": "접속 거부됨 (서버 없음)",
        "timeout: ": "응답 시간 초과",
        "too_large: ": "파일이 너무 큼",
        "blocked: ": "보안 규칙으로 접속하지 않음 (내부 주소 등)",
        "other: ": "접속 실패",
        "HTTP ": "서버 응답 HTTP {rest}",
    },
    Language.EN: {
        "e-mail to ": "e-mail to {rest}",
        "dns: ": "the name does not resolve: {rest}",
        "refused: ": "connection refused: {rest}",
        "timeout: ": "timed out: {rest}",
        "too_large: ": "file too large: {rest}",
        "blocked: ": "not fetched (our safety rules): {rest}",
        "other: ": "fetch failed: {rest}",
        "HTTP ": "server answered HTTP {rest}",
    },
}
_NOTE_WHOLE: Final[Mapping[Language, Mapping[str, str]]] = {
    Language.KO: {
        "same file": "같은 파일이 그대로 있음",
        "same content, different file": "같은 내용이 다른 파일로 있음",
        "different content": "다른 내용으로 바뀜",
        "dns:": "주소를 찾을 수 없음 (도메인 없음)",
        "refused:": "접속 거부됨 (서버 없음)",
        "timeout:": "응답 시간 초과",
        "too_large:": "파일이 너무 큼",
        "blocked:": "보안 규칙으로 접속하지 않음 (내부 주소 등)",
        "other:": "접속 실패",
    },
    Language.EN: {
        "same file": "the same file is still there",
        "same content, different file": "the same content, as a different file",
        "different content": "the content changed",
    },
}


def note_text(language: Language, note: str) -> str:
    """A history note in the report's language; a worker's own words stay as written."""
    whole = _NOTE_WHOLE[language].get(note.strip())
    if whole is not None:
        return whole
    for prefix, template in _NOTE_PREFIXES[language].items():
        if note.startswith(prefix):
            return template.format(rest=note[len(prefix) :].strip())
    return note
