"""Where the shared, read-only test data lives: ``../shared`` beside the repository.

``../shared/vectors`` holds real authenticator responses, ``../shared/mds`` FIDO metadata.
``SHARED_DIR`` points elsewhere when the checkout is not beside it.
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
VECTORS = SHARED / "vectors"
MDS = SHARED / "mds"
