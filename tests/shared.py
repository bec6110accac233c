"""Where the shared, read-only test data lives: ``../shared`` beside the repository.

``../shared/vectors`` holds real authenticator responses, ``../shared/mds`` FIDO metadata.
``SHARED_DIR`` points elsewhere when the checkout is not beside it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

SHARED = Path(os.environ.get("SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
VECTORS = SHARED / "vectors"
MDS = SHARED / "mds"
#: what a vector without ``algorithms`` was offered: ES256, EdDSA, RS256, PS256
VECTOR_DEFAULT_ALGORITHMS = (-7, -8, -257, -37)


@dataclass(frozen=True)
class Vector:
    """One vector file: ``data`` is the JSON as it is (the README beside it says the fields)."""

    name: str
    data: dict[str, Any]

    @property
    def expected(self) -> dict[str, Any]:
        expected: dict[str, Any] = self.data["expected"]
        return expected

    @property
    def algorithms(self) -> tuple[int, ...]:
        """The COSE algorithms the RP offered; absent means the four the README names."""
        offered: list[int] | None = self.data.get("algorithms")
        return tuple(offered) if offered else VECTOR_DEFAULT_ALGORITHMS

    @property
    def trust_roots(self) -> list[str]:
        roots: list[str] = self.data.get("trust_roots") or []
        return roots

    @property
    def at(self) -> datetime:
        """``verify_at``; vectors without a certificate chain have none and any time will do."""
        verify_at = self.data.get("verify_at")
        return datetime.fromisoformat(verify_at) if verify_at else datetime.now(UTC)


V = TypeVar("V", bound=Vector)


def load_vectors(ceremony: str | None = None, kind: type[V] = Vector) -> list[V]:  # type: ignore[assignment]
    """Every ``*.json`` in the vectors folder (of one ceremony), so new files run unasked."""
    files = sorted(VECTORS.glob("*.json"))
    assert files, f"no vectors found in {VECTORS}"
    vectors = [kind(p.stem, json.loads(p.read_text(encoding="utf-8"))) for p in files]
    return [v for v in vectors if ceremony is None or v.data["ceremony"] == ceremony]
