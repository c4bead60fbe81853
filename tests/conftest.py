"""Shared fixtures: the reference test data (``tests/data``), synthetic images, services."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stopspread.config import Settings
from stopspread.services.context import Services, build_services
from stopspread.storage import Database, upgrade

# pytester runs pytest on small test files (tests/test_skipguard.py); skipguard makes every
# skip a failure unless the test is marked platform_dependent (see tests/skipguard.py);
# tests.browser gives the session's Chromium and saves a failed test's pages (tests/browser.py).
pytest_plugins = ("pytester", "tests.skipguard", "tests.browser")
# The tests never touch the real per-user data folder: settings without a data_dir (and every
# `stopspread` subprocess) land in this throwaway XDG data home instead. test_config checks it.
TEST_DATA_HOME = Path(tempfile.mkdtemp(prefix="stopspread-xdg-"))
os.environ["XDG_DATA_HOME"] = str(TEST_DATA_HOME)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Meta's reference images, videos and hashes, committed with the tests (see its README.md).
TESTDATA = PROJECT_ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def testdata() -> Path:
    """``tests/data``: the reference test data, always part of the checkout."""
    return TESTDATA


def synthetic_rgb(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth, photo-like synthetic image (never a real photograph)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    img = np.zeros((height, width, 3))
    for _ in range(6):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.1, 0.5) * max(width, height)
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
        img += blob[..., None] * rng.uniform(-120, 160, 3)
    img += 60 * np.sin(x / (width / rng.uniform(2, 9)))[..., None]
    # mid-frequency texture, so that PDQ's quality is high (> 50) as for real photos
    img += (
        35 * (np.sin(x / (width / 40) + rng.uniform(0, 6)) * np.cos(y / (height / 30)))[..., None]
    )
    img += rng.normal(0, 4, img.shape)
    return np.clip(img + 90, 0, 255).astype(np.uint8)


def encode(array: np.ndarray, fmt: str = "JPEG", **save_args: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, fmt, **save_args)
    return buf.getvalue()


@pytest.fixture
def make_image() -> Callable[..., np.ndarray]:
    return synthetic_rgb


@pytest.fixture
def jpeg_bytes() -> bytes:
    return encode(synthetic_rgb(800, 600, seed=3), "JPEG", quality=90)


# --- the service: databases (SQLite and PostgreSQL), settings ---------------------------

from tests.dbtemplate import seed  # noqa: E402
from tests.pg import pg_cluster  # noqa: E402, F401  (the session-wide PostgreSQL fixture)


@pytest.fixture
def migrated_database() -> None:
    """Asked for (by a test, a fixture or ``usefixtures``): ``database_url`` is then a copy of
    a database migrated once per session, not an empty one (tests/dbtemplate.py)."""


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of the test's own: a SQLite file, or a new database on the test
    cluster; empty, or already migrated when the test uses ``migrated_database``."""
    migrated = "migrated_database" in request.fixturenames
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        if migrated:
            seed(url)
        yield url
        return
    cluster = request.getfixturevalue("pg_cluster")
    url = cluster.new_database(migrated=migrated)
    yield url
    cluster.drop_database(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


def fast_settings(url: str, tmp_path: Path, **changes: object) -> Settings:
    """Settings for tests: cheap argon2, quick polling, the given database."""
    base = Settings(
        data_dir=tmp_path,
        database_url=url,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        index_poll_interval_s=0.05,
    )
    return base.replace(**changes)


def random_pdq(rng: np.random.Generator) -> str:
    return rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()


def flip_bits(hex_value: str, n: int, rng: np.random.Generator) -> str:
    """The hash with ``n`` distinct bits flipped (a near-duplicate at distance ``n``)."""
    bits = np.unpackbits(np.frombuffer(bytes.fromhex(hex_value), dtype=np.uint8))
    bits[rng.choice(256, n, replace=False)] ^= 1
    return np.packbits(bits).tobytes().hex()


@pytest.fixture
def services(database_url: str, tmp_path: Path, migrated_database: None) -> Iterator[Services]:
    """Migrated database + use-case services with a loaded (empty) index."""
    svc = make_services(database_url, tmp_path)
    yield svc
    svc.db.dispose()


def make_services(url: str, tmp_path: Path, **changes: object) -> Services:
    """Services as production builds them: hash values sealed (the default) unless
    ``seal_hashes=False`` is among ``changes``."""
    settings = fast_settings(url, tmp_path, **changes)
    seed(url)  # a copy of a database migrated once per session (tests/dbtemplate.py)
    db = Database.from_settings(settings)
    upgrade(db)
    svc = build_services(settings, db)
    svc.replica.load()
    return svc
