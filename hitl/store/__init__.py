"""The preference store: SQLAlchemy Core tables, SQLite or PostgreSQL chosen by URL, Alembic migrations."""

from hitl.store.engine import Store, StoreError, default_url, open_store

__all__ = ["Store", "StoreError", "default_url", "open_store"]
