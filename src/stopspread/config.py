"""Settings: one typed object, built once from the environment and an optional TOML file.

Nothing here runs at import time: the CLI calls :func:`load_settings` in ``main()`` and
passes the result down; tests build :class:`Settings` directly. Precedence, highest first:
``STOPSPREAD_<NAME>`` environment variables, the TOML file (``STOPSPREAD_CONFIG`` or
``--config``), the defaults below. Every field is documented in ``docs/configuration.md``
(a test checks it).

Where data lives: ``data_dir`` when set (``STOPSPREAD_DATA_DIR`` or the TOML file; a relative
path is taken from the working directory once, when the settings are loaded), else the
per-user data folder that :mod:`platformdirs` names (``~/.local/share/stopspread`` on Linux).
So the CLI and the server find the same database and evidence whatever folder they run in.
"""

from __future__ import annotations

import dataclasses
import enum
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import platformdirs

from stopspread.errors import ConfigError

__all__ = [
    "APP_NAME",
    "ENV_PREFIX",
    "IndexKind",
    "JournalSync",
    "Settings",
    "SmtpSecurity",
    "default_data_dir",
    "load_settings",
]

ENV_PREFIX: Final = "STOPSPREAD_"
APP_NAME: Final = "stopspread"


def default_data_dir() -> Path:
    """The per-user data folder (``$XDG_DATA_HOME/stopspread``, ``~/.local/share/stopspread``
    on Linux): used when no ``data_dir`` is set. Read when settings are built, never at import."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


class IndexKind(enum.StrEnum):
    """Which :class:`~stopspread.matching.HashIndex` implementation the service holds."""

    BRUTE = "brute"  # the linear-scan oracle: fine up to ~100k hashes
    MIH = "mih"  # the fast exact multi-index-hashing index


class JournalSync(enum.StrEnum):
    """When a match answer leaves, relative to its journal record (services/journal.py)."""

    FSYNC = "fsync"  # after the record's batch is synced: an acknowledged hit is durable
    WRITE_BEHIND = "write_behind"  # before it is written: only a negative control for tests


class SmtpSecurity(enum.StrEnum):
    """How the connection to the SMTP server that sends takedown notices is protected."""

    STARTTLS = "starttls"  # plain connect, then STARTTLS (required: never falls back to plain)
    SSL = "ssl"  # TLS from the first byte (port 465)
    NONE = "none"  # no TLS: only for a relay on this machine; passwords are refused over it


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of the service. Field names are the lower-case ``STOPSPREAD_*`` names."""

    data_dir: Path = dataclasses.field(default_factory=default_data_dir)
    database_url: str | None = None  # None: SQLite file ``<data_dir>/stopspread.db``
    host: str = "127.0.0.1"
    port: int = 8000
    forwarded_allow_ips: str | None = None  # proxies whose X-Forwarded-For is believed; None: none
    workers: int = 1
    log_level: str = "info"
    index_kind: IndexKind = IndexKind.BRUTE
    index_poll_interval_s: float = 0.25  # changes are live within 1 s: poll at most every 0.5 s
    index_snapshot_dir: Path | None = None  # None: <data_dir>/snapshots (index_kind mih only)
    index_snapshot_interval_s: float = 600.0  # write a snapshot this often if changed; 0: never
    # the one match policy (matching/policy.py, built by services/match_policy.py): every
    # path (platform API, scans, follow-up) matches images and videos by these (issue 14)
    match_radius: int = 29  # image PDQ, bits: 0 false matches on the corpus (robustness.md)
    match_min_enrolled_quality: int = 70  # enrolled PDQ hashes under this never match
    match_min_query_quality: int = 50  # query PDQ hashes under this are not looked up
    # /v1/match: a PDQ hit within this many bits of match_radius answers "match" only with a
    # probability falling towards the radius, fixed per key and query (services/probing.py)
    match_edge_blur_bits: int = 0  # 0: off (it costs recall: docs/security.md)
    video_frame_radius: int = 31  # a video frame matches within this many bits (vPDQ)
    video_match_percent: float = 80.0  # % of a download's distinct frames that must match
    video_sequence_radius: int = 48  # frames this close count when matched in order (video.md)
    video_sequence_frames: int = 3  # ... and at least this many of them
    secret_key: str | None = None  # HMAC key for match refs; None: generated once, kept in the DB
    client_rate_per_s: float = 50.0
    client_burst: int = 100
    client_daily_quota: int = 1_000_000
    limits_url: str | None = None  # redis://host:6379/0: limits shared by all processes
    case_attempts_per_minute: float = 5.0
    address_attempts_per_minute: float = 30.0
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65_536
    upload_max_bytes: int = 20 * 1024 * 1024
    upload_max_pixels: int = 25_000_000  # /v1/hash: larger images are refused from the header
    decode_memory_mib: int = 1024  # /v1/hash: estimated decode memory in use at once, per process
    quarantine_window_s: int = 3600
    quarantine_min_matches: int = 100
    quarantine_factor: float = 10.0
    quarantine_min_platforms: int = 3  # distinct API keys before a signal is quarantined for all
    journal_dir: Path | None = None  # None: <data_dir>/journal (match answers' durable records)
    journal_sync: JournalSync = JournalSync.FSYNC  # write_behind: a test's negative control only
    journal_apply_interval_s: float = 0.05  # how often journalled hits reach the database
    max_signals_per_request: int = 1000
    # /v1/match with ss-kp-1 keypoints (issue 14): the vocabulary (None: the shipped
    # ss-kp-vocab-2) and the photos verified per query; 0 turns the keypoint path off
    keypoint_vocabulary_dir: Path | None = None
    keypoint_shortlist: int = 4
    enrol_signals_per_address_per_hour: float = 5000.0  # anonymous enrolment, per process
    enrol_signals_per_hour: float = 100_000.0  # every address together, per process
    enrol_flag_signals: float = 2000.0  # an address's hour past this: flagged for review
    # takedown notices (issue 9): SMTP, the center's host registry, answer deadlines
    smtp_host: str | None = None  # None: notices are exported, not sent
    smtp_port: int = 587
    smtp_security: SmtpSecurity = SmtpSecurity.STARTTLS
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None  # the sender address notices come from (and replies go to)
    smtp_timeout_s: float = 30.0
    hosts_file: Path | None = None  # the center's own host registry, merged over the shipped one
    centers_file: Path | None = None  # the centers survivor pages name (issue 16); None: no list
    takedown_deadline_kr_hours: float = 24.0
    takedown_deadline_us_hours: float = 48.0  # TAKE IT DOWN Act: removal within 48 hours
    takedown_deadline_default_hours: float = 72.0
    takedown_check_interval_s: float = 6 * 3600.0  # the web app re-checks requests; 0: never
    evidence_key: str | None = None  # base64 of 32 bytes; None: <data_dir>/evidence.key (0600)
    seal_hashes: bool = True  # hash values encrypted at rest (AES-SIV), key outside the database
    hash_key: str | None = None  # base64 of 64 bytes; None: the key file (hash_key_file)
    hash_key_file: Path | None = None  # None: <data_dir>/hash.key (created 0600, folder 0700)
    worker_session_ttl_s: int = 8 * 3600  # a worker's sign-in lasts one working day
    worker_login_attempts: int = 5  # wrong passwords in a row before the account locks
    worker_lockout_s: int = 900  # how long it stays locked
    # scans: fetching (sources/fetch.py) and crawling (sources/crawl.py)
    fetch_allow_loopback: bool = False  # tests only: loopback targets; private ranges never
    fetch_max_bytes: int = 50 * 1024 * 1024  # per download; cut off beyond
    fetch_timeout_s: float = 60.0  # the whole download, body included
    fetch_connect_timeout_s: float = 10.0
    fetch_read_timeout_s: float = 15.0  # one network read
    fetch_max_redirects: int = 5
    fetch_host_interval_s: float = 1.0  # at least this long between requests to one host
    fetch_user_agent: str = "StopSpread/0.1 (+https://stopspread.example/crawler)"
    crawl_max_depth: int = 3  # links followed from the start page
    crawl_max_pages: int = 200  # pages fetched per crawl
    scan_scheduler_interval_s: float = 30.0  # how often the web app looks for due scans; 0: never

    @property
    def url(self) -> str:
        """The SQLAlchemy URL: ``database_url`` or the default SQLite file in ``data_dir``."""
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'stopspread.db').resolve()}"

    @property
    def snapshot_dir(self) -> Path:
        """Where index snapshots are kept: ``index_snapshot_dir`` or ``<data_dir>/snapshots``."""
        if self.index_snapshot_dir is not None:
            return self.index_snapshot_dir
        return self.data_dir / "snapshots"

    @property
    def match_journal_dir(self) -> Path:
        """Where match answers are journalled: ``journal_dir`` or ``<data_dir>/journal``."""
        return self.journal_dir if self.journal_dir is not None else self.data_dir / "journal"

    @property
    def hash_key_path(self) -> Path:
        """The hash key file (``seal_hashes``): ``hash_key_file`` or ``<data_dir>/hash.key``."""
        return self.hash_key_file if self.hash_key_file is not None else self.data_dir / "hash.key"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _fields() -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in dataclasses.fields(Settings)}


