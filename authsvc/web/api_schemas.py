"""The JSON Schemas of ``/api/v1``, and how a request's value is checked against one.

Each constant here is used twice by :mod:`authsvc.web.openapi`: to refuse input and in the
published document. Response schemas that several routes share are named
:data:`COMPONENTS` (``#/components/schemas/<name>``) through :func:`component`; request
schemas are always inline, so a request validator never has to resolve a reference.

A refusal's ``detail`` says which rule was broken in the schema's own names: a member is
named only when it looks like one, and no value that was sent is ever repeated.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any, Final

import jsonschema_rs

from authsvc.errors import Malformed, all_error_classes

Schema = Mapping[str, Any]

MAX_ID: Final = 2**31 - 1  # ids are 32-bit integers
_MEMBER: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}", re.ASCII)
_INTEGER: Final = re.compile(r"-?[0-9]{1,19}", re.ASCII)
_MAX_REPORTED: Final = 32  # validation errors looked at for one refusal

#: named response schemas, emitted under ``components.schemas``
COMPONENTS: dict[str, Schema] = {}


def component(name: str, schema: Schema) -> Schema:
    """Name ``schema`` in the document and return a reference to it (responses only)."""
    if COMPONENTS.setdefault(name, schema) is not schema:
        raise ValueError(f"component {name} is defined twice")
    return {"$ref": f"#/components/schemas/{name}"}


def obj(
    properties: Mapping[str, Schema], required: Collection[str] | None = None
) -> dict[str, Any]:
    """A closed object: no members beyond ``properties``; all required unless listed."""
    return {
        "type": "object",
        "properties": dict(properties),
        "required": sorted(properties if required is None else required),
        "additionalProperties": False,
    }


def nullable(schema: Schema) -> dict[str, Any]:
    return {"anyOf": [dict(schema), {"type": "null"}]}


def text(low: int, high: int, **more: Any) -> dict[str, Any]:
    return {"type": "string", "minLength": low, "maxLength": high, **more}


# -- values -----------------------------------------------------------------------------

#: a row id in a body or a response
ID: Final = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
#: a row id in the path: anything else is answered ``not_found`` (no such resource)
PATH_ID: Final = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TIME: Final = {"type": "string", "format": "date-time"}
#: a group or policy name (``authsvc.web.admin_calls.name``)
NAME: Final = {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$"}
B64URL: Final = {"type": "string", "pattern": "^[A-Za-z0-9_-]*$"}
ROLE: Final = {"enum": ["admin", "user"]}
SESSION_ID: Final = {"type": "string", "pattern": "^[0-9a-f]{16}$"}
ANY_JSON: Final[Schema] = {}


# -- the document's shared parts ----------------------------------------------------------

#: each contract code's HTTP status and title (authsvc.errors)
STATUS_OF: Final = {cls.code: cls.status for cls in all_error_classes()}
TITLE_OF: Final = {cls.code: cls.title for cls in all_error_classes()}

SECURITY_SCHEMES: Final = {
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "The web session's opaque id, set by a sign-in ceremony "
        "(named __Host-session when SECURE_COOKIES is on).",
    },
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token (ES256 JWT) from a sign-in or POST /oauth/token.",
    },
    "DPoP": {
        "type": "http",
        "scheme": "DPoP",
        "description": "A DPoP-bound access token (RFC 9449) with a DPoP proof header.",
    },
}


def problem_schema() -> dict[str, Any]:
    """RFC 9457 problem+json as this service writes it, ``code`` from the contract."""
    return {
        "type": "object",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {"enum": sorted(STATUS_OF)},
            "reasons": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    }


# -- checking ---------------------------------------------------------------------------


def validator(schema: Schema) -> jsonschema_rs.Validator:
    """A 2020-12 validator; a schema that is not valid JSON Schema fails at import time."""
    jsonschema_rs.meta.validate(dict(schema))
    return jsonschema_rs.Draft202012Validator(dict(schema), validate_formats=False)


def query_value(raw: str, schema: Schema) -> object:
    """A query value as its schema's type would have it written (OpenAPI ``form`` style)."""
    if schema.get("type") == "integer" and _INTEGER.fullmatch(raw):
        return int(raw)
    return raw


def unknown_names(what: str, names: Collection[str]) -> str:
    """Unknown names in our words: a name is shown only if it could be a member's name."""
    shown = sorted(n for n in names if _MEMBER.fullmatch(n))
    hidden = len(names) - len(shown)
    if not shown:
        return f"{hidden} unknown {what}{'s' if hidden > 1 else ''}"
    listed = f"unknown {what}{'s' if len(names) > 1 else ''}: {', '.join(shown)}"
    return f"{listed} and {hidden} more not shown" if hidden else listed


