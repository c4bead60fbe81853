"""Everything the use cases need, built once from :class:`~stopspread.config.Settings`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from stopspread.config import Settings
from stopspread.errors import ConfigError
from stopspread.services.hitbook import HitBook
from stopspread.services.keys import SecretHasher, new_server_key
from stopspread.services.match_policy import MatchPolicy, build_policy
from stopspread.services.ratelimit import DailyQuota, KeyedLimiter
from stopspread.services.replica import IndexReplica
from stopspread.services.workers.signin_throttle import SignInThrottle
from stopspread.storage import current_revision, upgrade
from stopspread.storage.db import Database
from stopspread.storage.models import Meta
from stopspread.storage.sealing import load_hash_sealer
from stopspread.storage.sealing_check import verify_hash_key

__all__ = [
    "SERVER_KEY_NAME",
    "Database",
    "Services",
    "build_services",
    "open_database",
    "schema_revision",
    "seal_hash_values",
    "server_key",
]

SERVER_KEY_NAME = "ref_hmac_key"
SECONDS_PER_MINUTE = 60.0


@dataclass(slots=True)
class Services:
    settings: Settings
    db: Database
    policy: MatchPolicy  # the one match policy (services/match_policy.py), from settings
    replica: IndexReplica
    hasher: SecretHasher
    server_key: str
    address_limiter: KeyedLimiter  # secret attempts per client address
    client_limiter: KeyedLimiter  # platform requests per API key
    client_quota: DailyQuota  # platform requests per API key per UTC day
    code_limiter: KeyedLimiter  # wrong secrets per case code, known or not (per process)
    signin: SignInThrottle  # workers' wrong passwords per name and address (per process)
    hitbook: HitBook  # what a hit answers, decided in memory (services/hitbook.py)
    # the first three are per process, or shared by every process when ``limits_url`` is set


def server_key(db: Database, configured: str | None) -> str:
    """The HMAC key for match refs: the setting, else one generated once and kept in the DB."""
    if configured:
        return configured
    with db.read() as session:
        row = session.get(Meta, SERVER_KEY_NAME)
        if row is not None:
            return row.value
    try:
        with db.write() as (session, _head):
            if session.get(Meta, SERVER_KEY_NAME) is None:
                session.add(Meta(key=SERVER_KEY_NAME, value=new_server_key()))
    except IntegrityError:  # another process created it first; use theirs
        pass
    with db.read() as session:
        stored = session.get(Meta, SERVER_KEY_NAME)
        if stored is None:
            raise RuntimeError("the server key was not stored")  # database misbehaving
        return stored.value


def build_services(settings: Settings, db: Database | None = None) -> Services:
    """Connect, and build the use cases' shared state (the index is loaded by the caller)."""
    db = db or Database.from_settings(settings)
    verify_hash_key(db)  # HashKeyError: sealed values but no key, or another key
    per_minute = settings.address_attempts_per_minute
    address_rate, address_burst = per_minute / SECONDS_PER_MINUTE, max(per_minute, 1.0)
    if settings.limits_url:
        from stopspread.services import limits_shared as shared

        limiter = shared.connect(settings.limits_url)
        address_limiter: KeyedLimiter = shared.SharedKeyedLimiter(
            limiter, "address", address_rate, address_burst
        )
        client_limiter: KeyedLimiter = shared.SharedKeyedLimiter(
            limiter, "client", settings.client_rate_per_s, settings.client_burst
        )
        client_quota: DailyQuota = shared.SharedDailyQuota(
            limiter, "quota", settings.client_daily_quota
        )
    else:
        address_limiter = KeyedLimiter(address_rate, address_burst)
        client_limiter = KeyedLimiter(settings.client_rate_per_s, settings.client_burst)
        client_quota = DailyQuota(settings.client_daily_quota)
    policy = build_policy(settings)
    return Services(
        settings=settings,
        db=db,
        policy=policy,
        replica=IndexReplica(db, settings.index_kind, policy),
        hasher=SecretHasher(settings.argon2_time_cost, settings.argon2_memory_kib),
        server_key=server_key(db, settings.secret_key),
        address_limiter=address_limiter,
        client_limiter=client_limiter,
        client_quota=client_quota,
        code_limiter=KeyedLimiter(
            settings.case_attempts_per_minute / SECONDS_PER_MINUTE,
            max(settings.case_attempts_per_minute, 1.0),
        ),
        signin=SignInThrottle(settings.worker_login_attempts, settings.worker_lockout_s),
        hitbook=HitBook(settings.quarantine_min_matches, settings.quarantine_window_s),
    )


def seal_hash_values(settings: Settings) -> int:
    """``stopspread db seal``: the database migrated, then every hash value still in the clear
    sealed (idempotent: 0 the second time); how many were sealed.
    :class:`~stopspread.errors.HashKeyError` when the key is not the database's."""
    from stopspread.services.data_status import redacted_url

    if not settings.seal_hashes:
        raise ConfigError("hash sealing is off (seal_hashes = false): nothing to seal with")
    shown = redacted_url(settings.url)
    try:
        db = Database.from_settings(settings)
        upgrade(db)
    except (SQLAlchemyError, OSError) as exc:
        raise _unopenable(shown, exc) from exc
    try:
        return verify_hash_key(db, seal_all=True)
    finally:
        db.dispose()


def open_database(url: str, shown_as: str, settings: Settings | None = None) -> Database:
    """The database at ``url``, migrated to the latest schema; one :class:`ConfigError` naming
    it (as ``shown_as``, its password hidden) when it cannot be opened."""
    try:
        db = Database(url, None if settings is None else load_hash_sealer(settings))
    except (SQLAlchemyError, OSError) as exc:
        raise _unopenable(shown_as, exc) from exc
    try:
        upgrade(db)
        verify_hash_key(db)
    except (SQLAlchemyError, OSError) as exc:
        db.dispose()
        raise _unopenable(shown_as, exc) from exc
    except ConfigError:
        db.dispose()
        raise
    return db


def schema_revision(db: Database) -> str | None:
    """The schema revision the database is at."""
    return current_revision(db)


def _unopenable(shown_as: str, exc: Exception) -> ConfigError:
    first_line = str(exc).splitlines()[0][:200] if str(exc) else ""
    return ConfigError(f"cannot open the database {shown_as}: {type(exc).__name__}: {first_line}")
