"""Policy documents: the JSON an administrator sends, checked field by field.

Every input is treated as hostile. A document is a JSON object holding only the rules (the
``name`` and ``version`` belong to the stored row, so they are arguments, not fields); each
field may be left out for its "no requirement" default. Anything else is refused: unknown
fields, a wrong type (``true`` is not an integer, ``"1"`` is not a number), an AAGUID that is
not a UUID, a list longer than the cap, a number out of range, an unknown algorithm or
modality, and a policy that no authenticator could ever satisfy. All problems found are
reported together, capped so a huge document cannot make a huge error.

Problems are our own words: they name fields and list positions and never echo submitted
text, except AAGUIDs that have already been checked to be UUIDs.

``max_false_accept_rate``, ``modalities``, ``min_certification_level`` and
``allowed_aaguids`` are accepted without ``require_trusted_attestation``: they imply proof
anyway, because :func:`~authsvc.policy.evaluate.evaluate` only lets a proven model meet them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable
from dataclasses import fields
from typing import Final, TypeVar

from authsvc import algorithms
from authsvc.policy.errors import PolicyInvalid
from authsvc.policy.model import (
    ATTACHMENT_VALUES,
    DEFAULT_MAX_CREDENTIALS,
    KNOWN_MODALITIES,
    MAX_CERTIFICATION_LEVEL,
    MAX_CREDENTIALS_RANGE,
    SIGN_COUNT_ACTIONS,
    USER_VERIFICATION_VALUES,
    Policy,
    unsatisfiable,
)

MAX_AAGUIDS: Final = 256
MAX_PROBLEMS: Final = 20
STEP_UP_RANGE: Final = (10, 86_400)
MAX_VERSION: Final = 2**31 - 1  # fits every database's INTEGER

_AAGUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}", re.ASCII)
_SHOWABLE_KEY = re.compile(r"[A-Za-z0-9_]{1,40}", re.ASCII)

#: the document's fields, in the order :func:`policy_document` writes them
FIELDS: Final = tuple(f.name for f in fields(Policy) if f.name not in {"name", "version"})

_S = TypeVar("_S", bound=str)
_H = TypeVar("_H", bound=Hashable)

__all__ = [
    "FIELDS",
    "MAX_AAGUIDS",
    "PolicyInvalid",
    "parse_policy",
    "policy_document",
    "unsatisfiable",
]


class _TooManyProblems(Exception):
    """Stops reading once :data:`MAX_PROBLEMS` are known; enough to fix before resubmitting."""


class _Reader:
    """Reads one field at a time, recording problems and returning the default on any."""

    def __init__(self, doc: dict[object, object]) -> None:
        self.doc = doc
        self.problems: list[str] = []

    def problem(self, message: str) -> None:
        self.problems.append(message)
        if len(self.problems) >= MAX_PROBLEMS:
            raise _TooManyProblems

    def choice(self, key: str, values: tuple[_S, ...], default: _S) -> _S:
        value = self.doc.get(key, default)
        for allowed in values:
            if value == allowed and isinstance(value, str):
                return allowed
        self.problem(f"{key} must be one of {', '.join(repr(v) for v in values)}")
        return default

    def optional_choice(self, key: str, values: tuple[_S, ...]) -> _S | None:
        value = self.doc.get(key)
        if value is None:
            return None
        for allowed in values:
            if value == allowed and isinstance(value, str):
                return allowed
        self.problem(f"{key} must be null or one of {', '.join(repr(v) for v in values)}")
        return None

    def boolean(self, key: str, *, default: bool = False) -> bool:
        value = self.doc.get(key, default)
        if isinstance(value, bool):
            return value
        self.problem(f"{key} must be true or false")
        return default

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.doc.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(f"{key} must be an integer (not a boolean, string or fraction)")
            return default
        if not low <= value <= high:
            self.problem(f"{key} must be between {low} and {high}")
            return default
        return value

    def rate(self, key: str) -> float | None:
        value = self.doc.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(f"{key} must be null or a number")
            return None
        # any integer is out of range, and float() of a huge one would overflow
        if isinstance(value, int) or not (math.isfinite(value) and 0.0 < value < 1.0):
            self.problem(f"{key} must be greater than 0 and less than 1 (e.g. 2e-05)")
            return None
        return value

    def members(
        self, key: str, convert: Callable[[object], _H | None], cap: int, expected: str
    ) -> frozenset[_H] | None:
        """A list of distinct, valid members; None (with problems) when anything is wrong."""
        value = self.doc.get(key)
        if not isinstance(value, list):
            self.problem(f"{key} must be a list")
            return None
        if len(value) > cap:
            self.problem(f"{key} has {len(value)} entries; at most {cap} are allowed")
            return None
        seen: set[_H] = set()
        ok = True
        for i, item in enumerate(value):
            member = convert(item)
            if member is None:
                self.problem(f"{key}[{i}] must be {expected}")
                ok = False
            elif member in seen:
                self.problem(f"{key}[{i}] repeats an earlier entry")
                ok = False
            else:
                seen.add(member)
        return frozenset(seen) if ok else None

    def optional_members(
        self, key: str, convert: Callable[[object], _H | None], cap: int, expected: str
    ) -> frozenset[_H] | None:
        """Like :meth:`members`, but a missing field or null means "no requirement"."""
        if self.doc.get(key) is None:
            return None
        return self.members(key, convert, cap, expected)


def _aaguid(item: object) -> str | None:
    """A canonical AAGUID: lowercase, dashed (an uppercase one is accepted and normalised)."""
    if isinstance(item, str) and len(item) == 36 and _AAGUID.fullmatch(item.lower()):
        return item.lower()
    return None


def _modality(item: object) -> str | None:
    return item if isinstance(item, str) and item in KNOWN_MODALITIES else None


def _algorithm(item: object) -> int | None:
    if isinstance(item, bool) or not isinstance(item, int):
        return None
    return item if item in algorithms.NAMES else None


_AAGUID_EXPECTED: Final = "a UUID like 'cb69481e-8ff7-4039-93ec-0a2729a154a8'"
_MODALITY_EXPECTED: Final = "one of " + ", ".join(sorted(KNOWN_MODALITIES))
_ALGORITHM_EXPECTED: Final = (
    "a supported COSE algorithm ("
    + ", ".join(f"{a} {n}" for a, n in algorithms.NAMES.items())
    + ")"
)


def parse_policy(doc: object, *, name: str, version: int) -> Policy:
    """Check a policy document and return its :class:`Policy`; raise :class:`PolicyInvalid`.

    ``policy_document(parse_policy(doc, ...))`` is the canonical form of ``doc`` (AAGUIDs
    lowercased, lists sorted, every field present), and parsing it again gives an equal policy.
    """
    problems = _identity_problems(name, version)
    if not isinstance(doc, dict):
        raise PolicyInvalid([*problems, "a policy document must be a JSON object"])
    reader = _Reader(doc)
    reader.problems = problems
    try:
        policy = _read(reader, name=name, version=version)
        if not reader.problems:
            for problem in unsatisfiable(policy):
                reader.problem(problem)
    except _TooManyProblems:
        reader.problems.append("(further problems were not checked)")
        raise PolicyInvalid(reader.problems) from None
    if reader.problems:
        raise PolicyInvalid(reader.problems)
    return policy


def _identity_problems(name: object, version: object) -> list[str]:
    problems = []
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        problems.append("name must be 1 to 64 of a-z, 0-9, '.', '_', '-', starting alphanumeric")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
        problems.append(f"version must be an integer from 1 to {MAX_VERSION}")
    return problems


def _read(reader: _Reader, *, name: str, version: int) -> Policy:
    """Read every field in order; unknown fields first, so a misspelling is reported early."""
    for key in reader.doc:
        if not isinstance(key, str):
            reader.problem("every field name must be a string")
        elif key in {"name", "version"}:
            reader.problem(f"unknown field {key!r} (name and version are not part of the rules)")
        elif key not in FIELDS:
            shown = repr(key) if _SHOWABLE_KEY.fullmatch(key) else "(name not shown)"
            reader.problem(f"unknown field {shown}")
    return Policy(
        name=name,
        version=version,
        user_verification=reader.choice("user_verification", USER_VERIFICATION_VALUES, "preferred"),
        attachment=reader.optional_choice("attachment", ATTACHMENT_VALUES),
        require_trusted_attestation=reader.boolean("require_trusted_attestation"),
        allowed_aaguids=reader.optional_members(
            "allowed_aaguids", _aaguid, MAX_AAGUIDS, _AAGUID_EXPECTED
        ),
        denied_aaguids=(
            reader.members("denied_aaguids", _aaguid, MAX_AAGUIDS, _AAGUID_EXPECTED)
            if "denied_aaguids" in reader.doc
            else None
        )
        or frozenset(),
        device_bound_only=reader.boolean("device_bound_only"),
        max_false_accept_rate=reader.rate("max_false_accept_rate"),
        modalities=reader.optional_members(
            "modalities", _modality, len(KNOWN_MODALITIES), _MODALITY_EXPECTED
        ),
        min_certification_level=reader.integer(
            "min_certification_level", 0, 0, MAX_CERTIFICATION_LEVEL
        ),
        allowed_algorithms=reader.optional_members(
            "allowed_algorithms", _algorithm, len(algorithms.NAMES), _ALGORITHM_EXPECTED
        ),
        sign_count_regression=reader.choice("sign_count_regression", SIGN_COUNT_ACTIONS, "reject"),
        step_up_max_age_seconds=reader.integer("step_up_max_age_seconds", 300, *STEP_UP_RANGE),
        max_credentials=reader.integer(
            "max_credentials", DEFAULT_MAX_CREDENTIALS, *MAX_CREDENTIALS_RANGE
        ),
        recovery_codes=reader.boolean("recovery_codes", default=True),
        recovery_links=reader.boolean("recovery_links", default=True),
    )


def policy_document(policy: Policy) -> dict[str, object]:
    """The JSON-ready document of ``policy``: every field, in :data:`FIELDS` order, sets sorted.

    It holds the rules only; ``parse_policy(policy_document(p), name=p.name,
    version=p.version) == p`` for every valid policy.
    """
    aaguids = policy.allowed_aaguids
    modalities = policy.modalities
    algorithms = policy.allowed_algorithms
    return {
        "user_verification": policy.user_verification,
        "attachment": policy.attachment,
        "require_trusted_attestation": policy.require_trusted_attestation,
        "allowed_aaguids": None if aaguids is None else sorted(aaguids),
        "denied_aaguids": sorted(policy.denied_aaguids),
        "device_bound_only": policy.device_bound_only,
        "max_false_accept_rate": policy.max_false_accept_rate,
        "modalities": None if modalities is None else sorted(modalities),
        "min_certification_level": policy.min_certification_level,
        "allowed_algorithms": None if algorithms is None else sorted(algorithms),
        "sign_count_regression": policy.sign_count_regression,
        "step_up_max_age_seconds": policy.step_up_max_age_seconds,
        "max_credentials": policy.max_credentials,
        "recovery_codes": policy.recovery_codes,
        "recovery_links": policy.recovery_links,
    }
