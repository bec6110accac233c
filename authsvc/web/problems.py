"""RFC 9457 problem+json at the HTTP edge: the one place an error becomes a response.

On the four conformance endpoints the body also carries the FIDO conformance fields
(``status: "failed"``, ``errorMessage``), so FIDO's tools can drive the service as it is.
``detail`` is our own text; raw input is never echoed back.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from authsvc import errors

log = logging.getLogger(__name__)

CONFORMANCE_PATHS = frozenset(
    {"/attestation/options", "/attestation/result", "/assertion/options", "/assertion/result"}
)
PROBLEM_TYPE_BASE = "https://authsvc.dev/problems/"


def problem_response(
    error: errors.AuthError, extra: Mapping[str, object] | None = None
) -> Response:
    """The problem+json of ``error``; ``extra`` members (e.g. OAuth's ``error``) are added."""
    body: dict[str, object] = {
        "type": PROBLEM_TYPE_BASE + error.code,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
    }
    if request.path in CONFORMANCE_PATHS:
        body["status"] = "failed"
        body["errorMessage"] = error.detail
    if isinstance(error, errors.PolicyDenied) and error.reasons:
        body["reasons"] = error.reasons
    if extra:
        body.update(extra)
    response = Response(json.dumps(body), status=error.status, mimetype="application/problem+json")
    if isinstance(error, errors.RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, errors.DpopInvalid | errors.DpopNonceRequired) and error.www_authenticate:
        response.headers["WWW-Authenticate"] = error.www_authenticate
    return response


def _from_http(exc: HTTPException) -> Response:
    mapped: errors.AuthError
    if isinstance(exc, RequestEntityTooLarge):
        mapped = errors.PayloadTooLarge()
    elif isinstance(exc, NotFound):
        mapped = errors.NotFound()
    elif isinstance(exc, MethodNotAllowed):
        mapped = errors.MethodNotAllowed()
    elif exc.code is not None and 400 <= exc.code < 500:
        mapped = errors.Malformed()
    else:
        log.error("unexpected HTTP error %s on %s", exc.code, request.path)
        mapped = errors.AuthError()
    return problem_response(mapped)


def _unexpected(exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return problem_response(errors.AuthError())


def register(app: Flask) -> None:
    app.register_error_handler(errors.AuthError, problem_response)
    app.register_error_handler(HTTPException, _from_http)
    app.register_error_handler(Exception, _unexpected)
