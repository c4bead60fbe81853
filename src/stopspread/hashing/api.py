"""Hash one image, or many on every core.

``hash_image`` accepts a path, the file's bytes, or a Pillow image; the three
give the same hash for the same file. ``hash_many`` runs on a thread pool (the
decoder and the PDQ core release the GIL) and yields one result per input, in
input order, each carrying either hashes or a typed error.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Generator, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from stopspread.errors import MediaError
from stopspread.hashing.budget import DecodeBudget
from stopspread.hashing.decode import (
    DEFAULT_LIMITS,
    DecodeLimits,
    ImageSource,
    open_source,
)
from stopspread.hashing.digest import FileDigests, digest_bytes
from stopspread.hashing.dihedral import Dihedral, dihedral_hashes
from stopspread.hashing.image import Pipeline, dct_for_image
from stopspread.hashing.pdq import PDQ_MIN_QUALITY, PdqHash, hash_from_dct

__all__ = ["BatchItem", "ImageHashes", "hash_image", "hash_many"]


@dataclass(frozen=True, slots=True)
class ImageHashes:
    """Everything computed for one image.

    ``variants`` holds the eight dihedral hashes (original included) when they
    were asked for, else it is empty. ``digests`` is ``None`` only for input
    given as a Pillow image (there are no file bytes to digest).
    """

    pdq: PdqHash
    quality: int
    width: int
    height: int
    pipeline: Pipeline
    variants: Mapping[Dihedral, PdqHash] = field(default_factory=dict)
    digests: FileDigests | None = None

    @property
    def low_quality(self) -> bool:
        """Quality under 50: the hash is unreliable; report it, don't hide it."""
        return self.quality < PDQ_MIN_QUALITY


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One input of :func:`hash_many`: its hashes, or the error that stopped it."""

    source: ImageSource
    hashes: ImageHashes | None = None
    error: MediaError | None = None


def hash_image(
    source: ImageSource,
    *,
    pipeline: Pipeline = Pipeline.REFERENCE,
    dihedral: bool = False,
    digests: bool = True,
    limits: DecodeLimits = DEFAULT_LIMITS,
    budget: DecodeBudget | None = None,
) -> ImageHashes:
    """PDQ (and optionally its dihedral variants) plus MD5/SHA-256 of one image.

    ``digests=False`` skips MD5/SHA-256 (``ImageHashes.digests`` is then ``None``).
    ``budget``: a process-wide :class:`DecodeBudget` held while the pixels are decoded.

    Raises :class:`~stopspread.errors.MediaError` subclasses for input that is
    too large, not an image, or damaged.
    """
    image, data = open_source(source, limits)
    file_digests = digest_bytes(data) if digests and data is not None else None
    width, height = image.size
    with budget.hold(width * height) if budget is not None else contextlib.nullcontext():
        dct, quality = dct_for_image(image, pipeline)
    if width < 5 or height < 5:  # the reference hashes tiny images to zeros
        pdq = PdqHash(bytes(32))
        variants: Mapping[Dihedral, PdqHash] = dict.fromkeys(Dihedral, pdq) if dihedral else {}
    elif dihedral:
        variants = dihedral_hashes(dct)
        pdq = variants[Dihedral.ORIGINAL]
    else:
        pdq, variants = hash_from_dct(dct), {}
    return ImageHashes(pdq, quality, width, height, pipeline, variants, file_digests)


def _hash_one(
    source: ImageSource, pipeline: Pipeline, dihedral: bool, limits: DecodeLimits
) -> BatchItem:
    try:
        return BatchItem(
            source, hash_image(source, pipeline=pipeline, dihedral=dihedral, limits=limits)
        )
    except MediaError as exc:
        return BatchItem(source, error=exc)


def hash_many(
    sources: Iterable[ImageSource],
    *,
    workers: int | None = None,
    pipeline: Pipeline = Pipeline.REFERENCE,
    dihedral: bool = False,
    limits: DecodeLimits = DEFAULT_LIMITS,
) -> Generator[BatchItem, None, None]:
    """Hash many images on ``workers`` threads (default: every core), in input order.

    At most ``2 * workers`` images are in flight, so an endless or very large
    iterable is consumed lazily and memory stays bounded. A caller that stops before the
    end closes the iterator (``contextlib.closing``): that ends the pool's threads at once.
    Left to the garbage collector, the pool is shut down wherever the collector happens to
    run — once inside a new thread's start-up, which hung the process.
    """
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n < 1:
        raise ValueError("workers must be at least 1")
    if n == 1:
        for source in sources:
            yield _hash_one(source, pipeline, dihedral, limits)
        return
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="stopspread-hash") as pool:
        pending: deque[Future[BatchItem]] = deque()
        for source in sources:
            pending.append(pool.submit(_hash_one, source, pipeline, dihedral, limits))
            if len(pending) >= 2 * n:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
