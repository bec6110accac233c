"""The stored records the web layer renders, and the values it may set, named for the web.

The web layer reads the database only through the services (an import contract in
``pyproject.toml`` forbids ``authsvc.web`` importing ``authsvc.storage`` or
``authsvc.audit``), yet its JSON is made from what the services return: these record types
and value sets. They are defined once, by the storage layer that fills them; this module
only names them for the layer above, so a view never learns where a row comes from.
"""

from __future__ import annotations

from authsvc.storage.accounts import UserSummary
from authsvc.storage.app_clients import AppRow
from authsvc.storage.policies import GroupRow, PolicyRow
from authsvc.storage.records import CREDENTIAL_STATUSES, ROLES, USER_STATUSES, CredentialRecord
from authsvc.storage.sessions import SessionRecord

__all__ = [
    "CREDENTIAL_STATUSES",
    "ROLES",
    "USER_STATUSES",
    "AppRow",
    "CredentialRecord",
    "GroupRow",
    "PolicyRow",
    "SessionRecord",
    "UserSummary",
]
