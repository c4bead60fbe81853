"""Index snapshots on disk: a small JSON header and the raw arrays, nothing executable.

File layout (all integers little-endian)::

    0   8 bytes   magic  b"SSMIH\\x00\\r\\n"
    8   uint32    format version (1)
    12  uint32    header length H in bytes
    16  H bytes   header, UTF-8 JSON (below)
        ...       zero padding; every array starts at a multiple of 64 bytes

The header lists the segments in order; the last one, without tables, is the delta (a
snapshot taken during a compaction may hold another segment without tables)::

    {"byteorder": "little",   (the writer's; a reader of the other byte order refuses it)
     "segments": [{"rows": n, "dead_rows": k, "widths": [22, ...], "row_bytes": 3,
                   "arrays": {"hashes": [offset, nbytes, crc32], "ids": [...],
                              "offsets": [...], "rows": [...], "dead": [...]}}, ...]}

Loading checks every size and offset, that ids are sorted, that the tables are in
bounds (so a damaged file can never make a search read outside its arrays) and, with
``verify=True``, every array's CRC-32. Any failure raises :class:`IndexFormatError`.
Files are written (mode 0600: they hold hash values) to a temporary name, flushed to disk
and renamed into place, so a reader never sees half a snapshot; never modify a snapshot in
place while it is mapped.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import sys
import zlib
from pathlib import Path
from typing import Any, BinaryIO, Final

import numpy as np
import numpy.typing as npt

from stopspread.errors import IndexFormatError
from stopspread.matching import _mihcore
from stopspread.matching._segment import Segment
from stopspread.matching.base import HASH_BYTES
from stopspread.matching.index import MihIndex

__all__ = ["FORMAT_VERSION", "MAGIC", "load", "save"]

MAGIC: Final = b"SSMIH\x00\r\n"  # \r\n: a text-mode copy that rewrites line ends is caught
FORMAT_VERSION: Final = 1
ALIGN: Final = 64  # bytes: a cache line; also aligns every uint32/int64 array
MAX_HEADER_BYTES: Final = 16 << 20  # a header is a few KiB; anything larger is not ours
READ_CHUNK_BYTES: Final = 256 << 20  # one read() call returns at most ~2 GiB on Linux
_PREFIX: Final = struct.Struct("<8sII")
_DTYPES: Final[dict[str, type[np.generic]]] = {
    "hashes": np.uint8,
    "ids": np.int64,
    "offsets": np.uint32,
    "rows": np.uint8,
    "dead": np.uint8,
}


def _raw(arr: npt.NDArray[Any]) -> memoryview:
    """The bytes of an array, as a flat memoryview (no copy when contiguous)."""
    return np.ascontiguousarray(arr).reshape(-1).view(np.uint8).data


def _pad(f: BinaryIO) -> int:
    pos = f.tell()
    gap = -pos % ALIGN
    f.write(b"\0" * gap)
    return pos + gap


def _segment_arrays(seg: Segment) -> dict[str, npt.NDArray[Any]]:
    return {
        "hashes": seg.hashes,
        "ids": seg.ids,
        "offsets": seg.offsets,
        "rows": seg.rows,
        "dead": seg.dead,
    }


def _plan(segs: tuple[Segment, ...], data_start: int) -> list[dict[str, Any]]:
    pos, entries = data_start, []
    for seg in segs:
        arrays = {}
        for name, arr in _segment_arrays(seg).items():
            pos += -pos % ALIGN
            crc = zlib.crc32(_raw(arr))
            arrays[name] = [pos, int(arr.nbytes), crc]
            pos += int(arr.nbytes)
        entries.append(
            {
                "rows": seg.n_rows,
                "dead_rows": seg.n_dead,
                "widths": list(seg.widths),
                "row_bytes": seg.row_bytes,
                "arrays": arrays,
            }
        )
    return entries


def save(index: MihIndex, path: str | os.PathLike[str]) -> None:
    """Write a consistent snapshot of ``index`` (writers may go on meanwhile)."""
    state = index._state
    segs = state.all()
    # The header's size depends on the offsets it lists; plan twice with a generous start.
    probe = json.dumps({"byteorder": sys.byteorder, "segments": _plan(segs, 0)}).encode()
    data_start = _PREFIX.size + len(probe) + 64 * len(segs) * 5 + ALIGN
    data_start += -data_start % ALIGN
    header = json.dumps({"byteorder": sys.byteorder, "segments": _plan(segs, data_start)}).encode()
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)  # a leftover keeps its mode: made anew, 0600 (hashes)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(_PREFIX.pack(MAGIC, FORMAT_VERSION, len(header)))
        f.write(header)
        f.write(b"\0" * (data_start - f.tell()))
        for seg in segs:
            for arr in _segment_arrays(seg).values():
                _pad(f)
                f.write(_raw(arr))
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(target)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _read_header(f: BinaryIO) -> list[dict[str, Any]]:
    prefix = f.read(_PREFIX.size)
    if len(prefix) != _PREFIX.size:
        raise IndexFormatError("not an index snapshot: file too short")
    magic, version, size = _PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise IndexFormatError("not an index snapshot: bad magic bytes")
    if version != FORMAT_VERSION:
        raise IndexFormatError(f"snapshot format version {version} is not supported")
    if size > MAX_HEADER_BYTES:
        raise IndexFormatError("snapshot header is implausibly large")
    try:
        header = json.loads(f.read(size).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise IndexFormatError("snapshot header is not valid JSON") from None
    if not isinstance(header, dict) or header.get("byteorder") != sys.byteorder:
        raise IndexFormatError("snapshot header is malformed or from a machine of other byte order")
    segments = header.get("segments")
    if not isinstance(segments, list) or not segments:
        raise IndexFormatError("snapshot header lists no segments")
    return segments


def _array(buf: Any, size: int, spec: Any, dtype: type[np.generic], nbytes: int) -> Any:
    if not (isinstance(spec, list) and len(spec) == 3 and all(isinstance(x, int) for x in spec)):
        raise IndexFormatError("snapshot array entry is malformed")
    offset, length, _ = spec
    if length != nbytes or offset % ALIGN or offset < 0 or offset + length > size:
        raise IndexFormatError("snapshot array is out of place or of the wrong size")
    count = length // np.dtype(dtype).itemsize
    return np.frombuffer(buf, dtype=dtype, count=count, offset=offset)


def _expected_sizes(entry: dict[str, Any]) -> dict[str, int]:
    n, widths, rb = entry["rows"], entry["widths"], entry["row_bytes"]
    return {
        "hashes": n * HASH_BYTES,
        "ids": n * 8,
        "offsets": 4 * sum((1 << w) + 1 for w in widths) if widths else 0,
        "rows": len(widths) * n * rb if widths else 0,
        "dead": (n + 7) // 8,
    }


def _check_entry(entry: Any, is_last: bool) -> None:
    ok = (
        isinstance(entry, dict)
        and isinstance(entry.get("rows"), int)
        and entry["rows"] >= 0
        and isinstance(entry.get("dead_rows"), int)
        and isinstance(entry.get("widths"), list)
        and all(isinstance(w, int) and 1 <= w <= 26 for w in entry["widths"])
        and entry.get("row_bytes") in (3, 4)
        and isinstance(entry.get("arrays"), dict)
        and set(entry["arrays"]) == set(_DTYPES)
        and not (is_last and entry["widths"])  # the delta (last) has no tables
    )
    if not ok:
        raise IndexFormatError("snapshot segment entry is malformed")


def _segment(buf: Any, size: int, entry: Any, is_last: bool, verify: bool) -> Segment:
    _check_entry(entry, is_last)
    expected = _expected_sizes(entry)
    arrays = {
        name: _array(buf, size, entry["arrays"][name], dtype, expected[name])
        for name, dtype in _DTYPES.items()
    }
    if verify:
        for name, arr in arrays.items():
            if zlib.crc32(_raw(arr)) != entry["arrays"][name][2]:
                raise IndexFormatError(f"snapshot array {name!r} fails its checksum")
    n, widths = entry["rows"], tuple(entry["widths"])
    dead_bits = np.unpackbits(arrays["dead"], bitorder="little")
    if int(dead_bits[:n].sum()) != entry["dead_rows"] or dead_bits[n:].any():
        raise IndexFormatError("snapshot tombstones do not match their count")
    ids = arrays["ids"]
    if widths and not (
        bool(np.all(ids[1:] >= ids[:-1]))
        and _mihcore.validate(
            n, arrays["offsets"], arrays["rows"], bytes(widths), entry["row_bytes"]
        )
    ):
        raise IndexFormatError("snapshot tables are inconsistent")
    return Segment(
        arrays["hashes"].reshape(n, HASH_BYTES),
        ids,
        widths,
        entry["row_bytes"],
        arrays["offsets"],
        arrays["rows"],
        arrays["dead"],
        entry["dead_rows"],
    )


def _read_exactly(f: BinaryIO, view: memoryview) -> None:
    done = 0
    while done < len(view):
        got = f.readinto(view[done : done + READ_CHUNK_BYTES])  # type: ignore[attr-defined]
        if not got:
            raise IndexFormatError("snapshot file changed while being read")
        done += got


def load(path: str | os.PathLike[str], *, use_mmap: bool = True, verify: bool = False) -> MihIndex:
    """Load a snapshot written by :func:`save`.

    By default the file is memory-mapped read-only: loading takes a fraction of a second,
    and API workers on one machine that load the same file share one copy in the page
    cache. ``use_mmap=False`` reads it into private memory instead, about 1-2 s per GiB.
    Never modify a mapped snapshot in place; :func:`save` always replaces it.
    """
    with Path(path).open("rb") as f:
        entries = _read_header(f)
        size = os.fstat(f.fileno()).st_size
        if use_mmap:
            buf: Any = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        else:
            buf = np.empty(size, dtype=np.uint8)
            f.seek(0)
            _read_exactly(f, memoryview(buf))
    segs = [
        _segment(buf, size, entry, i == len(entries) - 1, verify) for i, entry in enumerate(entries)
    ]
    return MihIndex._restore(tuple(segs[:-1]), segs[-1])
