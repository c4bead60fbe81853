"""Request and response bodies of the HTTP API (pydantic models, shown in the OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from stopspread.hashing.keypoints import MAX_QUERY_SETS

__all__ = [
    "AddSignalsIn",
    "AddSignalsOut",
    "CaseOut",
    "CreateCaseIn",
    "ErrorOut",
    "FeedbackIn",
    "HashOut",
    "HealthOut",
    "KeypointModel",
    "MatchIn",
    "MatchOut",
    "NewCaseOut",
    "OkOut",
    "QuerySignalIn",
    "ReadyOut",
    "SignalModel",
    "StatusOut",
    "WithdrawIn",
    "WithdrawOut",
    "error_responses",
]

SignalKind = Literal["pdq", "md5"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class SignalModel(_In):
    type: SignalKind = Field(description="pdq (64 hex) or md5 (32 hex)")
    value: str = Field(min_length=32, max_length=64)
    quality: int | None = Field(default=None, ge=0, le=100, description="PDQ quality, 0-100")
    media: Literal["image", "video"] | None = Field(
        default=None, description="md5: the file it came from (a video's MD5 is shared as VideoMD5)"
    )


KEYPOINT_B64_MAX_CHARS = 21_848  # base64 of a 16 KiB keypoint record (4 * ceil(16384 / 3))
KEYPOINT_RECORDS_MAX = 20  # photos a request may carry keypoints for


class KeypointModel(_In):
    """One photo's ``ss-kp-1`` keypoint record (docs/api.md, "Keypoint records")."""

    data: str = Field(
        min_length=12,
        max_length=KEYPOINT_B64_MAX_CHARS,
        description="base64 (standard alphabet, padded) of the record's bytes",
    )
    pdq: str | None = Field(
        default=None,
        min_length=64,
        max_length=64,
        description="the photo's whole-picture PDQ hash, one of this request's signals",
    )


class CreateCaseIn(_In):
    signals: list[SignalModel] = Field(min_length=1)
    keypoints: list[KeypointModel] = Field(
        default_factory=list,
        max_length=KEYPOINT_RECORDS_MAX,
        description="optional: the photos' ss-kp-1 keypoint records (at most 20)",
    )


class NewCaseOut(BaseModel):
    case_code: str
    secret: str = Field(description="shown once; keep it safe: it is needed to withdraw")
    signals: int


class AddSignalsIn(_In):
    signals: list[SignalModel] = Field(min_length=1)
    keypoints: list[KeypointModel] = Field(
        default_factory=list,
        max_length=KEYPOINT_RECORDS_MAX,
        description="optional: the photos' ss-kp-1 keypoint records (at most 20)",
    )


class AddSignalsOut(BaseModel):
    added: int


class CaseOut(BaseModel):
    case_code: str
    status: str
    signals: int
    quarantined: int
    matches: int
    reviews_open: int
    reviews_closed: int
    feedback_confirmed: int
    feedback_not_ncii: int
    notices_sent: int
    removed: int
    reappeared: int


class WithdrawIn(_In):
    """Her choice for the evidence the center captured (default: delete it too)."""

    center_evidence: Literal["keep", "delete"] = "delete"


class WithdrawOut(BaseModel):
    withdrawn: int  # hashes deleted everywhere
    center_evidence: Literal["keep", "delete"]  # her choice
    evidence_records: int  # captures the center held for the case (0: none)
    evidence_erased: bool  # True: their key destroyed and files deleted, backups unreadable


MAX_QUERY_SIGNALS = 16  # the query signals of one upload (ss-img-1 computes at most 7)
MAX_QUERY_KEYPOINT_SETS = MAX_QUERY_SETS  # ss-kp-1 query sets of one upload (hashing.keypoints)
KeypointRecordText = Annotated[str, Field(min_length=12, max_length=KEYPOINT_B64_MAX_CHARS)]
SIGNAL_SETS = Literal["ss-img-1"]


class QuerySignalIn(_In):
    value: str = Field(min_length=64, max_length=64, description="PDQ hash, 64 hex")
    quality: int = Field(ge=0, le=100, description="its PDQ quality, 0-100")


class MatchIn(_In):
    """One upload: a single signal (``type`` + ``value``), or the query signals of a signal
    set (``signal_set`` + ``query``, optionally the file's ``md5``). Answered once."""

    type: SignalKind | None = Field(default=None, description="pdq (64 hex) or md5 (32 hex)")
    value: str | None = Field(default=None, min_length=32, max_length=64)
    quality: int | None = Field(
        default=None, ge=0, le=100, description="pdq: its quality (under the floor: no match)"
    )
    signal_set: SIGNAL_SETS | None = Field(
        default=None, description="the signal set the query hashes were computed with"
    )
    query: list[QuerySignalIn] | None = Field(
        default=None, min_length=1, max_length=MAX_QUERY_SIGNALS
    )
    md5: str | None = Field(default=None, min_length=32, max_length=32, description="file MD5")
    keypoints: list[KeypointRecordText] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_QUERY_KEYPOINT_SETS,
        description="optional, with a signal set: the upload's ss-kp-1 query keypoint records"
        " (base64, at most 5: the upload, its mirror, its content block, up to 2 photo blocks;"
        " docs/api.md)",
    )

    @model_validator(mode="after")
    def _one_form(self) -> MatchIn:
        single_any = any(f is not None for f in (self.type, self.value, self.quality))
        set_any = any(
            f is not None for f in (self.signal_set, self.query, self.md5, self.keypoints)
        )
        single = self.type is not None and self.value is not None and not set_any
        signal_set = self.signal_set is not None and self.query is not None and not single_any
        stray_quality = self.quality is not None and self.type != "pdq"
        if not (single or signal_set) or stray_quality:
            raise PydanticCustomError(
                "match_form",
                "send type + value (+ quality for pdq), or signal_set + query (+ md5, + keypoints)",
            )
        return self


class MatchOut(BaseModel):
    match: bool
    ref: str | None = Field(default=None, description="opaque, per platform; null on no match")


class FeedbackIn(_In):
    ref: str = Field(max_length=64)
    verdict: Literal["confirmed", "not_ncii"]


class FeedbackStatusOut(BaseModel):
    """The center's decision on a platform's match (``GET /v1/feedback/{ref}``)."""

    ref: str
    decision: Literal["open", "confirmed", "not_ncii"]
    decided_at: datetime | None
    your_verdict: Literal["confirmed", "not_ncii"] | None
    hits: int


class HashOut(BaseModel):
    pdq: str
    quality: int
    md5: str
    match: bool
    ref: str | None = None


class OkOut(BaseModel):
    ok: bool = True


class ReadyOut(BaseModel):
    ok: bool = True
    ready: bool = True
    index_source: str  # "snapshot" (memory-mapped, change log replayed) or "database"


class HealthOut(BaseModel):
    ok: bool = True


class StatusOut(BaseModel):
    signals: int = Field(description="hashes in this process's index")
    change_seq: int = Field(description="the last change this process applied")


class ErrorOut(BaseModel):
    ok: bool = False
    error: str
    status: int


_WHY: dict[int, str] = {
    401: "no credential (API key or case secret)",
    403: "a wrong API key, or a wrong case code or secret",
    404: "not found",
    410: "the case was withdrawn",
    413: "the body is over this route's size limit",
    415: "not an image we decode, or a truncated one",
    422: "the body is not valid (the value is never echoed)",
    429: "over a rate limit; see Retry-After",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses, all in the one error shape."""
    return {code: {"model": ErrorOut, "description": _WHY[code]} for code in codes}
