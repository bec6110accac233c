"""Rate limits: flask-limiter on ``limits`` (sliding window counter), shared by every worker.

What they answer (issue #9): scripted floods of failed sign-ins, username probes, sign-ups
and added passkeys, each of which also grew the audit chain by one row per request.

| limit | counted on | key |
| --- | --- | --- |
| ``ceremony`` | each of the four ceremony endpoints, apart | client address |
| ``admin`` | every ``/api/v1/admin`` call, together | client address |
| ``signup`` | ``/attestation/options`` not for the signed-in account | client address |
| ``passkeys`` | ``/attestation/options`` for the signed-in account | account + address |
| ``account`` | ``/assertion/options`` naming a username | account + address |
| ``credential`` | failed ``/assertion/result`` with one credential | credential + address |

Nothing is keyed by an account or a credential alone. A passkey signature cannot be
guessed, so locking an account after failures would only give strangers a way to lock its
owner out (keycloak#41476); here a flood from one address slows that address down, and the
owner, from anywhere else, is not affected. Failures with one credential from one address,
past ``RATE_LIMIT_CREDENTIAL_FAILURES``, make each further attempt wait a delay that
doubles up to a cap; a success clears them. Accounts are keyed by an HMAC of the folded
username, so neither the counters nor the audit log hold usernames in clear.

Counters live where every worker and instance sees them: Redis under ``REDIS_PREFIX`` when
``REDIS_URL`` is set, else the service's database (:mod:`authsvc.storage.rate_limits`).
A store that cannot be reached answers 503 ``unavailable``: limits are never skipped.

A refusal is 429 ``rate_limited`` problem+json with ``Retry-After`` (whole seconds). It is
audited once per window and key, not once per request (a counter in the same store decides
which refusal is the first), in its own transaction, so a flood cannot flood the chain.

The limiter's ``before_request`` hook is registered by :func:`init`: ``create_app`` calls
it after the cross-site guard's, so a request refused as cross-site is not counted.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from flask import Flask, Response, current_app, request
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded, RequestLimit
from flask_login import current_user
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import Storage
from limits.strategies import RateLimiter

from authsvc.audit.log import AuditEvent, append
from authsvc.errors import AuthError, RateLimited, Unavailable
from authsvc.services.context import Services
from authsvc.storage.db import transaction
from authsvc.storage.rate_limits import SCHEME
from authsvc.web.problems import CONFORMANCE_PATHS, problem_response

_EXTENSION: Final = "authsvc.limits"
_ADMIN_PATH: Final = "/api/v1/admin"
_MAX_ADDRESS_CHARS: Final = 64  # the audit column's width
#: failures with one credential from one address are forgotten this long after the first
FAILURE_MEMORY: Final = 86_400
_ACCOUNT_KEY_LABEL: Final = b"authsvc rate-limit account key"


@dataclass(frozen=True)
class _Limits:
    """The app's limiter and the limits checked inside the handlers."""

    limiter: Limiter
    account_key: bytes  # HMAC key for account identifiers
    signup: Sequence[RateLimitItem]
    passkeys: Sequence[RateLimitItem]
    account: Sequence[RateLimitItem]
    failures: int
    delay: int
    delay_max: int

    @property
    def strategy(self) -> RateLimiter:
        return self.limiter.limiter

    @property
    def storage(self) -> Storage:
        return self.limiter.storage


def client_address() -> str:
    """The caller's address (from X-Forwarded-For behind TRUSTED_PROXIES), as audited."""
    return (request.remote_addr or "unknown")[:_MAX_ADDRESS_CHARS]


