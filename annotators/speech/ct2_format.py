"""Reader for CTranslate2's `model.bin` (binary version <= 6): named arrays, no ctranslate2 dependency.

Layout (little-endian): u32 version, str spec name, u32 revision, u32 count, then per variable:
str name, u8 rank, u32 dims[rank], u8 dtype id, u32 byte count, raw bytes; then u32 alias count and
(str alias, str target) pairs. A str is u16 length (including a trailing NUL) then the bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

MAX_BINARY_VERSION = 6
# CTranslate2's DataType enum order.
CT2_DTYPES: dict[int, np.dtype] = {
    0: np.dtype("<f4"),
    1: np.dtype("i1"),
    2: np.dtype("<i2"),
    3: np.dtype("<i4"),
    4: np.dtype("<f2"),
}
BFLOAT16_ID = 5


@dataclass(frozen=True)
class Ct2Model:
    spec: str
    revision: int
    variables: dict[str, np.ndarray]


class _Reader:
    def __init__(self, data: bytes | memoryview):
        self.data = memoryview(data)
        self.pos = 0

    def unpack(self, fmt: str):
        value = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value[0]

    def string(self) -> str:
        length = self.unpack("<H")
        text = bytes(self.data[self.pos : self.pos + length - 1]).decode("utf-8")
        self.pos += length
        return text

    def take(self, size: int) -> memoryview:
        if self.pos + size > len(self.data):
            raise ValueError("CTranslate2 model.bin is truncated")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def _to_array(raw: memoryview, dtype_id: int, shape: list[int]) -> np.ndarray:
    if dtype_id == BFLOAT16_ID:  # widen bfloat16 to float32 by shifting into the high half
        upper = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return upper.view(np.float32).reshape(shape)
    if dtype_id not in CT2_DTYPES:
        raise ValueError(f"unknown CTranslate2 dtype id {dtype_id}")
    return np.frombuffer(raw, dtype=CT2_DTYPES[dtype_id]).reshape(shape)


def parse_ct2(data: bytes | memoryview) -> Ct2Model:
    """Parse the bytes of a model.bin into named numpy arrays (read-only views into `data`)."""
    reader = _Reader(data)
    version = reader.unpack("<I")
    if version > MAX_BINARY_VERSION or version < 1:
        raise ValueError(f"unsupported CTranslate2 binary version {version}")
    spec = reader.string() if version >= 2 else ""
    revision = reader.unpack("<I") if version >= 2 else 1
    variables: dict[str, np.ndarray] = {}
    for _ in range(reader.unpack("<I")):
        name = reader.string()
        shape = [reader.unpack("<I") for _ in range(reader.unpack("<B"))]
        dtype_id = reader.unpack("<B")
        variables[name] = _to_array(reader.take(reader.unpack("<I")), dtype_id, shape)
    if version >= 3:
        for _ in range(reader.unpack("<I")):
            alias, target = reader.string(), reader.string()
            variables[alias] = variables[target]
    return Ct2Model(spec=spec, revision=revision, variables=variables)


def _string_bytes(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("<H", len(data) + 1) + data + b"\0"


def write_ct2(variables: dict[str, np.ndarray], aliases: dict[str, str], spec: str, revision: int) -> bytes:
    """The bytes of a model.bin (binary version 6) holding `variables` and `aliases` (alias -> target)."""
    type_ids = {dtype: type_id for type_id, dtype in CT2_DTYPES.items()}
    out = [struct.pack("<I", MAX_BINARY_VERSION), _string_bytes(spec), struct.pack("<I", revision),
           struct.pack("<I", len(variables))]
    for name, value in variables.items():
        value = np.asarray(value) if np.asarray(value).flags.c_contiguous else np.asarray(value).copy()  # keeps 0-d scalars 0-d
        if value.dtype.newbyteorder("<") not in type_ids:
            raise ValueError(f"{name}: dtype {value.dtype} cannot be stored in a CTranslate2 model")
        out += [_string_bytes(name), struct.pack("<B", value.ndim), *(struct.pack("<I", d) for d in value.shape),
                struct.pack("<B", type_ids[value.dtype.newbyteorder("<")]), struct.pack("<I", value.nbytes), value.tobytes()]
    out.append(struct.pack("<I", len(aliases)))
    for alias, target in aliases.items():
        out += [_string_bytes(alias), _string_bytes(target)]
    return b"".join(out)