# the Path | None settings
_OPTIONAL_PATHS: Final = frozenset(
    {
        "hosts_file",
        "centers_file",
        "index_snapshot_dir",
        "journal_dir",
        "hash_key_file",
        "keypoint_vocabulary_dir",
    }
)


def _coerce(name: str, raw: Any) -> Any:
    default = Settings.__dataclass_fields__[name].default
    try:
        if name == "data_dir":  # explicit: from the working directory of this process, once
            if raw in ("", None):
                raise ValueError("empty")
            return Path(str(raw)).expanduser().resolve()
        if isinstance(default, enum.Enum):
            return type(default)(str(raw).lower())
        if isinstance(default, bool):
            return _boolean(raw)
        if isinstance(default, Path) or name in _OPTIONAL_PATHS:
            return None if raw in ("", None) else Path(str(raw))
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        return None if raw in ("", None) else str(raw)
    except ValueError as exc:
        raise ConfigError(f"setting {name}: invalid value") from exc


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(text)


def load_settings(environ: Mapping[str, str], config_file: Path | None = None) -> Settings:
    """Build :class:`Settings` from a TOML file (optional) and ``STOPSPREAD_*`` variables."""
    values: dict[str, Any] = {}
    known = _fields()
    env_file = environ.get(ENV_PREFIX + "CONFIG")
    path = config_file or (Path(env_file) if env_file else None)
    if path is not None:
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
        for key, raw in table.items():
            if key not in known:
                raise ConfigError(f"unknown setting {key!r} in {path}")
            values[key] = _coerce(key, raw)
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX) or key == ENV_PREFIX + "CONFIG":
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name not in known:
            raise ConfigError(f"unknown setting {key}")
        values[name] = _coerce(name, raw)
    settings = Settings(**values)
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    if not 0 < settings.index_poll_interval_s <= 0.5:
        raise ConfigError("index_poll_interval_s must be in (0, 0.5]: changes are live within 1 s")
    if not 0 <= settings.keypoint_shortlist <= 64:
        raise ConfigError("keypoint_shortlist must be between 0 (off) and 64 photos")
    if not 0 <= settings.match_radius <= 64:
        raise ConfigError("match_radius must be between 0 and 64 bits")
    if not 0 <= settings.match_edge_blur_bits <= min(8, settings.match_radius):
        raise ConfigError("match_edge_blur_bits must be between 0 (off) and 8, at most the radius")
    if not 0 <= settings.video_frame_radius <= 64:
        raise ConfigError("video_frame_radius must be between 0 and 64 bits")
    if not 0 < settings.video_match_percent <= 100:
        raise ConfigError("video_match_percent must be in (0, 100]")
    if not settings.video_frame_radius <= settings.video_sequence_radius <= 64:
        raise ConfigError("video_sequence_radius must be between video_frame_radius and 64 bits")
    if settings.video_sequence_frames < 1:
        raise ConfigError("video_sequence_frames must be at least 1")
    qualities = (settings.match_min_enrolled_quality, settings.match_min_query_quality)
    if not all(0 <= q <= 100 for q in qualities):
        raise ConfigError("match_min_enrolled_quality and match_min_query_quality are 0-100")
    if settings.workers < 1:
        raise ConfigError("workers must be at least 1")
    if not 0 < settings.journal_apply_interval_s <= 1:
        raise ConfigError("journal_apply_interval_s must be in (0, 1]")
    if not 0 < settings.smtp_port < 65536:
        raise ConfigError("smtp_port must be between 1 and 65535")
    deadlines = (
        settings.takedown_deadline_kr_hours,
        settings.takedown_deadline_us_hours,
        settings.takedown_deadline_default_hours,
    )
    if any(hours <= 0 for hours in deadlines):
        raise ConfigError("takedown deadlines must be more than 0 hours")
    if settings.index_snapshot_interval_s < 0:
        raise ConfigError("index_snapshot_interval_s must be >= 0 (0: never)")
    if settings.takedown_check_interval_s < 0:
        raise ConfigError("takedown_check_interval_s must be >= 0 (0: never)")
    if min(settings.worker_session_ttl_s, settings.worker_login_attempts) < 1:
        raise ConfigError("worker_session_ttl_s and worker_login_attempts must be at least 1")
    if min(settings.upload_max_pixels, settings.decode_memory_mib) < 1:
        raise ConfigError("upload_max_pixels and decode_memory_mib must be at least 1")
    if settings.quarantine_min_platforms < 1 or settings.quarantine_min_matches < 1:
        raise ConfigError("quarantine_min_platforms and quarantine_min_matches must be >= 1")
    if settings.worker_lockout_s < 0:
        raise ConfigError("worker_lockout_s must be >= 0")
    if (
        min(settings.fetch_max_bytes, settings.crawl_max_pages) < 1
        or settings.fetch_max_redirects < 0
    ):
        raise ConfigError("fetch_max_bytes and crawl_max_pages must be >= 1, redirects >= 0")
    if min(settings.fetch_timeout_s, settings.fetch_connect_timeout_s) <= 0:
        raise ConfigError("fetch timeouts must be positive")
