"""The preference store: SQLAlchemy Core tables, SQLite or PostgreSQL chosen by URL, Alembic migrations."""

from hitl.store.engine import Store, StoreBusy, StoreError, default_url, open_store

__all__ = ["Store", "StoreBusy", "StoreError", "default_url", "open_store"]
