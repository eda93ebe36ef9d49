"""The grader's side of the wire format it shares with the worker (worker.py): frames and
values, as bytes. No process, no I/O: client.py moves the bytes.

A frame is `>Q` payload length, then `>I` header length, a JSON header (with "blobs": the
byte length of each blob), then the blobs. Values travel as JSON with tagged objects:
{"$nd": i} / {"$tensor": i} (blob i, a .npy array), {"$npscalar": i}, {"$tuple": [...]},
{"$dict": [[key, value], ...]}, {"$dtype": name}, {"$ref": handle} (an object that stays in
the worker).

Everything that comes back is hostile data (student code ran in the worker): frames are size
capped, the header's JSON nesting is bounded before it is parsed, blob lengths must add up,
arrays are read with allow_pickle=False and their headers checked against their bytes, and
unknown tags are refused. read_frame raises outcomes.ProtocolViolation; decode raises
ValueError (the client words it).
"""
from __future__ import annotations

import io
import json
import re
import struct

import numpy as np

from . import safetext
from .outcomes import ProtocolViolation

MAX_FRAME = 512 << 20
MAX_HEADER = 64 << 20   # the JSON part of a frame (arrays travel as blobs)
MAX_NESTING = 64        # brackets deep, checked before json.loads
MAX_BLOBS = 100000


class Tensor:
    """Marks a numpy array to arrive in the worker as a torch tensor."""

    def __init__(self, array):
        self.array = np.asarray(array)


class WireRef:
    """Base of an object that lives in the worker (client.RemoteRef): sent as its handle."""

    def wire_handle(self) -> int:
        raise NotImplementedError


# -------------------------------------------------------------- frames

def frame(header: dict, blobs: list[bytes]) -> bytes:
    """The bytes of one frame: `header` (JSON-able) with the blobs' lengths, then the blobs."""
    header = dict(header, blobs=[len(b) for b in blobs])
    hbytes = json.dumps(header).encode()
    payload = b"".join([struct.pack(">I", len(hbytes)), hbytes, *blobs])
    return struct.pack(">Q", len(payload)) + payload


def read_frame(read_exact) -> tuple[dict, list[bytes]]:
    """One frame, read with `read_exact(n) -> bytes` (which raises on timeout or death):
    (header dict, blobs). Everything about it is checked before use (a hostile worker may
    send any bytes): sizes, a JSON header of bounded size and depth, blob lengths that add
    up. Raises ProtocolViolation otherwise."""
    (size,) = struct.unpack(">Q", read_exact(8))
    if size > MAX_FRAME or size < 4:
        raise ProtocolViolation("the worker sent an oversized or empty reply")
    payload = read_exact(size)
    (hlen,) = struct.unpack(">I", payload[:4])
    try:
        if hlen > min(size - 4, MAX_HEADER):
            raise ValueError("header larger than the frame or the grader's cap")
        raw = payload[4:4 + hlen]
        if nesting(raw) > MAX_NESTING:
            raise ValueError(f"nested deeper than {MAX_NESTING} levels")
        header = json.loads(raw)
        if not isinstance(header, dict):
            raise ValueError("the header is not an object")
        lengths = header.get("blobs", [])
        if isinstance(lengths, list) and len(lengths) > MAX_BLOBS:
            raise ValueError(f"more than {MAX_BLOBS} arrays in one reply")
        if not isinstance(lengths, list) or any(
                type(n) is not int or n < 0 for n in lengths) \
                or sum(lengths) != size - 4 - hlen:
            raise ValueError("blob sizes do not add up")
    except Exception as exc:  # noqa: BLE001 (RecursionError, MemoryError, ...)
        raise ProtocolViolation("the worker sent a malformed reply ("
                                + safetext.line(f"{type(exc).__name__}: {exc}", 200)
                                + ")") from None
    blobs, pos = [], 4 + hlen
    for n in lengths:
        blobs.append(payload[pos:pos + n])
        pos += n
    return header, blobs


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def nesting(raw: bytes) -> int:
    """How deep brackets nest in a JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    for b in _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        if b in (0x5B, 0x7B):        # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_NESTING:
                    break
        else:
            depth -= 1
    return deepest


# -------------------------------------------------------------- values

def encode(value, blobs: list[bytes]):
    """`value` as JSON-able data, its arrays appended to `blobs`. TypeError for a value that
    cannot travel (the grader's own mistake)."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return {"$nd": _blob(value, blobs)}
    if isinstance(value, Tensor):
        return {"$tensor": _blob(value.array, blobs)}
    if isinstance(value, type) and issubclass(value, np.generic):
        return {"$dtype": np.dtype(value).name}
    if isinstance(value, WireRef):
        return {"$ref": value.wire_handle()}
    if isinstance(value, list):
        return [encode(v, blobs) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, blobs) for v in value]}
    if isinstance(value, dict):
        return {"$dict": [[k, encode(v, blobs)] for k, v in value.items()]}
    raise TypeError(f"cannot send {type(value).__name__} to the worker")


