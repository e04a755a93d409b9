"""Read a TensorFlow checkpoint (a *tensor bundle*) with numpy alone — no TensorFlow.

A TF-1 checkpoint ``PREFIX`` is two files: ``PREFIX.index``, a LevelDB-format table mapping each
variable name to a ``BundleEntryProto`` (dtype, shape, and where its bytes lie), and
``PREFIX.data-00000-of-00001``, the raw little-endian tensor bytes. This module reads just enough
of both formats to list and load the variables:

* the table: the 48-byte footer (meta-index and index block handles as varints, then the magic
  ``0xdb4775248b80fb57``), the index block (one entry per data block), and the data blocks, whose
  keys are prefix-compressed (shared length, unshared length, value length, key delta, value) and
  which end in a restart array; every block is followed by a 1-byte compression type (0: none,
  the only kind TensorFlow writes for bundles) and a 4-byte checksum;
* the protobufs: a minimal wire-format decoder (varints and length-delimited fields) for
  ``BundleEntryProto`` {1 dtype, 2 shape, 3 shard_id, 4 offset, 5 size} and
  ``TensorShapeProto`` {2 dim {1 size}}.

Only what a reader of trusted-format, untrusted-content files needs: every offset and size is
bounds-checked and anything unexpected raises :class:`BundleError` (never a numpy crash or an
IndexError deep inside). Optimizer slots (Adam's ``…/Adam``, ``…/Adam_1``, ``beta1_power``) are
listed like any variable; callers pick what they need.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from musictagger.errors import MusictaggerError

MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER = 5  # 1-byte compression type + 4-byte masked crc32c

# tensorflow/core/framework/types.proto DataType -> numpy dtype
DTYPES: dict[int, np.dtype[Any]] = {
    1: np.dtype("<f4"),  # DT_FLOAT
    2: np.dtype("<f8"),  # DT_DOUBLE
    3: np.dtype("<i4"),  # DT_INT32
    4: np.dtype("u1"),  # DT_UINT8
    6: np.dtype("i1"),  # DT_INT8
    9: np.dtype("<i8"),  # DT_INT64
    10: np.dtype("?"),  # DT_BOOL
    19: np.dtype("<f2"),  # DT_HALF
}


class BundleError(MusictaggerError):
    """A checkpoint that is not a tensor bundle we can read (with the file and the reason)."""


@dataclass(frozen=True)
class BundleEntry:
    name: str
    dtype: int
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) pairs of a protobuf message: ints for varint/fixed, bytes for length-delimited."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise ValueError("truncated field")
            out.append((number, buf[pos : pos + length]))
            pos += length
        elif wire == 5:
            out.append((number, struct.unpack_from("<I", buf, pos)[0]))
            pos += 4
        elif wire == 1:
            out.append((number, struct.unpack_from("<Q", buf, pos)[0]))
            pos += 8
        else:
            raise ValueError(f"unsupported wire type {wire}")
    return out


def _shape(buf: bytes) -> tuple[int, ...]:
    dims = []
    for number, value in _fields(buf):
        if number == 2 and isinstance(value, bytes):
            size = next((v for n, v in _fields(value) if n == 1 and isinstance(v, int)), 0)
            dims.append(size if size < 1 << 63 else size - (1 << 64))  # int64: -1 is "unknown"
        elif number == 3 and value:
            raise ValueError("unknown rank")
    return tuple(dims)


def _block_entries(data: bytes, offset: int, size: int) -> list[tuple[bytes, bytes]]:
    """The (key, value) entries of one table block."""
    if offset < 0 or size < 4 or offset + size + BLOCK_TRAILER > len(data):
        raise ValueError("block handle out of range")
    if data[offset + size] != 0:
        raise ValueError(f"compressed block (type {data[offset + size]})")
    block = data[offset : offset + size]
    n_restarts = struct.unpack_from("<I", block, size - 4)[0]
    end = size - 4 - 4 * n_restarts
    if end < 0:
        raise ValueError("bad restart array")
    entries, pos, key = [], 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        value_len, pos = _varint(block, pos)
        if shared > len(key) or pos + unshared + value_len > end:
            raise ValueError("bad block entry")
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        entries.append((key, block[pos : pos + value_len]))
        pos += value_len
    return entries


def read_index(index_path: Path) -> dict[str, BundleEntry]:
    """Every variable in a bundle's ``.index`` file, by name."""
    path = Path(index_path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BundleError(f"{path}: cannot read the checkpoint index: {exc}") from exc
    try:
        if len(data) < FOOTER_SIZE or struct.unpack_from("<Q", data, len(data) - 8)[0] != MAGIC:
            raise ValueError("not a TensorFlow checkpoint index (no table magic)")
        footer = data[len(data) - FOOTER_SIZE :]
        _meta_offset, pos = _varint(footer, 0)
        _meta_size, pos = _varint(footer, pos)
        index_offset, pos = _varint(footer, pos)
        index_size, pos = _varint(footer, pos)
        entries: dict[str, BundleEntry] = {}
        for _, handle in _block_entries(data, index_offset, index_size):
            block_offset, p = _varint(handle, 0)
            block_size, _ = _varint(handle, p)
            for key, value in _block_entries(data, block_offset, block_size):
                if not key:  # the header (BundleHeaderProto)
                    continue
                f = dict(_fields(value))
                shape_field = f.get(2)
                shape = _shape(shape_field) if isinstance(shape_field, bytes) else ()
                name = key.decode("utf-8")
                entries[name] = BundleEntry(
                    name, int(f.get(1, 0)), shape, int(f.get(3, 0)), int(f.get(4, 0)), int(f.get(5, 0))
                )
    except (ValueError, struct.error, UnicodeDecodeError, KeyError) as exc:
        raise BundleError(f"{path}: not a tensor bundle we can read ({exc})") from None
    return entries


def read_bundle(index_path: Path, names: list[str] | None = None) -> dict[str, np.ndarray]:
    """Load variables of the checkpoint whose index is ``index_path`` (``PREFIX.index``; the data is
    ``PREFIX.data-00000-of-00001`` beside it).

    ``names``: only these (all when None); a missing name raises :class:`BundleError`.
    """
    index_path = Path(index_path)
    if not index_path.name.endswith(".index"):
        raise BundleError(f"{index_path}: a checkpoint index file ends in .index")
    index = read_index(index_path)
    wanted = list(index) if names is None else names
    missing = [n for n in wanted if n not in index]
    if missing:
        raise BundleError(f"{index_path}: checkpoint lacks {', '.join(missing[:5])}{'…' if len(missing) > 5 else ''}")
    out: dict[str, np.ndarray] = {}
    shards = {index[n].shard for n in wanted}
    if shards - {0}:
        raise BundleError(f"{index_path}: sharded checkpoints are not supported")
    data_path = index_path.parent / (index_path.name[: -len(".index")] + ".data-00000-of-00001")
    try:
        with open(data_path, "rb") as f:
            total = f.seek(0, 2)
            for name in wanted:
                e = index[name]
                dtype = DTYPES.get(e.dtype)
                if dtype is None:
                    raise BundleError(f"{index_path}: {name} has an unsupported dtype ({e.dtype})")
                count = int(np.prod(e.shape)) if e.shape else 1
                if any(d < 0 for d in e.shape) or count * dtype.itemsize != e.size or e.offset + e.size > total:
                    raise BundleError(f"{index_path}: {name} has an inconsistent size or offset")
                f.seek(e.offset)
                raw = f.read(e.size)
                out[name] = np.frombuffer(raw, dtype=dtype).reshape(e.shape).copy()
    except OSError as exc:
        raise BundleError(f"{data_path}: cannot read the checkpoint data: {exc}") from exc
    return out
