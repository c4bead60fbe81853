"""The evidence package of a case: one ZIP with the report PDF, its WARC files and a manifest.

The ZIP holds::

    report-<CASE>-<lang>.pdf        the evidence report, prepared by a named person
    warc/evidence-<id>-<kind>.warc  every WARC file the report lists, decrypted (plaintext)
    manifest.json                   the digests with sizes, the case, who, when, the log head
    manifest-sha256.txt             "<sha256>  <path>" per file, manifest.json included:
                                    ``sha256sum -c`` checks every other file of the ZIP

The PDF's section 6 lists exactly the WARC files in the ZIP, with the same SHA-256 digests
(the digests the evidence log recorded when each capture was taken); each WARC file is
checked against its digest as it is decrypted. Making a package is an audit event.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Final

from stopspread.errors import NotFoundError
from stopspread.languages import Language
from stopspread.report.pdf import render_report
from stopspread.services import audit
from stopspread.services.case_report import build_report, warc_name
from stopspread.services.context import Services
from stopspread.services.custody.store import EvidenceStore
from stopspread.services.removal.workflow import center_name
from stopspread.services.workers import review
from stopspread.services.workers.accounts import WorkerIdentity
from stopspread.services.workers.profile import author_name

__all__ = [
    "MANIFEST_JSON",
    "MANIFEST_TXT",
    "EvidencePackage",
    "PackageFile",
    "package_for_worker",
    "write_package",
]

MANIFEST_TXT: Final = "manifest-sha256.txt"
MANIFEST_JSON: Final = "manifest.json"
WARC_FOLDER: Final = "warc"


@dataclass(frozen=True, slots=True)
class PackageFile:
    path: str  # inside the ZIP, "/"-separated
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class EvidencePackage:
    """What was written: the case code, a file name for the ZIP, and every file in it."""

    code: str
    file_name: str
    files: list[PackageFile]
    verified: bool  # the evidence log verified just before the report was made


def _add(archive: zipfile.ZipFile, path: str, data: bytes, *, compress: bool) -> PackageFile:
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    archive.writestr(path, data, compress_type=method)
    return PackageFile(path, hashlib.sha256(data).hexdigest(), len(data))


def _manifest_txt(files: list[PackageFile]) -> bytes:
    return "".join(f"{f.sha256}  {f.path}\n" for f in files).encode()


def _manifest_json(meta: dict[str, object], files: list[PackageFile]) -> bytes:
    listed = [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in files]
    return json.dumps({**meta, "files": listed}, ensure_ascii=False, indent=2).encode()


def write_package(
    svc: Services,
    store: EvidenceStore,
    case_id: int,
    target: IO[bytes],
    *,
    language: Language,
    center: str,
    author: str,
    logged_as: str | None = None,
    survivor_name: str | None = None,
    now: datetime | None = None,
    blurred_previews: bool = False,
) -> EvidencePackage:
    """Write the package of ``case_id`` as a ZIP into ``target`` (a file open for writing).

    ``author`` is the person the PDF and the manifest name (a worker's real name from her
    profile); the audit event records ``logged_as`` (her sign-in name) when given.

    Raises :class:`NotFoundError` (no such case), :class:`EvidenceError` (a WARC file does
    not match its recorded digest), :class:`ReportError` (the PDF could not be made).
    """
    at = (now or datetime.now(UTC)).astimezone(UTC)
    report, records = build_report(
        svc, store, case_id, language=language, center=center, worker=author,
        survivor_name=survivor_name, now=at, blurred_previews=blurred_previews,
    )  # fmt: skip
    code = report.case.code
    pdf_name = f"report-{code}-{language.value}.pdf"
    with zipfile.ZipFile(target, "w") as archive:
        files = [_add(archive, pdf_name, render_report(report), compress=True)]
        for row in records:
            path = f"{WARC_FOLDER}/{warc_name(row)}"
            files.append(_add(archive, path, store.open_warc(row), compress=False))
        meta: dict[str, object] = {
            "case": code,
            "language": language.value,
            "prepared_by": author,
            "center": center,
            "generated_at": at.isoformat(),
            "evidence_log": {
                "verified": report.proof.verified,
                "entries": report.proof.entries,
                "chain_head": report.proof.chain_head,
            },
        }
        manifest = _add(archive, MANIFEST_JSON, _manifest_json(meta, files), compress=True)
        archive.writestr(MANIFEST_TXT, _manifest_txt([*files, manifest]))
    with svc.db.write() as (session, head):
        payload = {
            "case": case_id, "language": language.value, "by": (logged_as or author)[:100],
            "files": len(files),
        }  # fmt: skip
        audit.append(session, head, audit.AuditKind.EVIDENCE_PACKAGE_MADE, payload)
    name = f"evidence-package-{code}-{language.value}-{at:%Y%m%d}.zip"
    return EvidencePackage(code, name, files, report.proof.verified)


def package_for_worker(
    svc: Services, who: WorkerIdentity, case_id: int, language: Language, target: IO[bytes]
) -> EvidencePackage:
    """The package of a case of her own center, prepared by her (the download button).

    A case of another center, or no case at all, is :class:`NotFoundError`. The evidence
    key must exist already (a download never creates one).
    """
    if case_id not in {c.id for c in review.list_cases(svc, who)}:
        raise NotFoundError("no such case")
    store = EvidenceStore.from_settings(svc.settings, svc.db, create_key=False)
    center = center_name(svc, who.center_id)
    return write_package(
        svc, store, case_id, target, language=language, center=center,
        author=author_name(svc, who), logged_as=who.username,
    )  # fmt: skip
