"""Rate limits: flask-limiter on ``limits`` (sliding window counter), shared by every worker.

What they answer (issue #9): scripted floods of failed sign-ins, username probes, sign-ups
and added passkeys, each of which also grew the audit chain by one row per request.

| limit | counted on | key |
| --- | --- | --- |
| ``ceremony`` | each ceremony endpoint (web and ``/api/v1``), apart | client address |
| ``admin`` | every ``/api/v1/admin`` call, together | client address |
| ``signup`` | ``/attestation/options`` not for the signed-in account | client address |
| ``passkeys`` | ``/attestation/options`` for the signed-in account | account + address |
| ``account`` | ``/assertion/options`` naming a username | account + address |
| ``credential`` | failed ``/assertion/result`` with one credential | credential + address |
| ``recovery`` | ``/api/v1/recovery/code`` and ``…/link``, together | client address |
| ``recovery-account`` | ``/api/v1/recovery/code`` naming a username | account + address |

Nothing is keyed by an account or a credential alone. A passkey signature cannot be
guessed, so locking an account after failures would only give strangers a way to lock its
owner out (keycloak#41476); here a flood from one address slows that address down, and the
owner, from anywhere else, is not affected. Failures with one credential from one address,
past ``RATE_LIMIT_CREDENTIAL_FAILURES``, make each further attempt wait a delay that
doubles up to a cap; a success clears them. An account is its username's RFC 8265 canonical
form (:func:`authsvc.usernames.canonical`, the service's own definition of one account),
keyed by an HMAC of it, so neither the counters nor the audit log hold usernames in clear.

Counters live where every worker and instance sees them: Redis under ``REDIS_PREFIX`` when
``REDIS_URL`` is set, else the service's database (:mod:`authsvc.storage.rate_limits`).
A store that cannot be reached answers 503 ``unavailable``: limits are never skipped.

A refusal is 429 ``rate_limited`` problem+json with ``Retry-After`` (whole seconds). It is
audited once per window and key, not once per request (a counter in the same store decides
which refusal is the first), in its own transaction, so a flood cannot flood the chain.

What each check costs is one storage call: the limit strings are parsed once, here, and
every window of a limit (``30/minute;300/hour``) is hit at once by
:func:`~authsvc.services.rate_limits.hit_windows`; each window counts the request if it has
room, as flask-limiter does with ``fail_on_first_breach=False``. The address limits are
checked by one ``before_request`` hook of ours, on flask-limiter's own storage and strategy
(``Limiter.storage``, ``Limiter.limiter``). flask-limiter's request hooks are not
installed: they walk its generic limit machinery on every request, about 60 µs each even
with no limit to apply (measured), more than a check costs here. :func:`init` is called by
``create_app`` after the cross-site guard's hook, so a request refused as cross-site is not
counted.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_login import current_user
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import Storage
from limits.strategies import RateLimiter

from authsvc.errors import AuthError, Malformed, RateLimited, Unavailable
from authsvc.services import rate_limits
from authsvc.services.context import Services
from authsvc.usernames import canonical
from authsvc.web.problems import CONFORMANCE_PATHS, problem_response

_EXTENSION: Final = "authsvc.limits"
#: the ``/api/v1`` ceremonies and the app back ends' token route: limited per path and
#: address like the four conformance endpoints (authsvc.web.api_ceremonies)
_API_CEREMONY_PATHS: Final = frozenset(
    {
        "/api/v1/registrations/options",
        "/api/v1/registrations",
        "/api/v1/sessions/options",
        "/api/v1/sessions",
        "/api/v1/registration-tokens",
    }
)
_ADMIN_PATH: Final = "/api/v1/admin"
_MAX_ADDRESS_CHARS: Final = 64  # the audit column's width
#: failures with one credential from one address are forgotten this long after the first
FAILURE_MEMORY: Final = 86_400
_ACCOUNT_KEY_LABEL: Final = b"authsvc rate-limit account key"
_FROM_ADDRESS: Final = "too many requests from this address; try again later"


@dataclass(frozen=True)
class _Limits:
    """The app's limiter and its limits, parsed once (shortest window first)."""

    limiter: Limiter
    account_key: bytes  # HMAC key for account identifiers
    ceremony: Sequence[RateLimitItem]
    admin: Sequence[RateLimitItem]
    signup: Sequence[RateLimitItem]
    passkeys: Sequence[RateLimitItem]
    account: Sequence[RateLimitItem]
    recovery: Sequence[RateLimitItem]
    recovery_account: Sequence[RateLimitItem]
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
    """Attach the limiter (unless RATE_LIMITS is off), its hook and its 503 answer to ``app``."""
    services: Services = app.extensions["authsvc"]
    settings = services.settings
    if not settings.rate_limits:
        return
    uri, options = rate_limits.counter_storage(services)
    # flask-limiter's documented way to hand a storage its constructor arguments
    app.config["RATELIMIT_STORAGE_OPTIONS"] = options
    limiter = Limiter(
        client_address,
        storage_uri=uri,
        strategy="sliding-window-counter",
        headers_enabled=False,
        swallow_errors=False,
    )
    # init_app builds the storage and the strategy, and installs its request hooks only for
    # a limiter that app.extensions["limiter"] does not list yet: listed first, it is
    # initialised (and found by the `flask limiter` commands) without them
    app.extensions.setdefault("limiter", set()).add(limiter)
    limiter.init_app(app)
    app.extensions[_EXTENSION] = _Limits(
        limiter=limiter,
        account_key=hashlib.sha256(_ACCOUNT_KEY_LABEL + settings.secret_key.encode()).digest(),
        ceremony=_items(settings.rate_limit_ceremony),
        admin=_items(settings.rate_limit_admin),
        signup=_items(settings.rate_limit_signup),
        passkeys=_items(settings.rate_limit_passkeys),
        account=_items(settings.rate_limit_account),
        recovery=_items(settings.rate_limit_recovery),
        recovery_account=_items(settings.rate_limit_recovery_account),
        failures=settings.rate_limit_credential_failures,
        delay=settings.rate_limit_credential_delay,
        delay_max=settings.rate_limit_credential_delay_max,
    )
    app.before_request(_address_limits)
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
    name = _account_name(username)
    if isinstance(signed_in_as, str) and _account_name(signed_in_as) == name:
        account = _account(limits, name)
        _hit(limits, "passkeys", limits.passkeys, (account, address), {"account": account})
    else:
        _hit(limits, "signup", limits.signup, (address,), {})


