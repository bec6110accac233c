"""Admin use cases on accounts: end a user's sessions, disable or enable a user.

They run through :func:`authsvc.services.admin.run_admin` like every admin call (role,
audit as ``admin.<action>``). Changing a status needs a step-up; ending sessions does not,
since it only ever takes access away (the first thing to do about a stolen cookie).
"""

from __future__ import annotations

from sqlalchemy import Connection

from authsvc.errors import Conflict, Malformed
from authsvc.services.admin import Actor, run_admin
from authsvc.services.audited import Subject
from authsvc.services.context import Services
from authsvc.services.sessions import end_user_sessions
from authsvc.storage import accounts, user_state
from authsvc.storage.records import Role, UserStatus


def revoke_user_sessions(services: Services, actor: Actor, user_id: int) -> int:
    """End every session of ``user_id``; return how many there were."""

    def work(conn: Connection, subject: Subject) -> int:
        subject.user_id = user_id
        user_state.status(conn, user_id)  # NotFound for no such user
        end_user_sessions(services, conn, user_id, subject)
        ended = subject.detail["sessions_ended"]
        assert isinstance(ended, int)  # noqa: S101 - set just above
        return ended

    return run_admin(services, actor, "session.revoke_all", work)


def set_user_status(services: Services, actor: Actor, user_id: int, status: str) -> None:
    """Disable or enable a user; disabling ends their sessions.

    An admin cannot change their own status (``forbidden``: a hijacked admin session must
    not be able to lock its owner out, nor an admin shed their own account by mistake), and
    the last active admin cannot be disabled (``conflict``), decided by
    :func:`authsvc.storage.accounts.other_active_admins` under its row locks, so two admins
    disabling each other at once cannot both succeed.
    """

    def work(conn: Connection, subject: Subject) -> None:
        if status not in user_state.USER_STATUSES:
            raise Malformed(f"status must be one of {', '.join(sorted(user_state.USER_STATUSES))}")
        target = accounts.user_summary(conn, user_id)  # NotFound for no such user
        if (
            status == UserStatus.DISABLED
            and (target.role, target.status) == (Role.ADMIN, UserStatus.ACTIVE)
            and not accounts.other_active_admins(conn, user_id)
        ):
            raise Conflict("the last active admin cannot be disabled")
        previous = user_state.set_status(conn, user_id, status)
        subject.detail.update(status=status, previous=previous)
        if status == UserStatus.DISABLED:
            end_user_sessions(services, conn, user_id, subject)

    run_admin(services, actor, "user.status", work, step_up=True, target_user_id=user_id)