def init(app: Flask) -> None:
    """Attach the limiter (unless RATE_LIMITS is off) and its 429 / 503 answers to ``app``."""
    services: Services = app.extensions["authsvc"]
    settings = services.settings
    if not settings.rate_limits:
        return
    options: dict[str, Any]
    if settings.redis_url:
        uri = settings.redis_url
        options = {
            "key_prefix": settings.redis_prefix + "limits",
            "wrap_exceptions": True,  # redis errors become StorageError, answered 503
            "socket_connect_timeout": 2,
            "socket_timeout": 2,
        }
    else:
        uri, options = f"{SCHEME}://", {"engine": services.engine}
    # flask-limiter's documented way to hand a storage its constructor arguments
    app.config["RATELIMIT_STORAGE_OPTIONS"] = options
    limiter = Limiter(
        client_address,
        app=app,
        storage_uri=uri,
        strategy="sliding-window-counter",
        application_limits=[
            ApplicationLimit(
                limit_provider=settings.rate_limit_ceremony,
                scope=_ceremony_scope,
                exempt_when=lambda: request.path not in CONFORMANCE_PATHS,
            ),
            ApplicationLimit(
                limit_provider=settings.rate_limit_admin,
                scope="admin",
                exempt_when=lambda: not _is_admin_path(request.path),
            ),
        ],
        on_breach=_audit_breach,
        headers_enabled=False,
        swallow_errors=False,
    )
    app.extensions[_EXTENSION] = _Limits(
        limiter=limiter,
        account_key=hashlib.sha256(_ACCOUNT_KEY_LABEL + settings.secret_key.encode()).digest(),
        signup=_items(settings.rate_limit_signup),
        passkeys=_items(settings.rate_limit_passkeys),
        account=_items(settings.rate_limit_account),
        failures=settings.rate_limit_credential_failures,
        delay=settings.rate_limit_credential_delay,
        delay_max=settings.rate_limit_credential_delay_max,
    )
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.register_error_handler(StorageError, _store_down)


def registration_options(username: str) -> None:
    """Count an ``/attestation/options`` request for ``username`` (parsed by the handler).

    For the account the session is signed in as, it adds a passkey: counted per account and
    address. Anything else may create an account (or probe whether a name is taken), so it
    counts as a sign-up from this address, whoever is signed in.
    """
    limits = _state()
    if limits is None:
        return
    address = client_address()
    signed_in_as = (
        getattr(current_user, "username", None) if current_user.is_authenticated else None
    )
    if isinstance(signed_in_as, str) and _fold(signed_in_as) == _fold(username):
        account = _account(limits, username)
        _hit(limits, "passkeys", limits.passkeys, (account, address), {"account": account})
    else:
        _hit(limits, "signup", limits.signup, (address,), {})


def sign_in_options(username: str | None) -> None:
    """Count an ``/assertion/options`` request naming ``username`` per account and address."""
    limits = _state()
    if limits is None or username is None:
        return
    account = _account(limits, username)
    _hit(limits, "account", limits.account, (account, client_address()), {"account": account})


@contextmanager
def credential_attempt(credential_id: bytes) -> Iterator[None]:
    """Wrap one ``/assertion/result`` attempt with ``credential_id`` from this address.

    Refuses it (429) while this credential and address wait out a delay; counts it if it
    fails with an :class:`AuthError` (not a 429 or a 503, which verified nothing); clears the
    count when it succeeds.
    """
    limits = _state()
    if limits is None:
        yield
        return
    address = client_address()
    key = f"credential/{hashlib.sha256(credential_id).hexdigest()[:32]}/{address}"
    failures = limits.storage.get(key)
    if failures >= limits.failures:
        _refuse_while_waiting(limits, key, failures, credential_id, address)
    try:
        yield
    except AuthError as exc:
        if not isinstance(exc, RateLimited | Unavailable):
            failures = limits.storage.incr(key, FAILURE_MEMORY)
            if failures >= limits.failures:
                limits.storage.incr(_wait_key(key, failures), _delay(limits, failures))
        raise
    if failures:
        limits.storage.clear(key)


def _state() -> _Limits | None:
    limits: _Limits | None = current_app.extensions.get(_EXTENSION)
    return limits


def _items(value: str) -> list[RateLimitItem]:
    return sorted(parse_many(value), key=lambda item: item.get_expiry())


