"""One definition per ``/api/v1`` route: what it takes, what it answers, and the document of both.

A route declares its path, query and body as JSON Schema 2020-12 (the dialect OpenAPI 3.1
uses as it is) with :func:`operation`, or through
:func:`~authsvc.web.admin_calls.admin_route`. The same :class:`Operation` then

* refuses, with ``malformed``, any query or body its schemas refuse, before the route's own
  parser sees it (after the caller is authenticated: an anonymous caller learns no schema
  from an error), and
* is emitted, unchanged, into the OpenAPI 3.1 document at ``GET /api/v1/openapi.json``,

so the document cannot say one thing while the route accepts another. Responses are
documented, not checked at run time: the schemathesis tests hold every answer to them.

Query parameters arrive as text. A parameter whose schema is ``integer`` is converted only
when it is ASCII digits (with an optional ``-``; at most 19), as OpenAPI's ``form`` style
writes an integer; anything else stays text and fails the schema. Path parameters are
documented here but refused by the routes themselves, with ``not_found``: a bad id names no
resource. An error's ``detail`` names a member only when it looks like one and never
contains a value that was sent.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib.metadata import version
from typing import Any, Final, NotRequired, ParamSpec, TypedDict, TypeVar, Unpack

import jsonschema_rs
from flask import Blueprint, Flask, Response, current_app, g, request

from authsvc.errors import Malformed
from authsvc.web import api_schemas, schemas
from authsvc.web.api_schemas import Schema
from authsvc.web.sessions import signed_in

P = ParamSpec("P")
R = TypeVar("R")


class Declaration(TypedDict):
    """What a route declares about itself: :func:`operation`'s and :meth:`Operation.build`'s
    keyword arguments, written once."""

    summary: str
    tag: str
    responses: Mapping[int, Schema | None]
    access: NotRequired[Access]
    errors: NotRequired[Collection[str]]
    description: NotRequired[str]
    path: NotRequired[Mapping[str, Schema] | None]
    query: NotRequired[Mapping[str, Schema] | None]
    required_query: NotRequired[Collection[str]]
    body: NotRequired[Schema | None]
    media_type: NotRequired[str]


JSON: Final = "application/json"
FORM: Final = "application/x-www-form-urlencoded"
#: the attribute of a view function that holds its :class:`Operation`
ATTRIBUTE: Final = "__openapi_operation__"
#: codes any documented route can answer whatever it declares: a bad query or body
#: (``malformed``, unknown query parameters included), a body over the limit, a store down
ALWAYS: Final = frozenset({"malformed", "unavailable"})
_BODY_KEY: Final = "authsvc_openapi_body"
_QUERY_KEY: Final = "authsvc_openapi_query"


@dataclass(frozen=True, slots=True)
class Access:
    """Who may call an operation: the security schemes it documents, and the check that
    runs before any input is read (``None``: the view authorises, as ``admin_route`` does,
    or the route is public)."""

    schemes: tuple[str, ...]
    check: Callable[[], object] | None = None


#: no credentials needed
PUBLIC: Final = Access(())
#: a signed-in user: the cookie session, or an access token (``Bearer`` or ``DPoP``)
SIGNED_IN: Final = Access(("session", "bearer", "DPoP"), signed_in)
#: an admin: the same credentials; :func:`~authsvc.web.admin_calls.admin_route` authorises
ADMIN: Final = Access(("session", "bearer", "DPoP"))


@dataclass(frozen=True, slots=True)
class Operation:
    """What one route takes and answers; see :func:`operation` for the parameters."""

    summary: str
    tag: str
    access: Access
    responses: Mapping[int, Schema | None]
    errors: frozenset[str]
    description: str = ""
    path: Mapping[str, Schema] = field(default_factory=dict)
    query: Mapping[str, Schema] = field(default_factory=dict)
    required_query: frozenset[str] = frozenset()
    body: Schema | None = None
    media_type: str = JSON
    _query_check: jsonschema_rs.Validator | None = None
    _body_check: jsonschema_rs.Validator | None = None

    @classmethod
    def build(cls, **declared: Unpack[Declaration]) -> Operation:
        summary, tag, responses = declared["summary"], declared["tag"], declared["responses"]
        access = declared.get("access", PUBLIC)
        errors = declared.get("errors", ())
        description = declared.get("description", "")
        path, query = declared.get("path"), declared.get("query")
        required_query = declared.get("required_query", ())
        body, media_type = declared.get("body"), declared.get("media_type", JSON)
        query = dict(query or {})
        for name, schema in query.items():
            if schema.get("type") not in {"string", "integer"}:
                raise TypeError(f"query parameter {name}: only string or integer schemas")
        if body is not None and body.get("type") != "object":
            raise TypeError("a body schema must be an object schema")
        if media_type not in {JSON, FORM}:
            raise TypeError(f"unsupported media type {media_type}")
        return cls(
            summary=summary,
            tag=tag,
            access=access,
            responses=dict(responses),
            errors=frozenset(errors) | ALWAYS | ({"payload_too_large"} if body else set()),
            description=description,
            path=dict(path or {}),
            query=query,
            required_query=frozenset(required_query),
            body=body,
            media_type=media_type,
            _query_check=(
                api_schemas.validator(api_schemas.obj(query, required_query)) if query else None
            ),
            _body_check=None if body is None else api_schemas.validator(body),
        )

    @property
    def members(self) -> frozenset[str]:
        """The body's member names (what the hostile-input tests fill with garbage)."""
        return frozenset((self.body or {}).get("properties", {}))

    def read(self) -> None:
        """Check this request's query and body against the schemas; keep them for the view."""
        setattr(g, _QUERY_KEY, self._read_query())
        if self.body is not None:
            setattr(g, _BODY_KEY, self._read_body())

    def _read_query(self) -> dict[str, str]:
        unknown = set(request.args) - set(self.query)
        if unknown:
            raise Malformed(api_schemas.unknown_names("query parameter", unknown))
        values: dict[str, str] = {}
        for name in self.query:
            given = request.args.getlist(name)
            if len(given) > 1:
                raise Malformed(f"{name} is given more than once")
            if given:
                values[name] = given[0]
        if self._query_check is not None:
            typed = {n: api_schemas.query_value(v, self.query[n]) for n, v in values.items()}
            api_schemas.check(self._query_check, typed, "query parameter")
        return values

    def _read_body(self) -> Mapping[str, Any]:
        body: Mapping[str, Any]
        if self.media_type == JSON:
            body = schemas.json_body(request)
        else:
            if request.mimetype != FORM:
                raise Malformed(f"Content-Type must be {FORM}")
            if any(len(request.form.getlist(k)) > 1 for k in request.form):
                raise Malformed("a form field is given more than once")
            body = request.form.to_dict()
        assert self._body_check is not None  # noqa: S101 - set whenever body is
        api_schemas.check(self._body_check, body, "member")
        return body


