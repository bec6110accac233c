"""Recovery codes and one-time tokens, as hashes, each used at most once.

Neither table ever holds a usable secret: codes are stored as keyed hashes and tokens as
SHA-256 (both computed by :mod:`authsvc.services.recovery`), so a database dump alone
signs nobody in. Using a code or a token *deletes* its row, and the delete is the decision:
of two requests presenting the same code at once, exactly one deletes a row (PostgreSQL
row locks; SQLite runs writers one at a time), the other deletes nothing and fails.

Every function writes in the caller's transaction, together with its audit record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Connection, delete, func, insert, select

from authsvc.storage.models import one_time_tokens, recovery_codes, users
from authsvc.storage.records import UserStatus
from authsvc.storage.user_state import ACCOUNT_COLUMNS, SessionAccount, account_of

#: the purpose of the one-time token an admin's registration link carries
RECOVERY_LINK: Final = "recovery"
#: the purpose of a registration token (``/api/v1/registrations`` without a session)
REGISTRATION_PURPOSE: Final = "registration"


def replace_codes(
    conn: Connection, user_id: int, code_hashes: Sequence[bytes], now: datetime
) -> int:
    """Make ``code_hashes`` the user's whole set of codes; return how many old ones it ended."""
    ended = conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
    conn.execute(
        insert(recovery_codes),
        [{"user_id": user_id, "code_hash": h, "created_at": now} for h in code_hashes],
    )
    return int(ended.rowcount)


def code_status(conn: Connection, user_id: int) -> tuple[int, datetime | None]:
    """How many unused codes the user has, and when their set was made (None: no codes).

    A set is written at once, so the earliest ``created_at`` is the whole set's.
    """
    row = conn.execute(
        select(func.count(recovery_codes.c.id), func.min(recovery_codes.c.created_at)).where(
            recovery_codes.c.user_id == user_id
        )
    ).one()
    count = int(row[0])
    return count, row[1] if count else None


def has_code(conn: Connection, user_id: int, code_hash: bytes) -> bool:
    """Whether ``code_hash`` is an unused code of ``user_id`` (one indexed read)."""
    found = conn.execute(
        select(recovery_codes.c.id).where(
            recovery_codes.c.code_hash == code_hash, recovery_codes.c.user_id == user_id
        )
    ).first()
    return found is not None


def take_code(conn: Connection, user_id: int, code_hash: bytes) -> bool:
    """Delete the code; True only for the one transaction whose delete found it."""
    result = conn.execute(
        delete(recovery_codes).where(
            recovery_codes.c.code_hash == code_hash, recovery_codes.c.user_id == user_id
        )
    )
    return int(result.rowcount) == 1


@dataclass(frozen=True, slots=True)
class TakenToken:
    """A token that was just redeemed (and so deleted): whose it was, and until when it held."""

    user_id: int
    expires_at: float


def issue_token(
    conn: Connection,
    *,
    purpose: str,
    user_id: int,
    token_hash: bytes,
    now: datetime,
    expires_at: float,
    issued_by: int | None,
) -> int:
    """Store a token, ending the user's earlier ones of the same purpose; return how many."""
    ended = conn.execute(
        delete(one_time_tokens).where(
            one_time_tokens.c.user_id == user_id, one_time_tokens.c.purpose == purpose
        )
    )
    conn.execute(
        insert(one_time_tokens).values(
            token_hash=token_hash,
            purpose=purpose,
            user_id=user_id,
            created_at=now,
            expires_at=expires_at,
            issued_by=issued_by,
        )
    )
    return int(ended.rowcount)


def find_token(conn: Connection, purpose: str, token_hash: bytes) -> TakenToken | None:
    """The token of ``purpose``, left in place (one indexed read); None if there is none."""
    row = conn.execute(
        select(one_time_tokens.c.user_id, one_time_tokens.c.expires_at).where(
            one_time_tokens.c.token_hash == token_hash, one_time_tokens.c.purpose == purpose
        )
    ).one_or_none()
    return None if row is None else TakenToken(int(row[0]), float(row[1]))


def take_token(conn: Connection, purpose: str, token_hash: bytes) -> TakenToken | None:
    """Delete and return the token of ``purpose``; None if there is none (or never was)."""
    rows = conn.execute(
        delete(one_time_tokens)
        .where(one_time_tokens.c.token_hash == token_hash, one_time_tokens.c.purpose == purpose)
        .returning(one_time_tokens.c.user_id, one_time_tokens.c.expires_at)
    ).fetchall()  # a DELETE … RETURNING must run to completion inside the transaction
    return TakenToken(int(rows[0][0]), float(rows[0][1])) if rows else None


def recovered_account(conn: Connection, user_id: int) -> SessionAccount | None:
    """The account of a recovered session (which has no credential yet), if it is active."""
    row = conn.execute(
        select(*ACCOUNT_COLUMNS).where(
            users.c.id == user_id, users.c.status == UserStatus.ACTIVE.value
        )
    ).one_or_none()
    return None if row is None else account_of(row)
