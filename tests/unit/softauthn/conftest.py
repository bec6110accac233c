"""Fixtures of the software authenticator's tests."""

from __future__ import annotations

import pytest

from tests.softauthn import (
    TestCA,
)


@pytest.fixture(scope="module")
def ca() -> TestCA:
    """One CA for the module (key generation is the slow part)."""
    return TestCA.generate()
