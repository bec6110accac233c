"""Where the rate-limit counters live, how a limit is hit, and how a refusal is recorded.

The limits themselves (which requests count, under which key) are HTTP matters and stay in
:mod:`authsvc.web.limits`; what they need of storage and the audit log is here, so the web
layer never opens a transaction or builds an audit event itself.

Counters live where every worker and instance sees them: Redis under ``REDIS_PREFIX`` when
``REDIS_URL`` is set, else the service's database through
:class:`~authsvc.storage.rate_limits.SqlRateLimitStorage` (registered with ``limits`` under
its own scheme when :mod:`authsvc.storage.rate_limits` is imported, which this module does).
"""

from __future__ import annotations

from typing import Any

from authsvc.audit.log import AuditEvent, append
from authsvc.errors import RateLimited
from authsvc.services.context import Services
from authsvc.storage.db import transaction
from authsvc.storage.rate_limits import SCHEME, hit_windows

__all__ = ["audit_refusal", "counter_storage", "hit_windows"]

#: seconds to wait for Redis before a check answers 503 ``unavailable``
_REDIS_TIMEOUT = 2


def counter_storage(services: Services) -> tuple[str, dict[str, Any]]:
    """The ``limits`` storage URI for the counters, and the options to build it with.

    Redis errors are wrapped (``wrap_exceptions``) so that they arrive as ``limits``'
    ``StorageError``, which the web layer answers 503: a limit is never skipped.
    """
    settings = services.settings
    if settings.redis_url:
        return settings.redis_url, {
            "key_prefix": settings.redis_prefix + "limits",
            "wrap_exceptions": True,
            "socket_connect_timeout": _REDIS_TIMEOUT,
            "socket_timeout": _REDIS_TIMEOUT,
        }
    return f"{SCHEME}://", {"engine": services.engine}


def audit_refusal(
    services: Services,
    *,
    limit: str,
    path: str,
    client_address: str,
    detail: dict[str, object],
    credential_id: bytes | None = None,
) -> None:
    """Append the audit record of a refusal by the limit ``limit``, in its own transaction.

    Its own, because the refused request runs no other: nothing of it is stored. The caller
    records only the first refusal of a window, so a flood adds one row, not one per request.
    """
    event = AuditEvent(
        event="rate_limit",
        outcome="failure",
        code=RateLimited.code,
        credential_id=credential_id,
        client_address=client_address,
        detail={"limit": limit, "path": path, **detail},
    )
    with transaction(services.engine) as conn:
        append(conn, event, services.now())
