"""The subset of CBOR (RFC 8949) that AWS's Smithy RPC v2 CBOR protocol uses, both ways.

Decodes any well-formed item (definite and indefinite lengths, tags kept as ``Tag``); encodes dicts,
lists, str, bytes, bool, None, int, float and ``Tag``. Timestamps are tag 1 around epoch seconds
(https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html#shape-serialization).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tag:
    tag: int
    value: Any


class _Break:
    pass


_BREAK = _Break()


def decode(data: bytes) -> Any:
    item, end = _decode(memoryview(data), 0)
    if end != len(data):
        raise ValueError(f"CBOR: {len(data) - end} trailing bytes")
    return item


def _argument(buf: memoryview, pos: int, info: int) -> tuple[int | None, int]:
    if info < 24:
        return info, pos
    if info == 31:
        return None, pos
    size = {24: 1, 25: 2, 26: 4, 27: 8}.get(info)
    if size is None:
        raise ValueError(f"CBOR: reserved additional information {info}")
    return int.from_bytes(buf[pos : pos + size], "big"), pos + size


def _decode(buf: memoryview, pos: int) -> tuple[Any, int]:
    head = buf[pos]
    pos += 1
    major, info = head >> 5, head & 0x1F
    if major == 7:
        if info == 20:
            return False, pos
        if info == 21:
            return True, pos
        if info in (22, 23):
            return None, pos
        if info == 25:
            return _half(int.from_bytes(buf[pos : pos + 2], "big")), pos + 2
        if info == 26:
            return struct.unpack(">f", buf[pos : pos + 4])[0], pos + 4
        if info == 27:
            return struct.unpack(">d", buf[pos : pos + 8])[0], pos + 8
        if info == 31:
            return _BREAK, pos
        if info < 24:
            return info, pos
        raise ValueError(f"CBOR: unsupported simple value {info}")
    arg, pos = _argument(buf, pos, info)
    if major == 0:
        return arg, pos
    if major == 1:
        return -1 - arg, pos  # type: ignore[operator]
    if major in (2, 3):
        if arg is None:
            chunks = []
            while True:
                chunk, pos = _decode(buf, pos)
                if chunk is _BREAK:
                    break
                chunks.append(chunk)
            return (b"" if major == 2 else "").join(chunks), pos
        raw = bytes(buf[pos : pos + arg])
        return (raw if major == 2 else raw.decode("utf-8")), pos + arg
    if major == 4:
        items = []
        while arg is None or len(items) < arg:
            item, pos = _decode(buf, pos)
            if item is _BREAK:
                break
            items.append(item)
        return items, pos
    if major == 5:
        out: dict[Any, Any] = {}
        while arg is None or len(out) < arg:
            key, pos = _decode(buf, pos)
            if key is _BREAK:
                break
            out[key], pos = _decode(buf, pos)
        return out, pos
    # major 6: tag
    value, pos = _decode(buf, pos)
    return Tag(arg, value), pos  # type: ignore[arg-type]


def _half(bits: int) -> float:
    exp, frac = (bits >> 10) & 0x1F, bits & 0x3FF
    sign = -1.0 if bits & 0x8000 else 1.0
    if exp == 0:
        return sign * frac * 2.0**-24
    if exp == 31:
        return sign * float("inf") if frac == 0 else float("nan")
    return sign * (1 + frac / 1024) * 2.0 ** (exp - 15)


def _head(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes([major << 5 | arg])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * size):
            return bytes([major << 5 | info]) + arg.to_bytes(size, "big")
    raise ValueError("CBOR: integer too large")


def encode(item: Any) -> bytes:
    if item is None:
        return b"\xf6"
    if item is True:
        return b"\xf5"
    if item is False:
        return b"\xf4"
    if isinstance(item, int):
        return _head(0, item) if item >= 0 else _head(1, -1 - item)
    if isinstance(item, float):
        return b"\xfb" + struct.pack(">d", item)
    if isinstance(item, str):
        raw = item.encode("utf-8")
        return _head(3, len(raw)) + raw
    if isinstance(item, (bytes, bytearray)):
        return _head(2, len(item)) + bytes(item)
    if isinstance(item, Tag):
        return _head(6, item.tag) + encode(item.value)
    if isinstance(item, (list, tuple)):
        return _head(4, len(item)) + b"".join(encode(i) for i in item)
    if isinstance(item, dict):
        return _head(5, len(item)) + b"".join(encode(k) + encode(v) for k, v in item.items())
    raise TypeError(f"CBOR: cannot encode {type(item).__name__}")
