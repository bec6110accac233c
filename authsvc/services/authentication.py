"""Signing in with a passkey: issue request options, then verify the assertion.

A sign-in is one signature verification, a few indexed statements and one transaction:
consume the challenge, read the credential (joined with its user's handle), check that its
user is not disabled, compare-and-set the sign count, start what the caller's
:class:`~authsvc.services.outcomes.Outcome` starts (the web: replace the caller's session
record, a delete by primary key and an insert; ``/api/v1``: a token session), append the
audit record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from authsvc.ceremony.authentication import StoredCredential, verify_authentication
from authsvc.ceremony.options import KnownCredential, request_options
from authsvc.ceremony.responses import AssertionResponse
from authsvc.ceremony.state import CeremonyKind, PendingCeremony
from authsvc.errors import CredentialUnknown, SignCountRegressed
from authsvc.policy.model import Policy
from authsvc.policy.options import authentication_hints
from authsvc.services.audited import Subject, finish_ceremony
from authsvc.services.context import Caller, Services
from authsvc.services.outcomes import Established, Outcome, hardware_key, origins_for
from authsvc.services.policy import (
    credential_facts,
    decision_detail,
    enforce,
    policy_by_id,
)
from authsvc.services.sessions import end_credential_sessions
from authsvc.storage import accounts, user_state
from authsvc.storage import policies as policy_store
from authsvc.storage import repositories as repo
from authsvc.storage.db import transaction
from authsvc.storage.records import CredentialRecord, CredentialStatus

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class AssertionRequest:
    """A checked ``/assertion/options`` request; no username means a discoverable sign-in."""

    username: str | None
    user_verification: str = "preferred"
    extensions: Mapping[str, Any] = field(default_factory=dict)
    #: the app client the options are for (``/api/v1``): the result must come from it
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class SignedIn(Generic[S]):
    user_id: int
    username: str
    credential_id: bytes
    user_verified: bool
    session: S


def begin_authentication(
    services: Services, request: AssertionRequest, caller: Caller
) -> tuple[str, dict[str, Any]]:
    """Options for a sign-in; returns (ceremony id, PublicKeyCredentialRequestOptionsJSON).

    A username with no active passkey (unknown, or every passkey disabled) is answered
    like any other (§14.6.2): its imaginary credentials, the default group's policy, a
    challenge really stored. Both paths compute the decoys and run the same statements
    (credential lookup, the default group's policy id, challenge write), so neither the
    answer nor its time tells whether the account exists.
    """
    settings = services.settings
    with transaction(services.engine) as conn:
        # read on every path, used when there is no user (a discoverable sign-in, or no
        # active passkey): a known username must not be one statement shorter
        policy_id = policy_store.default_policy_id(conn)
        user_id: int | None = None
        allow: tuple[KnownCredential, ...] = ()
        if request.username is not None:
            allow, owner = _allow_list(services, conn, request.username)
            if owner is not None:
                user_id, policy_id = owner.user_id, owner.policy_id
        policy = policy_by_id(services, conn, policy_id)
        hints = authentication_hints(policy, user_verification=request.user_verification)
        pending = services.new_pending(
            CeremonyKind.AUTHENTICATION,
            caller,
            hints.user_verification,
            user_id=user_id,
            allowed_credentials=tuple(c.credential_id for c in allow),
            client_id=request.client_id,
        )
        services.challenges.put(pending, conn)
    options = request_options(
        rp_id=settings.rp_id,
        challenge=pending.challenge,
        timeout_ms=settings.challenge_ttl * 1000,
        allow=allow,
        user_verification=hints.user_verification,
        extensions=request.extensions,
        hints=hints.hints,
    )
    return pending.id, options


def _allow_list(
    services: Services, conn: Connection, username: str
) -> tuple[tuple[KnownCredential, ...], CredentialRecord | None]:
    """The username's active credentials and one of them (user, group policy), or its
    decoys and no owner.

    The decoys are computed for every username, used or not, so a known one costs what an
    unknown one does.
    """
    decoys = services.decoys.for_username(username)
    found = repo.sign_in_credentials(conn, username)
    active = tuple(
        KnownCredential(c.credential_id, c.transports)
        for c in found
        if c.status == CredentialStatus.ACTIVE
    )
    if not active:
        return decoys, None
    return active, found[0]


def finish_authentication(
    services: Services,
    response: AssertionResponse,
    ceremony_id: str | None,
    caller: Caller,
    *,
    outcome: Outcome[S],
) -> SignedIn[S]:
    """Consume the ceremony, verify the assertion, record the use, audit; atomically.

    A success starts ``outcome``'s session in the same transaction (the web's cookie
    session under a new id, or a step-up of it; on Redis its record is written right after
    the commit).
    """

    def work(conn: Connection, pending: PendingCeremony, subject: Subject) -> SignedIn[S]:
        found = repo.sign_in_credential(conn, response.credential_id)
        stored = (
            None if found is None else _stored(found, policy_by_id(services, conn, found.policy_id))
        )
        origins = origins_for(services, conn, subject, pending, response.client_data)

        def identified(record: StoredCredential[_Found]) -> None:
            """§7.2 step 6 found the record: from here on the audit names its user."""
            subject.user_id = record.user_id
            if not user_state.is_active(conn, record.user_id):
                subject.detail["user_disabled"] = True
                raise CredentialUnknown  # said as for an unknown key: a stranger learns nothing
            subject.detail.update(decision_detail(record.kept.policy))
            origins.settle()

        verified = verify_authentication(
            response=response,
            expected=pending.expectation(origins.policy),
            allow_credentials=pending.allowed_credentials,
            user_id=pending.user_id,
            credential=stored,
            on_identified=identified,
            accept_regressed_counter=stored is not None
            and stored.kept.policy.sign_count_regression != "reject",
        )
        credential, policy = verified.kept.credential, verified.kept.policy
        if verified.counter_regressed:
            _regressed_counter(services, conn, policy, credential.id, subject)
        enforce(
            policy,
            credential_facts(services, credential, user_verified=verified.user_verified),
            ceremony="authentication",
        )
        if not repo.record_use(
            conn,
            credential_pk=credential.id,
            old_sign_count=credential.sign_count,
            # a regressed counter (accepted under "flag") keeps the higher stored value, so
            # the next clone-like assertion is noticed too
            new_sign_count=max(verified.sign_count, credential.sign_count),
            backed_up=verified.backed_up,
            at=services.now(),
        ):
            raise SignCountRegressed("another sign-in with this credential moved the counter")
        subject.detail["uv"] = verified.user_verified
        started = outcome.start(
            conn,
            subject,
            Established(
                user_id=credential.user_id,
                user_handle=credential.user_handle,
                credential_pk=credential.id,
                credential_id=credential.credential_id,
                user_verified=verified.user_verified,
                hardware_key=hardware_key(
                    aaguid_proven=credential.aaguid_proven,
                    backup_eligible=credential.backup_eligible,
                ),
                app=origins.app,
            ),
        )
        return SignedIn(
            credential.user_id,
            credential.username,
            credential.credential_id,
            verified.user_verified,
            started,
        )

    signed_in = finish_ceremony(
        services,
        CeremonyKind.AUTHENTICATION,
        ceremony_id=ceremony_id,
        caller=caller,
        credential_id=response.credential_id,
        work=work,
    )
    outcome.committed(signed_in.session)
    return signed_in


def _regressed_counter(
    services: Services, conn: Connection, policy: Policy, credential_pk: int, subject: Subject
) -> None:
    """A counter that did not grow may mean a cloned authenticator: the policy says what next.

    "lock" disables the credential and ends the sessions it signed in (the writes commit
    with the audit record of the refused sign-in) and refuses; "flag" marks it for an admin
    to look at and lets this sign-in on.
    """
    if policy.sign_count_regression == "lock":
        accounts.set_credential_status(conn, credential_pk, CredentialStatus.LOCKED)
        end_credential_sessions(services, conn, credential_pk, subject)
        subject.detail["locked"] = True
        raise SignCountRegressed("the counter did not grow; the credential is now locked")
    accounts.flag_credential(conn, credential_pk, services.now())
    subject.detail["flagged"] = True


@dataclass(frozen=True, slots=True)
class _Found:
    """What the sign-in keeps of the credential it looked up: the row and its policy."""

    credential: CredentialRecord
    policy: Policy


def _stored(credential: CredentialRecord, policy: Policy) -> StoredCredential[_Found]:
    return StoredCredential(
        credential_id=credential.credential_id,
        user_id=credential.user_id,
        user_handle=credential.user_handle,
        public_key=credential.public_key,
        sign_count=credential.sign_count,
        backup_eligible=credential.backup_eligible,
        active=credential.status == CredentialStatus.ACTIVE,
        kept=_Found(credential, policy),
    )
