"""Hand-laid CBOR: the encodings fido2's encoder never writes, for inputs the decoder must judge.

fido2 writes canonical CBOR only (minimal heads, keys sorted, and a dict cannot repeat a key),
so map order, head width and repeated keys are laid out here byte by byte.
"""

from __future__ import annotations

import random

from fido2 import cbor

#: Bytes an argument may take after the initial byte (0: inside it, values 0-23 only).
_SIZES = {0: 0, 1: 24, 2: 25, 4: 26, 8: 27}


def head(major: int, argument: int, size: int | None = None) -> bytes:
    """A data item head (RFC 8949 §3.1); ``size`` bytes of argument, the fewest by default."""
    if size is None:
        size = next(s for s in _SIZES if _fits(argument, s))
    if not _fits(argument, size):
        raise ValueError(f"{argument} does not fit a {size}-byte argument")
    if size == 0:
        return bytes([major << 5 | argument])
    return bytes([major << 5 | _SIZES[size]]) + argument.to_bytes(size, "big")


def _fits(argument: int, size: int) -> bool:
    return argument < 24 if size == 0 else argument < 256**size


def cbor_map(*entries: tuple[bytes, bytes]) -> bytes:
    """A map of already encoded ``(key, value)`` entries, in this order and repeats kept."""
    return head(5, len(entries)) + b"".join(key + value for key, value in entries)


def entry(key: cbor.CborType, value: cbor.CborType) -> tuple[bytes, bytes]:
    """One map entry, both halves encoded by fido2."""
    return cbor.encode(key), cbor.encode(value)


def nested_maps(depth: int) -> bytes:
    """``depth`` maps, each holding the next under key "a", the innermost holding 0."""
    return b"\xa1\x61a" * (depth - 1) + b"\xa1\x61a\x00" if depth else b"\x00"


def nested_arrays(depth: int) -> bytes:
    """``depth`` arrays, each holding the next, the innermost empty."""
    return b"\x81" * (depth - 1) + b"\x80" if depth else b"\x00"


def loose_encode(value: object, rng: random.Random) -> bytes:
    """``value`` as CBOR with every map in a random order and every head of a random width."""
    if isinstance(value, bool):
        return cbor.encode(value)
    if isinstance(value, int):
        major, argument = (0, value) if value >= 0 else (1, -1 - value)
        return _loose_head(major, argument, rng)
    if isinstance(value, bytes):
        return _loose_head(2, len(value), rng) + value
    if isinstance(value, str):
        text = value.encode()
        return _loose_head(3, len(text), rng) + text
    if isinstance(value, list):
        return _loose_head(4, len(value), rng) + b"".join(loose_encode(v, rng) for v in value)
    if isinstance(value, dict):
        items = [loose_encode(k, rng) + loose_encode(v, rng) for k, v in value.items()]
        rng.shuffle(items)
        return _loose_head(5, len(items), rng) + b"".join(items)
    raise TypeError(f"cannot encode {type(value).__name__}")


def _loose_head(major: int, argument: int, rng: random.Random) -> bytes:
    return head(major, argument, rng.choice([s for s in _SIZES if _fits(argument, s)]))
