"""The admin API's read-outs of the record: the audit log (query, chain check) and the FIDO
metadata in use. Reads only, each authorised and audited like every admin call."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify

from authsvc.encoding import b64url_encode
from authsvc.errors import Malformed
from authsvc.services import admin_reads
from authsvc.services.admin import Actor
from authsvc.web.admin_calls import (
    MAX_ID,
    admin_route,
    integer,
    moment,
    no_input,
    optional_id,
)
from authsvc.web.api_schemas import (
    AUDIT_EVENT,
    AUDIT_REPORT,
    MAX_PAGE,
    METADATA_STATUS,
    QUERY_TIME,
    obj,
)
from authsvc.web.sessions import services

bp = Blueprint("admin_records", __name__, url_prefix="/api/v1/admin")

_MAX_SEQ = 2**62
_EVENT = re.compile(r"[a-z._]{1,64}", re.ASCII)


@dataclass(frozen=True, slots=True)
class _AuditQuery:
    user: int | None
    event: str | None
    since: datetime | None
    until: datetime | None
    before: int | None
    limit: int


def _audit_query(
    *,
    user: str | None,
    event: str | None,
    since: str | None,
    until: str | None,
    before: str | None,
    limit: str | None,
) -> _AuditQuery:
    if event is not None and not _EVENT.fullmatch(event):
        raise Malformed("event must be an event name such as authentication or admin.user.role")
    return _AuditQuery(
        user=optional_id(user, "user"),
        event=event,
        since=moment(since, "since"),
        until=moment(until, "until"),
        before=integer(before, "before", default=0, low=0, high=_MAX_SEQ) or None,
        limit=integer(limit, "limit", default=100, low=1, high=MAX_PAGE),
    )


@admin_route(
    bp,
    "GET",
    "/audit",
    "audit.query",
    _audit_query,
    summary="Audit events, newest first, filtered",
    query={
        "user": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
        "event": {"type": "string", "pattern": "^[a-z._]{1,64}$"},
        "since": QUERY_TIME,
        "until": QUERY_TIME,
        "before": {"type": "integer", "minimum": 0, "maximum": _MAX_SEQ},
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
    },
    responses={200: obj({"events": {"type": "array", "items": AUDIT_EVENT}})},
)
def audit_log(actor: Actor, q: _AuditQuery) -> Response:
    events = admin_reads.audit_events(
        services(),
        actor,
        user_id=q.user,
        event=q.event,
        since=q.since,
        until=q.until,
        before_seq=q.before,
        limit=q.limit,
    )
    return jsonify({"events": [_jsonable(e) for e in events]})


@admin_route(
    bp,
    "GET",
    "/audit/verify",
    "audit.verify",
    no_input,
    summary="Verify the audit log's hash chain",
    responses={200: AUDIT_REPORT},
)
def audit_verify(actor: Actor, _: None) -> Response:
    report = admin_reads.verify_audit_chain(services(), actor)
    return jsonify(
        {
            "ok": report.ok,
            "events": report.events,
            "firstBadSeq": report.first_bad_seq,
            "firstBadId": report.first_bad_id,
            "reason": report.reason,
        }
    )


@admin_route(
    bp,
    "GET",
    "/metadata",
    "metadata.status",
    no_input,
    summary="The FIDO metadata in use",
    responses={200: METADATA_STATUS},
)
def metadata_status(actor: Actor, _: None) -> Response:
    status = admin_reads.metadata_status(services(), actor)
    return jsonify(
        {
            "source": status.source,
            "no": status.no,
            "nextUpdate": status.next_update,
            "entries": status.entries,
            "loadSeconds": status.load_seconds,
            "stale": status.stale,
            "lastRefusal": status.last_refusal,
        }
    )


def _jsonable(event: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in event.items():
        if isinstance(value, bytes):
            out[key] = b64url_encode(value) if key == "credential_id" else value.hex()
        elif isinstance(value, datetime):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out