def check(check_with: jsonschema_rs.Validator, value: object, what: str) -> None:
    """Raise Malformed describing the first problem (unknown, then missing, then the rest)."""
    found: list[jsonschema_rs.ValidationError] = []
    for error in check_with.iter_errors(value):
        found.append(error)
        if len(found) >= _MAX_REPORTED:
            break
    if found:
        raise Malformed(_describe(min(found, key=_rank), what))


def _rank(error: jsonschema_rs.ValidationError) -> tuple[int, int]:
    kinds = jsonschema_rs.ValidationErrorKind
    if isinstance(error.kind, kinds.AdditionalProperties):
        return 0, len(error.instance_path)
    if isinstance(error.kind, kinds.Required):
        return 1, len(error.instance_path)
    return 2, len(error.instance_path)


def _where(path: list[str | int], what: str) -> str:
    """A JSON location in the schema's names (an unexpected key that was sent is '…')."""
    if not path:
        return "the body" if what == "member" else what
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + (part if _MEMBER.fullmatch(part) else "…")
    return out


def _describe(error: jsonschema_rs.ValidationError, what: str) -> str:
    kinds = jsonschema_rs.ValidationErrorKind
    kind, where = error.kind, _where(error.instance_path, what)
    if isinstance(kind, kinds.AdditionalProperties):
        if error.instance_path:
            return f"{where}: {unknown_names('member', kind.unexpected)}"
        return unknown_names(what, kind.unexpected)
    if isinstance(kind, kinds.Required):
        missing = kind.property if _MEMBER.fullmatch(kind.property) else "one not shown"
        inside = f" in {where}" if error.instance_path else ""
        return f"missing {what}s{inside}: {missing}"
    if isinstance(kind, kinds.AnyOf | kinds.OneOfNotValid):
        # the branch whose type matched says what is wrong; if none did, name the types
        branches = [b for b in kind.context if b]
        matched = [b for b in branches if not any(isinstance(e.kind, kinds.Type) for e in b)]
        if matched:
            return _describe(min(matched[0], key=_rank), what)
        types = [
            t for b in branches for e in b if isinstance(e.kind, kinds.Type) for t in e.kind.types
        ]
        return f"{where} must be of type {' or '.join(types)}"
    if isinstance(kind, kinds.Enum):
        return f"{where} must be one of {', '.join(sorted(str(o) for o in kind.options))}"
    if isinstance(kind, kinds.Constant):
        return f"{where} must be {kind.expected_value}"
    if isinstance(kind, kinds.Type):
        return f"{where} must be of type {' or '.join(kind.types)}"
    if isinstance(kind, kinds.Minimum | kinds.ExclusiveMinimum):
        return f"{where} must not be below {kind.limit}"
    if isinstance(kind, kinds.Maximum | kinds.ExclusiveMaximum):
        return f"{where} must not be above {kind.limit}"
    if isinstance(kind, kinds.MinLength | kinds.MinItems | kinds.MinProperties):
        return f"{where} is shorter than {kind.limit}"
    if isinstance(kind, kinds.MaxLength | kinds.MaxItems | kinds.MaxProperties):
        return f"{where} is longer than {kind.limit}"
    if isinstance(kind, kinds.Pattern):
        return f"{where} does not have the allowed form"
    return f"{where} does not match its schema"


# -- shared response bodies -------------------------------------------------------------

_NULLABLE_TIME: Final = nullable(TIME)
_STRING: Final = {"type": "string"}
_NULLABLE_STRING: Final = nullable(_STRING)
_BOOL: Final = {"type": "boolean"}
_COUNT: Final = {"type": "integer", "minimum": 0}

