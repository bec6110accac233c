"""Strict base64url: one decoder, in the two forms the service reads.

Python's decoder silently skips characters outside the alphabet, so ``"ab c"`` and
``"abc"`` would decode alike; every base64 text we read goes through :func:`_strict`, which
refuses any character outside the alphabet, white space included.

:func:`b64url_decode` reads the binary fields of the WebAuthn JSON forms. It accepts one
alphabet per string — base64url, or standard base64 (``+``/``/``), which older real clients
still send (see the shared vectors) — and either no padding or exactly the right padding.
Unused low bits of the last character are not checked: real authenticators' user handles
(``internalUserId`` in a shared vector) are not canonical, and the bytes are unambiguous.

:func:`b64url_decode_jws` reads the parts of a JWS (RFC 7515 §2: base64url, no padding)
and also requires the one canonical spelling, so signed text and meaning stay one-to-one.
"""

from __future__ import annotations

import base64
import binascii

from authsvc.errors import Malformed

_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def b64url_encode(data: bytes) -> str:
    """base64url without padding, as the WebAuthn JSON forms use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: object, *, field: str, max_bytes: int | None = None) -> bytes:
    """Decode ``value`` or raise Malformed naming ``field`` (never the value itself)."""
    if not isinstance(value, str):
        raise Malformed(f"{field} must be a base64url string")
    body = value.rstrip("=")
    padding = len(value) - len(body)
    if padding and (len(value) % 4 or padding > 2):
        raise Malformed(f"{field} has wrong base64url padding")
    if len(body) % 4 == 1:
        raise Malformed(f"{field} has a length no base64url string has")
    if max_bytes is not None and len(body) * 3 // 4 > max_bytes:
        raise Malformed(f"{field} is too long")
    outside = f"{field} has characters outside the base64url alphabet"
    try:
        data = body.encode("ascii")
    except UnicodeEncodeError as exc:
        raise Malformed(outside) from exc
    urlsafe = b"-" in data or b"_" in data
    if urlsafe and (b"+" in data or b"/" in data):
        raise Malformed(f"{field} mixes the base64url and base64 alphabets")
    return _strict(data.translate(_TO_STANDARD) if urlsafe else data, error=outside)


def b64url_decode_jws(part: bytes, *, field: str) -> bytes:
    """Decode one part of a compact JWS or raise Malformed naming ``field``: base64url only
    (no ``+``, ``/`` or padding), not empty, and canonical (the unused low bits of the last
    character zero)."""
    if not part:
        raise Malformed(f"{field} is empty")
    not_base64url = f"{field} is not base64url"
    if b"+" in part or b"/" in part or b"=" in part or len(part) % 4 == 1:
        raise Malformed(not_base64url)
    decoded = _strict(part.translate(_TO_STANDARD), error=not_base64url)
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != part:
        raise Malformed(f"{field} is not canonical base64url")
    return decoded


def _strict(standard: bytes, *, error: str) -> bytes:
    """Standard-alphabet base64, padding optional; Malformed(``error``) for anything else.

    ``strict_mode`` refuses every character outside the alphabet, white space included, and
    misplaced padding.
    """
    try:
        return binascii.a2b_base64(standard + b"=" * (-len(standard) % 4), strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise Malformed(error) from exc
