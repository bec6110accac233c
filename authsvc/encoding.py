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
import re

from authsvc.errors import Malformed

_URLSAFE = re.compile(r"[A-Za-z0-9_-]*")
_STANDARD = re.compile(r"[A-Za-z0-9+/]*")


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
    if _URLSAFE.fullmatch(body):
        decode = base64.urlsafe_b64decode
    elif _STANDARD.fullmatch(body):
        decode = base64.standard_b64decode
    else:
        raise Malformed(f"{field} has characters outside the base64url alphabet")
    try:
        return decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - alphabet checked above
        raise Malformed(f"{field} is not base64url") from exc
