"""Request bodies: JSON with limits, then typed values. Everything here is hostile input.

The body size is capped by Flask (``MAX_CONTENT_LENGTH``) before we read it; here we reject
a wrong content type (which also keeps simple cross-site form posts out), invalid or
duplicate-keyed JSON, NaN, deep nesting, wrong types, unknown enum values, usernames that
RFC 8265 refuses (:mod:`authsvc.usernames`) and display names with control characters, lone
surrogates or over the length limit.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from typing import Any

from flask import Request

from authsvc.errors import Malformed
from authsvc.services.authentication import AssertionRequest
from authsvc.services.registration import RegistrationRequest
from authsvc.usernames import canonical

MAX_DEPTH = 16
MAX_NAME_CHARS = 64  # displayName; usernames: authsvc.usernames.MAX_USERNAME_CHARS
MAX_EXTENSIONS = 16
_USER_VERIFICATION = frozenset({"required", "preferred", "discouraged"})
_RESIDENT_KEY = frozenset({"required", "preferred", "discouraged"})
_ATTACHMENT = frozenset({"platform", "cross-platform"})
_ATTESTATION = frozenset({"none", "indirect", "direct", "enterprise"})
# Unicode categories never allowed in a name: controls, format characters (bidi overrides,
# zero-width), surrogates, private use and unassigned code points.
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise Malformed("JSON object has a duplicate key")
    return result


def _reject_constant(name: str) -> None:
    raise Malformed(f"JSON {name} is not allowed")


def _depth_ok(value: object) -> bool:
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def json_body(request: Request) -> Mapping[str, Any]:
    """The request's JSON object, or Malformed."""
    if request.mimetype != "application/json":
        raise Malformed("Content-Type must be application/json")
    raw = request.get_data(cache=False)
    try:
        value = json.loads(raw, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise Malformed("the body is not valid JSON") from exc
    if not isinstance(value, dict):
        raise Malformed("the body must be a JSON object")
    if not _depth_ok(value):
        raise Malformed("the JSON is nested too deeply")
    return value


def _display_name(value: object) -> str:
    """Free text shown beside the username; never compared, so RFC 8265 does not apply.

    Spaces and any script are welcome here; only what could disguise or break the text
    (controls, bidi overrides, invisible characters, surrogates) is refused.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Malformed("displayName must be a string")
    if len(value) > MAX_NAME_CHARS:
        raise Malformed(f"displayName is longer than {MAX_NAME_CHARS} characters")
    if any(unicodedata.category(ch) in _BAD_CATEGORIES for ch in value):
        raise Malformed("displayName contains control, format or invalid characters")
    if value != value.strip():
        raise Malformed("displayName must not start or end with white space")
    return unicodedata.normalize("NFC", value)


def _username(value: object) -> str:
    """A username the RFC 8265 profile accepts, as typed (NFC): the form that is shown."""
    if not isinstance(value, str):
        raise Malformed("username must be a string")
    canonical(value)
    return unicodedata.normalize("NFC", value)


def _choice(value: object, field: str, allowed: frozenset[str], default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str) or value not in allowed:
        raise Malformed(f"{field} must be one of {', '.join(sorted(allowed))}")
    return value


def _extensions(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_EXTENSIONS:
        raise Malformed("extensions must be an object with few members")
    return value


def registration_request(body: Mapping[str, Any]) -> RegistrationRequest:
    selection = body.get("authenticatorSelection") or {}
    if not isinstance(selection, dict):
        raise Malformed("authenticatorSelection must be an object")
    require_rk = selection.get("requireResidentKey")
    if require_rk is not None and not isinstance(require_rk, bool):
        raise Malformed("requireResidentKey must be a boolean")
    resident = _choice(
        selection.get("residentKey"),
        "residentKey",
        _RESIDENT_KEY,
        "required" if require_rk else "preferred",
    )
    attachment = selection.get("authenticatorAttachment")
    return RegistrationRequest(
        username=_username(body.get("username")),
        display_name=_display_name(body.get("displayName")),
        resident_key=resident,
        user_verification=_choice(
            selection.get("userVerification"), "userVerification", _USER_VERIFICATION, "preferred"
        ),
        attachment=None
        if attachment is None
        else _choice(attachment, "authenticatorAttachment", _ATTACHMENT, ""),
        attestation=_choice(body.get("attestation"), "attestation", _ATTESTATION, "none"),
        extensions=_extensions(body.get("extensions")),
    )


def assertion_request(body: Mapping[str, Any]) -> AssertionRequest:
    """The sign-in request; its username is already in canonical form.

    The canonical form is all a sign-in needs (the lookup), and handing on only it means
    ``FOLD-x`` and ``fold-x`` get the same answer whether or not such a user exists: any
    per-username answer (the decoy credentials for unknown names) cannot tell them apart.
    """
    username = body.get("username")
    if username is not None and not isinstance(username, str):
        raise Malformed("username must be a string")
    return AssertionRequest(
        username=canonical(username) if username else None,
        user_verification=_choice(
            body.get("userVerification"), "userVerification", _USER_VERIFICATION, "preferred"
        ),
        extensions=_extensions(body.get("extensions")),
    )