def sign_in_options(username: str | None) -> None:
    """Count an ``/assertion/options`` request naming ``username`` per account and address."""
    limits = _state()
    if limits is None or username is None:
        return
    account = _account(limits, _account_name(username))
    _hit(limits, "account", limits.account, (account, client_address()), {"account": account})


def recovery_attempt(username: str | None) -> None:
    """Count a recovery attempt per address, and per account and address for a code.

    ``username`` is the account a code is tried for (None for a link, whose token names
    it). Every attempt counts, not only failures: a right code is used up anyway, so
    counting it costs its owner nothing, and the limit never tells a guesser which try hit.
    """
    limits = _state()
    if limits is None:
        return
    address = client_address()
    _hit(limits, "recovery", limits.recovery, (address,), {})
    if username is not None:
        account = _account(limits, _account_name(username))
        detail = {"account": account}
        _hit(limits, "recovery-account", limits.recovery_account, (account, address), detail)


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


def _items(value: str) -> tuple[RateLimitItem, ...]:
    """``value``'s windows, each once, shortest first (settings checked that it parses)."""
    return tuple(sorted(set(parse_many(value)), key=lambda item: item.get_expiry()))


def _address_limits() -> None:
    """The per-address limits, one storage call per request: each ceremony endpoint apart,
    the admin API together; any other path counts nothing."""
    limits = _state()
    if limits is None:  # pragma: no cover - registered only with the limits
        return
    path = request.path
    if path in CONFORMANCE_PATHS or path in _API_CEREMONY_PATHS:
        _hit(
            limits, "ceremony", limits.ceremony, (path, client_address()), {}, message=_FROM_ADDRESS
        )
    elif _is_admin_path(path):
        _hit(limits, "admin", limits.admin, (client_address(),), {}, message=_FROM_ADDRESS)


def _is_admin_path(path: str) -> bool:
    return path == _ADMIN_PATH or path.startswith(_ADMIN_PATH + "/")


def _account_name(username: str) -> str:
    """The account ``username`` names: its RFC 8265 canonical form, as accounts are kept.

    ``Ada``, ``ADA`` and ``ADA`` in full-width letters are one account; ``Straße`` and
    ``strasse`` are two, as they are two users. The schemas refuse whatever canonical()
    refuses before it gets here; should such a name arrive anyway, it is still counted,
    under its exact text after a NUL (which no canonical name holds): never skipped, and
    never an error of the limiter's.
    """
    try:
        return canonical(username)
    except Malformed:
        return "\x00" + username


def _account(limits: _Limits, name: str) -> str:
    encoded = name.encode("utf-8", "surrogatepass")  # a lone surrogate is JSON, not UTF-8
    return hmac.new(limits.account_key, encoded, hashlib.sha256).hexdigest()[:24]


def _hit(
    limits: _Limits,
    name: str,
    items: Sequence[RateLimitItem],
    key: tuple[str, ...],
    detail: Mapping[str, object],
    *,
    message: str = "too many requests; try again later",
) -> None:
    """Count one request against every window of ``items``; 429 if any of them is full.

    ``Retry-After`` is when the last full window has room again; the audit row names the
    shortest full window, once per that window.
    """
    identifiers = (name, *key)
    refused = rate_limits.hit_windows(limits.storage, items, identifiers)
    if not refused:
        return
    reset_at = max(limits.strategy.get_window_stats(item, *identifiers)[0] for item in refused)
    first = refused[0]
    if _first_refusal(limits.storage, first.key_for(*identifiers), first.get_expiry()):
        _audit(name, {**detail, "rate": str(first)})
    raise RateLimited(message, retry_after=_seconds(reset_at))


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
    rate_limits.audit_refusal(
        current_app.extensions["authsvc"],
        limit=name,
        path=request.path,
        client_address=address or client_address(),
        detail=detail,
        credential_id=credential_id,
    )


def _store_down(_exc: StorageError) -> Response:
    return problem_response(Unavailable("the rate-limit store is unavailable"))