#: a credential as both the account and the admin API show it (authsvc.web.credential_json)
CREDENTIAL_MEMBERS: Final[Mapping[str, Schema]] = {
    "id": ID,
    "credentialId": B64URL,
    "authenticator": _NULLABLE_STRING,
    "authenticatorIcon": _NULLABLE_STRING,
    "aaguid": {"type": "string", "pattern": "^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$"},
    "aaguidProven": _BOOL,
    "status": {"enum": ["active", "disabled", "locked"]},
    "backupEligible": _BOOL,
    "backedUp": _BOOL,
    "attachment": nullable({"enum": ["platform", "cross-platform"]}),
    "transports": {"type": "array", "items": _STRING},
    "createdAt": TIME,
    "lastUsedAt": _NULLABLE_TIME,
}
ACCOUNT_CREDENTIAL: Final = component(
    "AccountCredential",
    obj({**CREDENTIAL_MEMBERS, "name": _NULLABLE_STRING, "signedInThisSession": _BOOL}),
)
ADMIN_CREDENTIAL: Final = component(
    "AdminCredential",
    obj(
        {
            **CREDENTIAL_MEMBERS,
            "user": ID,
            "username": _STRING,
            "fmt": _STRING,
            "attestationType": _STRING,
            "trust": {"enum": ["none", "self", "untrusted", "trusted"]},
            "algorithm": {"type": "integer"},
            "flaggedAt": _NULLABLE_TIME,
        }
    ),
)
SESSION: Final = component(
    "Session",
    obj(
        {
            "id": SESSION_ID,
            "current": _BOOL,
            "signedInAt": TIME,
            "lastSeenAt": TIME,
            "expiresAt": TIME,
            "userVerified": _BOOL,
            "verifiedAt": _NULLABLE_TIME,
            "credential": nullable(ID),
            "recovered": _BOOL,
            "clientAddress": _NULLABLE_STRING,
            "userAgent": _NULLABLE_STRING,
        }
    ),
)
USER: Final = component(
    "User",
    obj(
        {
            "id": ID,
            "username": _STRING,
            "displayName": _STRING,
            "role": ROLE,
            "status": {"enum": ["active", "disabled"]},
            "group": _STRING,
            "credentials": _COUNT,
            "createdAt": TIME,
        }
    ),
)
GROUP: Final = component(
    "Group",
    obj({"name": NAME, "policy": NAME, "policyVersion": {"type": "integer"}, "members": _COUNT}),
)
POLICY_VERSION: Final = component(
    "PolicyVersion",
    obj(
        {
            "name": NAME,
            "version": {"type": "integer", "minimum": 1},
            "document": {"type": "object"},
            "createdAt": TIME,
            "createdBy": nullable(ID),
        }
    ),
)
AUDIT_EVENT: Final = component(
    "AuditEvent",
    {
        "type": "object",
        "required": ["id", "seq", "occurred_at", "event", "outcome"],
        "properties": {
            "id": {"type": "integer"},
            "seq": {"type": "integer"},
            "occurred_at": TIME,
            "event": _STRING,
            "outcome": _STRING,
            "code": _NULLABLE_STRING,
            "user_id": nullable({"type": "integer"}),
            "actor_user_id": nullable({"type": "integer"}),
            "credential_id": nullable(B64URL),
            "origin": _NULLABLE_STRING,
            "client_address": _NULLABLE_STRING,
            "detail": nullable({"type": "object"}),
        },
    },
)


# -- the admin API's own ----------------------------------------------------------------

MAX_PAGE: Final = 500  # rows in one page of a listing
PAGE_QUERY: Final = {
    "after": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
}
QUERY_TIME: Final = {
    "type": "string",
    "maxLength": 40,
    "description": "ISO 8601 with a zone, e.g. 2025-01-01T00:00:00Z",
    "examples": ["2025-01-01T00:00:00Z"],
}
#: a policy document (authsvc.policy): checked member by member by the policy parser
POLICY_DOCUMENT: Final = {"type": "object"}
DRY_RUN: Final = obj(
    {
        "policy": NAME,
        "groups": {"type": "integer", "minimum": 0},
        "checked": {"type": "integer", "minimum": 0},
        "refused": {
            "type": "array",
            "items": obj(
                {
                    "credential": ID,
                    "user": ID,
                    "username": {"type": "string"},
                    "reasons": {
                        "type": "array",
                        "items": obj({"code": {"type": "string"}, "message": {"type": "string"}}),
                    },
                }
            ),
        },
    }
)
AUDIT_REPORT: Final = obj(
    {
        "ok": {"type": "boolean"},
        "events": {"type": "integer", "minimum": 0},
        "firstBadSeq": nullable({"type": "integer"}),
        "firstBadId": nullable({"type": "integer"}),
        "reason": nullable({"type": "string"}),
    }
)
METADATA_STATUS: Final = obj(
    {
        "source": {"type": "string"},
        "no": {"type": "integer"},
        "nextUpdate": {"type": "string"},
        "entries": {"type": "integer", "minimum": 0},
        "loadSeconds": {"type": "number"},
        "stale": {"type": "boolean"},
        "lastRefusal": nullable({"type": "string"}),
    }
)
