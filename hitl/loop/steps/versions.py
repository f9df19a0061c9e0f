"""Looking up registered model versions by name or id, for the steps that make or reuse them.

    python -c "from hitl.store import open_store; from hitl.loop.steps.versions import find_version; \
print(find_version(open_store(), 'policy', 'default'))"
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hitl.store import Store
from hitl.store.schema import model_versions


def find_version(store: Store, kind: str, name: str) -> Any | None:
    """The registered `kind` ("reward" or "policy") version called `name` (the oldest, if several), or None."""
    with store.read() as conn:
        return conn.execute(
            select(model_versions)
            .where(model_versions.c.kind == kind, model_versions.c.name == name)
            .order_by(model_versions.c.id)
        ).first()


def version_by_id(store: Store, version_id: int | None) -> Any | None:
    """The model version row with this id, or None (also for None)."""
    if version_id is None:
        return None
    with store.read() as conn:
        return conn.execute(select(model_versions).where(model_versions.c.id == version_id)).first()
