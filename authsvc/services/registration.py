"""Registering a passkey: issue creation options, then verify and store the credential.

A new account (sign-up) is signed in by its registration: it just proved possession of
the new passkey. A passkey added to an existing account is an account change, so it needs
the account's holder to vouch for it (:mod:`authsvc.services.enrolment`): its own live
session *and* a fresh user-verified assertion on it (step-up, NIST SP 800-63B: binding an
authenticator needs authentication at the session's level), or a one-time registration
token (:mod:`authsvc.services.registration_tokens`), checked at the options and again at
the result; and the account must be under its policy's ``max_credentials``, counted with
the user's row locked, together with the insert. A redeemed registration token signs in
too: the app that used it has no session, and the registration proved the new passkey.

What a sign-in starts (a cookie session on the web, a token session over ``/api/v1``) is
the caller's :class:`~authsvc.services.outcomes.Outcome`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from authsvc.ceremony.options import KnownCredential, creation_options
from authsvc.ceremony.registration import VerifiedRegistration, verify_registration
from authsvc.ceremony.responses import RegistrationResponse
from authsvc.ceremony.state import CeremonyKind, PendingCeremony
from authsvc.errors import ChallengeUnknown, Conflict, NotFound, PolicyDenied, Unauthenticated
from authsvc.policy.evaluate import ReasonCode
from authsvc.policy.model import Policy
from authsvc.policy.options import registration_hints
from authsvc.services.attestation_trust import anchors_for
from authsvc.services.audited import Subject, finish_ceremony
from authsvc.services.context import Caller, Services
from authsvc.services.enrolment import AccountHolder
from authsvc.services.outcomes import Established, Outcome, hardware_key, origins_for
from authsvc.services.policy import decision_detail, enforce, facts, policy_for_user
from authsvc.services.registration_tokens import redeem
from authsvc.storage import repositories as repo
from authsvc.storage import user_state
from authsvc.storage.db import transaction
from authsvc.storage.records import CredentialRecord, NewCredential

USER_HANDLE_BYTES = 32
S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class RegistrationRequest:
    """A checked ``/attestation/options`` request."""

    username: str
    display_name: str
    resident_key: str = "preferred"
    user_verification: str = "preferred"
    attachment: str | None = None
    attestation: str = "none"
    extensions: Mapping[str, Any] = field(default_factory=dict)
    #: the app client the options are for (``/api/v1``): the result must come from it
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class Registered(Generic[S]):
    user_id: int
    credential: VerifiedRegistration
    #: the session a sign-up (or a redeemed registration token) started; None when a
    #: passkey was added to an account by its own session
    session: S | None


def begin_registration(
    services: Services, request: RegistrationRequest, caller: Caller, holder: AccountHolder
) -> tuple[str, dict[str, Any]]:
    """Options for a new passkey; returns (ceremony id, PublicKeyCredentialCreationOptionsJSON).

    A username that already exists can only get a new passkey when ``holder`` vouches for
    it (a session signed in as that user with a fresh step-up, or a registration token for
    it: otherwise anyone could add their own key to someone else's account), and while the
    account is under its passkey cap. A new username is a sign-up, if ``holder`` allows one.
    """
    settings = services.settings
    with transaction(services.engine) as conn:
        user = repo.get_user_by_username(conn, request.username)
        exclude: list[KnownCredential] = []
        policy = policy_for_user(services, conn, user.id if user else None)
        if user is None and not holder.allows_sign_up:
            raise Unauthenticated("this account no longer exists")
        if user is not None:
            if not holder.vouch(services, conn, user.id):
                raise Conflict("this username is taken; sign in to add a passkey to it")
            existing = repo.list_credentials(conn, user.id)
            _check_cap(policy, len(existing))
            exclude = [KnownCredential(c.credential_id, c.transports) for c in existing]
        handle = user.user_handle if user else secrets.token_bytes(USER_HANDLE_BYTES)
        # an existing account keeps the name it registered with: `FOLD-x` typed by fold-x
        # must not become the name the new authenticator shows
        username = user.username if user else request.username
        hints = registration_hints(  # the user's group policy can only tighten the request
            policy,
            offered=settings.algorithms,
            user_verification=request.user_verification,
            attachment=request.attachment,
            attestation="direct" if settings.require_trusted_attestation else request.attestation,
            resident_key=request.resident_key,
        )
        if not hints.algorithms:
            raise PolicyDenied(
                f"policy {policy.name} v{policy.version} allows no algorithm this service offers",
                reasons=[
                    {
                        "code": ReasonCode.ALGORITHM_NOT_ALLOWED.value,
                        "message": "allowed_algorithms and ALGORITHMS have nothing in common",
                    }
                ],
            )
        pending = services.new_pending(
            CeremonyKind.REGISTRATION,
            caller,
            hints.user_verification,
            user_id=user.id if user else None,
            user_handle=handle,
            username=username,
            display_name=request.display_name,
            algorithms=hints.algorithms,
            client_id=request.client_id,
            token_hash=holder.redeems,
        )
        services.challenges.put(pending, conn)
    options = creation_options(
        rp_id=settings.rp_id,
        rp_name=settings.rp_name,
        user_handle=handle,
        username=username,
        display_name=request.display_name,
        challenge=pending.challenge,
        algorithms=pending.algorithms,
        timeout_ms=settings.challenge_ttl * 1000,
        exclude=exclude,
        resident_key=hints.resident_key,
        user_verification=hints.user_verification,
        attachment=hints.attachment,
        attestation=hints.attestation,
        extensions={"credProps": True, **request.extensions},
        hints=hints.hints,
    )
    return pending.id, options


def _check_cap(policy: Policy, credentials: int) -> None:
    if credentials >= policy.max_credentials:
        raise Conflict(
            f"this account has {credentials} passkeys; policy {policy.name} allows "
            f"{policy.max_credentials}: remove one first"
        )


def finish_registration(
    services: Services,
    response: RegistrationResponse,
    ceremony_id: str | None,
    caller: Caller,
    *,
    holder: AccountHolder,
    outcome: Outcome[S],
) -> Registered[S]:
    """Consume the ceremony, verify the response, store user + credential, audit; atomically.

    Adding to an existing account: ``holder`` must still vouch for it (the session that
    asked is live and stepped up), unless the options were for a registration token, which
    is redeemed with the insert. A sign-up, or a redeemed token, starts ``outcome``'s
    session as the account, with UV as the registration performed it.
    """

    credential_data = response.attestation.auth_data.credential_data
    aaguid = str(credential_data.aaguid) if credential_data else ""

    def work(conn: Connection, pending: PendingCeremony, subject: Subject) -> Registered[S]:
        subject.detail["username"] = pending.username
        vouched_for = pending.user_id is None or pending.token_hash is not None
        if not vouched_for and not holder.vouch(services, conn, pending.user_id or 0):
            raise Unauthenticated("the session that asked for these options has ended")
        origins = origins_for(services, conn, subject, pending, response.client_data)
        origins.settle()
        anchors, key_id = anchors_for(services, response.attestation, aaguid)
        verified = verify_registration(
            response=response,
            expected=pending.expectation(origins.policy),
            anchors=anchors,
            at=services.now(),
            require_trusted=services.settings.require_trusted_attestation,
        )
        proven = verified.trusted  # the chain reached a root: the AAGUID is not just claimed
        subject.detail.update(
            fmt=verified.fmt, trust=verified.trust, aaguid=verified.aaguid_text, proven=proven
        )
        policy = policy_for_user(services, conn, pending.user_id)
        subject.detail.update(decision_detail(policy))
        registering = facts(
            services,
            aaguid=verified.aaguid,
            proven=proven,
            key_id=key_id,
            trust=verified.trust,
            attachment=verified.attachment,
            backup_eligible=verified.flags.be,
            algorithm=verified.algorithm,
            user_verified=verified.flags.uv,
        )
        enforce(policy, registering, ceremony="registration")
        with conn.begin_nested():  # token, user, credential and session: all or none
            if pending.token_hash is not None and pending.user_id is not None:
                redeem(services, conn, pending.token_hash, pending.user_id)
                subject.detail["registration_token"] = True
            user_id = pending.user_id or _create_user(conn, pending, services)
            subject.user_id = user_id
            _check_cap(policy, user_state.credential_count(conn, user_id))
            pk = repo.add_credential(conn, _new_credential(user_id, verified, key_id, services))
            signs_in = pending.user_id is None or pending.token_hash is not None
            started = (
                outcome.start(
                    conn,
                    subject,
                    Established(
                        user_id=user_id,
                        user_handle=_user_handle(pending),
                        credential_pk=pk,
                        credential_id=verified.credential_id,
                        user_verified=verified.flags.uv,
                        hardware_key=hardware_key(
                            aaguid_proven=proven, backup_eligible=verified.flags.be
                        ),
                        app=origins.app,
                    ),
                )
                if signs_in
                else None
            )
        return Registered(user_id=user_id, credential=verified, session=started)

    registered = finish_ceremony(
        services,
        CeremonyKind.REGISTRATION,
        ceremony_id=ceremony_id,
        caller=caller,
        credential_id=response.credential_id,
        work=work,
    )
    if registered.session is not None:
        outcome.committed(registered.session)
    return registered


def _user_handle(pending: PendingCeremony) -> bytes:
    if pending.user_handle is None:
        raise ChallengeUnknown("the pending registration names no user")
    return pending.user_handle


def _create_user(conn: Connection, pending: PendingCeremony, services: Services) -> int:
    if pending.username is None or pending.user_handle is None:
        raise ChallengeUnknown("the pending registration names no user")
    user = repo.create_user(
        conn,
        username=pending.username,
        display_name=pending.display_name or pending.username,
        user_handle=pending.user_handle,
        created_at=services.now(),
    )
    return user.id


def _new_credential(
    user_id: int, v: VerifiedRegistration, key_id: str | None, services: Services
) -> NewCredential:
    return NewCredential(
        credential_id=v.credential_id,
        user_id=user_id,
        public_key=v.public_key,
        algorithm=v.algorithm,
        sign_count=v.sign_count,
        aaguid=v.aaguid,
        fmt=v.fmt,
        attestation_type=v.attestation_type,
        trust=v.trust,
        transports=v.transports,
        backup_eligible=v.flags.be,
        backed_up=v.flags.bs,
        attachment=v.attachment,
        name=None,
        created_at=services.now(),
        aaguid_proven=v.trusted,
        attestation_key_id=key_id,
    )


def stored_credential(services: Services, credential_id: bytes) -> CredentialRecord:
    """The credential a registration just stored, as the account API shows it."""
    with transaction(services.engine) as conn:
        found = repo.sign_in_credential(conn, credential_id)
    if found is None:  # deleted between the commit and this read
        raise NotFound("the new passkey was removed in the meantime")
    return found