def _is_admin_path(path: str) -> bool:
    return path == _ADMIN_PATH or path.startswith(_ADMIN_PATH + "/")


def _ceremony_scope(_endpoint: str) -> str:
    """Each ceremony endpoint counts apart: a sign-in is options + result."""
    return "ceremony:" + request.path


def _fold(username: str) -> str:
    """Case- and width-folded (NFKC): ``Ada``, ``ADA`` and full-width ``ADA`` count as one."""
    return unicodedata.normalize("NFKC", username).casefold()


def _account(limits: _Limits, username: str) -> str:
    digest = hmac.new(limits.account_key, _fold(username).encode(), hashlib.sha256)
    return digest.hexdigest()[:24]


def _hit(
    limits: _Limits,
    name: str,
    items: Sequence[RateLimitItem],
    key: tuple[str, ...],
    detail: dict[str, object],
) -> None:
    """Count one request against ``items`` (shortest window first); 429 at the first full one."""
    for item in items:
        if limits.strategy.hit(item, name, *key):
            continue
        reset_at = limits.strategy.get_window_stats(item, name, *key).reset_time
        if _first_refusal(limits.storage, item.key_for(name, *key), item.get_expiry()):
            _audit(name, {**detail, "rate": str(item)})
        raise RateLimited("too many requests; try again later", retry_after=_seconds(reset_at))


def _refuse_while_waiting(
    limits: _Limits, key: str, failures: int, credential_id: bytes, address: str
) -> None:
    wait_key = _wait_key(key, failures)
    if not limits.storage.get(wait_key):
        return
    until = limits.storage.get_expiry(wait_key)
    if _first_refusal(limits.storage, wait_key, _delay(limits, failures)):
        _audit(
            "credential",
            {"failures": failures, "delay": _delay(limits, failures)},
            credential_id=credential_id,
            address=address,
        )
    raise RateLimited(
        "too many failed attempts with this passkey from this address; try again later",
        retry_after=_seconds(until),
    )


def _wait_key(key: str, failures: int) -> str:
    """One key per failure count, so each delay starts when its failure happened."""
    return f"{key}/wait/{failures}"


def _delay(limits: _Limits, failures: int) -> int:
    doublings = min(failures - limits.failures, 30)
    return int(min(limits.delay * 2**doublings, limits.delay_max))


def _seconds(until: float) -> int:
    return max(1, math.ceil(until - time.time()))


def _first_refusal(storage: Storage, key: str, window: int) -> bool:
    """True for the first refusal of ``key`` in a window: the one that is audited."""
    return storage.incr("audited/" + key, window) == 1


def _audit(
    name: str,
    detail: dict[str, object],
    *,
    credential_id: bytes | None = None,
    address: str | None = None,
) -> None:
    services: Services = current_app.extensions["authsvc"]
    event = AuditEvent(
        event="rate_limit",
        outcome="failure",
        code=RateLimited.code,
        credential_id=credential_id,
        client_address=address or client_address(),
        detail={"limit": name, "path": request.path, **detail},
    )
    with transaction(services.engine) as conn:
        append(conn, event, services.now())


def _audit_breach(breach: RequestLimit) -> None:
    """flask-limiter's callback for the address limits it checks before the handler."""
    scope = breach.request_args[-1]
    name = "admin" if scope == "admin" else "ceremony"
    limits = _state()
    if limits is not None and _first_refusal(limits.storage, breach.key, breach.limit.get_expiry()):
        _audit(name, {"rate": str(breach.limit)})


def _too_many(_exc: RateLimitExceeded) -> Response:
    limits = _state()
    breached = limits.limiter.current_limit if limits is not None else None
    retry_after = _seconds(breached.window.reset_time) if breached is not None else 1
    return problem_response(
        RateLimited("too many requests from this address; try again later", retry_after=retry_after)
    )


def _store_down(_exc: StorageError) -> Response:
    return problem_response(Unavailable("the rate-limit store is unavailable"))
