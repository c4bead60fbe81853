"""Which data a process uses: the database (password hidden), the evidence folder, the schema
revision, whether set-up is done. ``stopspread db status`` prints it; ``serve`` starts with it.

Reading the status changes nothing: a SQLite file that does not exist yet is reported as such,
not created.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from stopspread.config import Settings
from stopspread.evidence.crypto import KEY_FILE
from stopspread.evidence.files import EVIDENCE_DIR
from stopspread.storage import Database, current_revision, head_revision
from stopspread.storage.models_worker import Worker, WorkerRole

__all__ = ["DataStatus", "data_status", "redacted_url", "sqlite_file"]


@dataclass(frozen=True, slots=True)
class DataStatus:
    database: str  # the URL, any password replaced by ***
    data_dir: Path
    evidence_dir: Path
    evidence_key: str  # "setting", the key file's path, or "not made yet (...)"
    hash_key: str  # "off (...)", "setting", the key file's path, or "not made yet (...)"
    exists: bool  # False: a SQLite file not created yet
    revision: str | None
    head: str
    admin_exists: bool

    @property
    def up_to_date(self) -> bool:
        return self.revision == self.head


def redacted_url(url: str) -> str:
    """A database URL with any password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a valid database URL)"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases or an in-memory one)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _admin_exists(db: Database) -> bool:
    with db.read() as session:
        query = select(Worker.id).where(Worker.role == WorkerRole.ADMIN).limit(1)
        return session.scalars(query).first() is not None


def _hash_key(settings: Settings) -> str:
    path = settings.hash_key_path
    if not settings.seal_hashes:
        return "off: hash values stored in the clear (seal_hashes = false)"
    if settings.hash_key:
        return "from the STOPSPREAD_HASH_KEY setting"
    return str(path) if path.is_file() else f"not made yet (made at the first start: {path})"


def data_status(settings: Settings) -> DataStatus:
    url = settings.url
    data_dir = Path(settings.data_dir)
    key_file = data_dir / KEY_FILE
    if settings.evidence_key:
        key = "from the STOPSPREAD_EVIDENCE_KEY setting"
    elif key_file.is_file():
        key = str(key_file)
    else:
        key = f"not made yet (made at the first capture: {key_file})"
    status = DataStatus(
        database=redacted_url(url), data_dir=data_dir, evidence_dir=data_dir / EVIDENCE_DIR,
        evidence_key=key, hash_key=_hash_key(settings), exists=False, revision=None,
        head=head_revision(), admin_exists=False,
    )  # fmt: skip
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        return status
    db = Database(url)
    try:
        revision = current_revision(db)
        admin = revision is not None and _admin_exists(db)
    finally:
        db.dispose()
    return DataStatus(
        database=status.database, data_dir=data_dir, evidence_dir=status.evidence_dir,
        evidence_key=key, hash_key=status.hash_key, exists=True, revision=revision,
        head=status.head, admin_exists=admin,
    )  # fmt: skip
