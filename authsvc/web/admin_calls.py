"""How an admin route takes its input: the caller is authorised first, then it is parsed.

An admin API that parses before it authenticates tells an anonymous caller its schema
(which members exist, which values are allowed), and one that echoes input in ``detail``
reflects whatever an attacker sends. So :func:`admin_route` runs, for every call:

1. :func:`authsvc.services.admin.authorize`: 401 / 403, audited, before anything is read;
2. the route's query and body checked against its declared schemas (the same ones the
   OpenAPI document publishes, :mod:`authsvc.web.openapi`), then its ``parse``: path,
   query and body to typed values; any refusal is audited as ``admin.<action>`` with its
   code, in a transaction of its own;
3. the view, whose use case authorises again and audits in its own transaction.

Parsing is strict and bounded: ASCII digits only (``str.isdigit`` also takes ``'²'``), no
repeated or unknown query parameters, times with a zone that stay within the years 1 to
9999 in UTC, and error details that never contain what was sent (a member name is shown
only when it looks like one). :data:`ROUTES` lists what each route accepts, so the
hostile-input tests can send garbage for all of it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, TypeVar

from flask import Blueprint
from flask.typing import ResponseReturnValue

from authsvc.errors import AuthError, Malformed, NotFound
from authsvc.services import admin
from authsvc.services.admin import Actor
from authsvc.web import openapi
from authsvc.web.api_schemas import Schema
from authsvc.web.openapi import Operation
from authsvc.web.sessions import actor, services

MAX_ID: Final = 2**31 - 1  # ids are 32-bit integers; a larger one cannot exist
_MAX_TIME_CHARS: Final = 40
_NAME: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}", re.ASCII)
_RULE_VARIABLE: Final = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")

In = TypeVar("In")


@dataclass(frozen=True, slots=True)
class AdminRoute:
    """What one admin route accepts: its audit action, query parameters and body members."""

    action: str
    method: str
    rule: str
    query: tuple[str, ...]
    members: frozenset[str]
    required: frozenset[str]


#: every admin route made by :func:`admin_route`, by Flask endpoint
ROUTES: dict[str, AdminRoute] = {}


def admin_route(
    bp: Blueprint,
    method: str,
    rule: str,
    action: str,
    parse: Callable[..., In],
    *,
    summary: str,
    responses: Mapping[int, Schema | None],
    errors: Collection[str] = (),
    path: Mapping[str, Schema] | None = None,
    query: Mapping[str, Schema] | None = None,
    body: Schema | None = None,
    description: str = "",
) -> Callable[
    [Callable[[Actor, In], ResponseReturnValue]], Callable[[Actor, In], ResponseReturnValue]
]:
    """Register ``view`` for ``method rule``, called as ``view(actor, parse(...))``.

    The route's :class:`~authsvc.web.openapi.Operation` is made from ``path``, ``query``,
    ``body`` (an object schema: its properties are the members, its ``required`` the
    required ones), ``responses`` and ``errors`` (``unauthenticated``, ``forbidden``,
    ``step_up_required`` and ``rate_limited`` are added: any admin call can answer them).
    After authorisation the query and body are checked against it, then ``parse`` is called
    with the rule's variables (as text: ids are parsed here, not by a URL converter), the
    query parameters named by the rest of its signature (``None`` when absent) and, when the
    route takes a body, the checked JSON body as ``body``. It is the only place a request is
    read, so every refusal of input is audited; the view must not raise except through its
    use case.
    """
    variables = tuple(_RULE_VARIABLE.findall(rule))
    names = [p for p in inspect.signature(parse).parameters if p not in variables]
    wanted = tuple(n for n in names if n != "body")
    if set(wanted) != set(query or {}) or ("body" in names) != (body is not None):
        raise TypeError(f"{rule}: parse must take exactly the declared query and body")
    op = Operation.build(
        summary=summary,
        tag="admin",
        responses=responses,
        access=openapi.ADMIN,
        errors={*errors, "forbidden", "step_up_required", "rate_limited"},
        description=description or f"Audited as admin.{action}.",
        path=path,
        query=query,
        body=body,
    )
    spec = AdminRoute(
        action=action,
        method=method,
        rule=rule,
        query=wanted,
        members=op.members,
        required=frozenset((body or {}).get("required", ())),
    )

    def register(
        view: Callable[[Actor, In], ResponseReturnValue],
    ) -> Callable[[Actor, In], ResponseReturnValue]:
        def handler(**variables: str) -> ResponseReturnValue:
            svc, caller = services(), actor()
            admin.authorize(svc, caller, action)
            try:
                op.read()
                given = openapi.query()
                inputs = parse(
                    **variables,
                    **{n: given.get(n) for n in wanted},
                    **({"body": openapi.body()} if body is not None else {}),
                )
            except AuthError as exc:
                admin.refuse(svc, caller, action, exc)
            return view(caller, inputs)

        endpoint = view.__name__
        setattr(handler, openapi.ATTRIBUTE, op)
        bp.add_url_rule(rule, endpoint, handler, methods=[method])
        ROUTES[f"{bp.name}.{endpoint}"] = spec
        return view

    return register


def no_input() -> None:
    """The parse function of a route that takes no input."""


def path_id(raw: str, what: str) -> int:
    """A row id from the path; anything else names no row (``not_found``)."""
    if re.fullmatch(r"[0-9]{1,10}", raw, re.ASCII) and 1 <= int(raw) <= MAX_ID:
        return int(raw)
    raise NotFound(f"no such {what}")


def integer(raw: str | None, name: str, *, default: int, low: int, high: int) -> int:
    """A bounded whole number of ASCII digits (its length checked before it is converted)."""
    if raw is None:
        return default
    if not re.fullmatch(f"[0-9]{{1,{len(str(high))}}}", raw, re.ASCII) or not (
        low <= int(raw) <= high
    ):
        raise Malformed(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def optional_id(raw: str | None, name: str) -> int | None:
    return None if raw is None else integer(raw, name, default=0, low=0, high=MAX_ID)


def moment(raw: str | None, name: str) -> datetime | None:
    """An ISO 8601 time with a zone, in UTC; one that leaves the years 1-9999 there is refused.

    ``9999-12-31T23:59:59-23:59`` is a valid time whose UTC form is in the year 10000:
    converted later (by the database layer) it would be an OverflowError, so a 500.
    """
    if raw is None:
        return None
    problem = f"{name} must be an ISO 8601 time with a zone, within the years 1 to 9999 in UTC"
    if len(raw) > _MAX_TIME_CHARS or not raw.isascii():
        raise Malformed(problem)
    try:
        parsed = datetime.fromisoformat(raw)
        if parsed.utcoffset() is None:
            raise Malformed(problem)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise Malformed(problem) from exc


def name(value: object, field: str) -> str:
    """A group or policy name: 1-64 of a-z, 0-9, '.', '_', '-', starting alphanumeric."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise Malformed(f"{field} must be 1-64 of a-z, 0-9, '.', '_', '-' (starting alphanumeric)")
    return value


def choice(value: object, field: str, allowed: Collection[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise Malformed(f"{field} must be one of {', '.join(sorted(allowed))}")
    return value