def operation(**declared: Unpack[Declaration]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare a view's operation; put it *below* the ``@bp.get(...)`` line.

    ``responses`` maps each success status to its JSON body schema (``None``: no body);
    ``errors`` lists the contract codes it can answer (``malformed`` and ``unavailable`` are
    added, ``unauthenticated`` too when ``access`` has a check). ``path`` gives a schema to
    each variable of the rule. The wrapped view runs ``access.check``, then checks the query
    and ``body`` (JSON, or ``media_type=FORM``) and only then runs: it reads them with
    :func:`body` and :func:`query`.
    """
    access = declared.get("access", PUBLIC)
    errors = frozenset(declared.get("errors", ()))
    widened: Declaration = {
        **declared,
        "errors": errors | ({"unauthenticated"} if access.check else frozenset()),
    }
    op = Operation.build(**widened)

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            if op.access.check is not None:
                op.access.check()
            op.read()
            return view(*args, **kwargs)

        setattr(checked, ATTRIBUTE, op)
        return checked

    return decorate


def of(view: Callable[..., object]) -> Operation | None:
    """The operation a view function was declared with, if any."""
    found = getattr(view, ATTRIBUTE, None)
    return found if isinstance(found, Operation) else None


def body() -> Mapping[str, Any]:
    """This request's body, as its operation's schema accepted it."""
    found: Mapping[str, Any] = getattr(g, _BODY_KEY)
    return found


def query() -> Mapping[str, str]:
    """This request's query parameters (text, as sent), as its operation's schema accepted them."""
    found: Mapping[str, str] = getattr(g, _QUERY_KEY)
    return found


# -- the document -----------------------------------------------------------------------

#: the paths the document covers: the API, the token endpoint and the public documents
DOCUMENTED_PREFIXES: Final = ("/api/", "/oauth/", "/.well-known/")
_RULE_VARIABLE: Final = re.compile(r"<(?:[^<>:]+(?:\([^<>]*\))?:)?([^<>]+)>")
_UNSAFE_CHECKED: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CACHE_KEY: Final = "authsvc.openapi"
PROBLEM_JSON: Final = "application/problem+json"


def _error_responses(codes: Collection[str]) -> dict[str, Any]:
    by_status: dict[int, list[str]] = {}
    for code in sorted(codes):
        by_status.setdefault(api_schemas.STATUS_OF[code], []).append(code)
    out: dict[str, Any] = {}
    for status, listed in sorted(by_status.items()):
        entry: dict[str, Any] = {
            "description": "; ".join(f"{c}: {api_schemas.TITLE_OF[c]}" for c in listed),
            "content": {
                PROBLEM_JSON: {
                    "schema": {
                        "allOf": [{"$ref": "#/components/schemas/Problem"}],
                        "properties": {"code": {"enum": listed}},
                    }
                }
            },
        }
        if "rate_limited" in listed:
            entry["headers"] = {"Retry-After": {"schema": {"type": "integer", "minimum": 0}}}
        out[str(status)] = entry
    return out


def _operation_json(op: Operation, method: str, operation_id: str) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, schema in sorted(op.responses.items()):
        entry: dict[str, Any] = {"description": HTTPStatus(status).phrase}
        if schema is not None:
            entry["content"] = {JSON: {"schema": dict(schema)}}
        responses[str(status)] = entry
    codes = set(op.errors) | ({"unauthenticated"} if op.access.schemes else set())
    if method in _UNSAFE_CHECKED:
        codes.add("forbidden")  # the cross-site guard (authsvc.web.guards)
    responses.update(_error_responses(codes))
    out: dict[str, Any] = {
        "operationId": operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "responses": responses,
    }
    if op.description:
        out["description"] = op.description
    parameters = [
        {"name": n, "in": "path", "required": True, "schema": dict(s)} for n, s in op.path.items()
    ] + [
        {"name": n, "in": "query", "required": n in op.required_query, "schema": dict(s)}
        for n, s in op.query.items()
    ]
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {op.media_type: {"schema": op.body}}}
    if op.access.schemes:
        out["security"] = [{scheme: []} for scheme in op.access.schemes]
    return out


def _server(origins: Collection[str]) -> list[dict[str, str]]:
    web = [o for o in origins if o.startswith(("https://", "http://"))]
    return [{"url": web[0]}] if web else []


def document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every documented route registered on ``app``."""
    paths: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        op = of(app.view_functions[rule.endpoint])
        if op is None or not rule.rule.startswith(DOCUMENTED_PREFIXES):
            continue
        if set(rule.arguments) != set(op.path):
            raise TypeError(f"{rule.rule}: the path schemas must name exactly its variables")
        template = _RULE_VARIABLE.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation_id = (
                rule.endpoint if rule.endpoint not in used else f"{rule.endpoint}.{method}"
            )
            used.add(operation_id)
            paths.setdefault(template, {})[method.lower()] = _operation_json(
                op, method, operation_id
            )
    settings = app.extensions["authsvc"].settings
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "authsvc",
            "version": version("authsvc"),
            "description": "A strict WebAuthn relying party: ceremonies, accounts, "
            "token sessions and administration. Every error is RFC 9457 problem+json "
            "with a stable code.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": _server(settings.origins),
        "paths": paths,
        "components": {
            "schemas": {"Problem": api_schemas.problem_schema(), **api_schemas.COMPONENTS},
            "securitySchemes": api_schemas.SECURITY_SCHEMES,
        },
    }


bp = Blueprint("openapi", __name__)


@bp.get("/api/v1/openapi.json")
@operation(
    summary="This OpenAPI 3.1 document",
    tag="meta",
    responses={200: {"type": "object", "required": ["openapi", "info", "paths"]}},
)
def openapi_document() -> Response:
    """Built once per process from the registered routes; public and cacheable."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cached = app.extensions.get(_CACHE_KEY)
    if cached is None:
        cached = app.extensions[_CACHE_KEY] = json.dumps(document(app)).encode()
    return Response(cached, mimetype=JSON)
