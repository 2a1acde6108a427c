"""Saved runs: a session captured as a run, the store (SQLAlchemy, migrated by Alembic) and the
runs' wire models."""