def decode(value, blobs: list[bytes], make_ref, depth: int = 0):
    """The value the worker sent; `make_ref(handle: int, type_name: str)` makes the stand-in
    of an object that stays in the worker. Strings are made safe as they enter. ValueError
    for anything unexpected (unknown tags, keys, nesting deeper than 40)."""
    if depth > 40:
        raise ValueError("nested too deeply")
    if value is None or type(value) in (bool, int, float):
        return value
    if type(value) is str:   # the student's text: made safe as it enters
        return safetext.text(value, None)
    if isinstance(value, list):
        return [decode(v, blobs, make_ref, depth + 1) for v in value]
    if not isinstance(value, dict):
        raise ValueError("unexpected value")
    if "$ref" in value:
        handle = value["$ref"]
        if type(handle) is not int:
            raise ValueError("a reference that is not a number")
        return make_ref(handle, safetext.line(value.get("type", "?"), 80))
    if len(value) != 1:
        raise ValueError("unexpected object")
    (tag, payload), = value.items()
    if tag in ("$nd", "$tensor"):
        return load_array(blobs[payload])
    if tag == "$npscalar":
        return load_array(blobs[payload])[()]
    if tag == "$tuple":
        return tuple(decode(v, blobs, make_ref, depth + 1) for v in payload)
    if tag == "$dict":
        return {_plain_key(k): decode(v, blobs, make_ref, depth + 1) for k, v in payload}
    raise ValueError(f"unknown tag {tag!r}")


def _plain_key(key):
    if type(key) not in (str, int):
        raise ValueError("dictionary key of unexpected type")
    return safetext.text(key, None) if type(key) is str else key


def _blob(arr, blobs):
    buf = io.BytesIO()
    np.save(buf, arr if arr.flags.c_contiguous else arr.copy(order="C"), allow_pickle=False)
    blobs.append(buf.getvalue())
    return len(blobs) - 1


def load_array(blob: bytes) -> np.ndarray:
    """A numeric array from .npy bytes: its header is read first, and an array whose size
    does not match the bytes sent is refused before anything is allocated."""
    if not isinstance(blob, bytes):
        raise ValueError("missing array data")
    f = io.BytesIO(blob)
    version = np.lib.format.read_magic(f)
    read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}.get(version)
    if read_header is None:
        raise ValueError(f"unsupported .npy version {version}")
    shape, fortran, dtype = read_header(f)
    if dtype.hasobject or dtype.kind not in "biufc":
        raise ValueError(f"array of unsupported type {dtype}")
    if int(np.prod(shape, dtype=object)) * dtype.itemsize != len(blob) - f.tell():
        raise ValueError("array data of the wrong size")
    arr = np.load(io.BytesIO(blob), allow_pickle=False)
    if arr.dtype.kind not in "biufc":
        raise ValueError(f"array of unsupported type {arr.dtype}")
    return arr
