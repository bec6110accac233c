"""Strict base64url, the encoding of every binary field in the WebAuthn JSON forms.

Python's decoder silently skips characters outside the alphabet, so ``"ab c"`` and
``"abc"`` would decode alike. We accept one alphabet per string — base64url, or standard
base64 (``+``/``/``), which older real clients still send (see the shared vectors) — with no
whitespace or other characters, and either no padding or exactly the right padding.
Unused low bits of the last character are not checked: real authenticators' user handles
(``internalUserId`` in a shared vector) are not canonical, and the bytes are unambiguous.
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
    try:
        data = body.encode("ascii")
        urlsafe = b"-" in data or b"_" in data
        if urlsafe and (b"+" in data or b"/" in data):
            raise Malformed(f"{field} mixes the base64url and base64 alphabets")
        # strict_mode refuses every character outside the alphabet, white space included
        return binascii.a2b_base64(
            (data.translate(_TO_STANDARD) if urlsafe else data) + b"=" * (-len(data) % 4),
            strict_mode=True,
        )
    except (binascii.Error, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        raise Malformed(f"{field} has characters outside the base64url alphabet") from exc
