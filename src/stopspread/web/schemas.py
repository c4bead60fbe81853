"""Request and response bodies of the HTTP API (pydantic models, shown in the OpenAPI)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AddSignalsIn",
    "AddSignalsOut",
    "CaseOut",
    "CreateCaseIn",
    "FeedbackIn",
    "HashOut",
    "HealthOut",
    "MatchIn",
    "MatchOut",
    "NewCaseOut",
    "OkOut",
    "ReadyOut",
    "SignalModel",
    "WithdrawOut",
]

SignalKind = Literal["pdq", "md5"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class SignalModel(_In):
    type: SignalKind = Field(description="pdq (64 hex) or md5 (32 hex)")
    value: str = Field(min_length=32, max_length=64)
    quality: int | None = Field(default=None, ge=0, le=100, description="PDQ quality, 0-100")


class CreateCaseIn(_In):
    signals: list[SignalModel] = Field(min_length=1)


class NewCaseOut(BaseModel):
    case_code: str
    secret: str = Field(description="shown once; keep it safe: it is needed to withdraw")
    signals: int


class AddSignalsIn(_In):
    signals: list[SignalModel] = Field(min_length=1)


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


class WithdrawOut(BaseModel):
    withdrawn: int


class MatchIn(_In):
    type: SignalKind
    value: str = Field(min_length=32, max_length=64)


class MatchOut(BaseModel):
    match: bool
    ref: str | None = Field(default=None, description="opaque, per platform; null on no match")


class FeedbackIn(_In):
    ref: str = Field(max_length=64)
    verdict: Literal["confirmed", "not_ncii"]


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
    signals: int
    change_seq: int
