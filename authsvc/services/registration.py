"""Registering a passkey: issue creation options, then verify and store the credential.

A new account (sign-up) is signed in by its registration: it just proved possession of
the new passkey. A passkey added to an existing account is an account change, so it needs
the account's own live session *and* a fresh user-verified assertion on it (step-up,
NIST SP 800-63B: binding an authenticator needs authentication at the session's level),
checked at the options and again at the result; and the account must be under its
policy's ``max_credentials``, counted with the user's row locked, together with the insert.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from authsvc.ceremony.checks import Expectation
from authsvc.ceremony.options import KnownCredential, creation_options
from authsvc.ceremony.registration import VerifiedRegistration, verify_registration
from authsvc.ceremony.responses import RegistrationResponse
from authsvc.ceremony.state import CeremonyKind, PendingCeremony
from authsvc.errors import ChallengeUnknown, Conflict, PolicyDenied, Unauthenticated
from authsvc.policy.evaluate import ReasonCode
from authsvc.policy.model import Policy
from authsvc.policy.options import registration_hints
from authsvc.services.attestation_trust import anchors_for
from authsvc.services.audited import Subject, finish_ceremony
from authsvc.services.context import Caller, Services
from authsvc.services.policy import decision_detail, enforce, facts, policy_for_user
from authsvc.services.sessions import (
    OpenedSession,
    live_session,
    open_session,
    publish,
    require_step_up_to_add_passkey,
)
from authsvc.storage import repositories as repo
from authsvc.storage import user_state
from authsvc.storage.db import transaction
from authsvc.storage.records import NewCredential

USER_HANDLE_BYTES = 32


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


@dataclass(frozen=True, slots=True)
class Registered:
    user_id: int
    credential: VerifiedRegistration
    #: the new account's session (sign-up); None when a passkey was added to an account
    session: OpenedSession | None


def begin_registration(
    services: Services, request: RegistrationRequest, caller: Caller
) -> tuple[str, dict[str, Any]]:
    """Options for a new passkey; returns (ceremony id, PublicKeyCredentialCreationOptionsJSON).

    A username that already exists can only get a new passkey from a session signed in as
    that user (otherwise anyone could add their own key to someone else's account), with a
    fresh step-up, and while the account is under its passkey cap.
    """
    settings = services.settings
    with transaction(services.engine) as conn:
        user = repo.get_user_by_username(conn, request.username)
        exclude: list[KnownCredential] = []
        policy = policy_for_user(services, conn, user.id if user else None)
        if user is not None:
            session = live_session(services, conn, caller.binding)
            if session is None or session.user_id != user.id:
                raise Conflict("this username is taken; sign in to add a passkey to it")
            require_step_up_to_add_passkey(services, conn, session)
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
        )
        services.challenges.put(pending, conn)
    selection: dict[str, Any] = {
        "residentKey": hints.resident_key,
        "requireResidentKey": hints.resident_key == "required",
        "userVerification": hints.user_verification,
    }
    if hints.attachment:
        selection["authenticatorAttachment"] = hints.attachment
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
        authenticator_selection=selection,
        attestation=hints.attestation,
        extensions={"credProps": True, **request.extensions},
    )
    if hints.hints:
        options["hints"] = list(hints.hints)
    return pending.id, options


def _check_cap(policy: Policy, credentials: int) -> None:
    if credentials >= policy.max_credentials:
        raise Conflict(
            f"this account has {credentials} passkeys; policy {policy.name} allows "
            f"{policy.max_credentials}: remove one first"
        )


def _check_session(
    services: Services, conn: Connection, caller: Caller, pending: PendingCeremony
) -> None:
    """Adding to an existing account: the session that asked must still be live, stepped up."""
    assert pending.user_id is not None  # noqa: S101 - only called for an existing account
    session = live_session(services, conn, caller.binding)
    if session is None or session.user_id != pending.user_id:
        raise Unauthenticated("the session that asked for these options has ended")
    require_step_up_to_add_passkey(services, conn, session)


def finish_registration(
    services: Services,
    response: RegistrationResponse,
    ceremony_id: str | None,
    caller: Caller,
    *,
    user_agent: str | None = None,
) -> Registered:
    """Consume the ceremony, verify the response, store user + credential, audit; atomically.

    A sign-up also signs the caller's session in as the new account, with UV as the
    registration performed it (on Redis, right after the commit).
    """

    credential_data = response.attestation.auth_data.credential_data
    aaguid = str(credential_data.aaguid) if credential_data else ""

    def work(conn: Connection, pending: PendingCeremony, subject: Subject) -> Registered:
        subject.detail["username"] = pending.username
        if pending.user_id is not None:
            _check_session(services, conn, caller, pending)
        anchors, key_id = anchors_for(services, response.attestation, aaguid)
        verified = verify_registration(
            response,
            Expectation(
                challenge=pending.challenge,
                rp_id=pending.rp_id,
                origins=subject.witnessing(services.origins),
                user_verification=pending.user_verification,
                algorithms=pending.algorithms,
            ),
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
        with conn.begin_nested():  # user, credential and session: all or none
            user_id = pending.user_id or _create_user(conn, pending, services)
            subject.user_id = user_id
            _check_cap(policy, user_state.credential_count(conn, user_id))
            pk = repo.add_credential(conn, _new_credential(user_id, verified, key_id, services))
            opened = (
                None
                if pending.user_id is not None
                else open_session(
                    services,
                    conn,
                    subject,
                    caller=caller,
                    user_agent=user_agent,
                    user_id=user_id,
                    credential_pk=pk,
                    user_verified=verified.flags.uv,
                )
            )
        return Registered(user_id=user_id, credential=verified, session=opened)

    registered = finish_ceremony(
        services,
        CeremonyKind.REGISTRATION,
        ceremony_id=ceremony_id,
        caller=caller,
        credential_id=response.credential_id,
        work=work,
    )
    publish(services, registered.session)
    return registered


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
