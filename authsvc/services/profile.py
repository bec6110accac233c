"""What the signed-in user's own page shows that their session does not carry.

A session holds only what authorisation needs (user id, role, verification times); the
account page also shows the WebAuthn user handle, which the browser's Signal API is given
(``signalCurrentUserDetails``), so it is read here, by primary key, when asked for.
"""

from __future__ import annotations

from authsvc.errors import NotFound
from authsvc.services.context import Services
from authsvc.storage import repositories
from authsvc.storage.db import transaction


def user_handle(services: Services, user_id: int) -> bytes:
    """The WebAuthn ``user.id`` of the user ``user_id``: one indexed read.

    ``NotFound`` if there is no such user (a signed-in user cannot be gone: loading the
    session just found them active, so this is only ever a race with a deletion).
    """
    with transaction(services.engine) as conn:
        found = repositories.get_user(conn, user_id)
    if found is None:
        raise NotFound("no such user")
    return found.user_handle
