"""Whether the backing stores answer; raises Unavailable (503) when one does not."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from authsvc.services.context import Services
from authsvc.storage.db import transaction


def check(services: Services) -> dict[str, Any]:
    with transaction(services.engine) as conn:
        conn.execute(text("SELECT 1"))
    services.challenges.ping()
    metadata = services.metadata.status()
    return {
        "status": "ok",
        "database": services.engine.dialect.name,
        "challenges": "redis" if services.settings.redis_url else "database",
        "metadata": {"source": metadata.source, "stale": metadata.stale},
    }
