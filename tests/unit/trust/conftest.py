"""Fixtures of the trust tests: one CA to issue the made-up attestation certificates."""

from __future__ import annotations

import pytest

from tests.unit.trust.builders import Issued, issue


@pytest.fixture(scope="module")
def root() -> Issued:
    return issue("Attestation Root", ca=True)
